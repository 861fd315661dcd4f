"""What every mode needs at start: the settings, the message log, ``--launch``, the address,
and one line on stderr for whatever goes wrong (``complain``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import ExitStack

from qmpshell.config import Settings, default_config_file
from qmpshell.errors import EXIT_CONNECTION, EXIT_OK, ConnectionFailed, UsageError
from qmpshell.protocol.address import Address, parse_address
from qmpshell.protocol.naming import split_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.options import Options
    from qmpshell.protocol.launch import LaunchedQemu
    from qmpshell.protocol.logfile import MessageLog


def complain(text: str) -> None:
    """``qmpshell: TEXT`` on stderr, control characters shown; nothing when stderr is closed."""
    from qmpshell.language.redact import redact_url_credentials
    from qmpshell.output.safe import visible

    try:
        if sys.stderr is not None:  # a libvirt URI's password, as any URL's, never shown
            sys.stderr.write(visible(redact_url_credentials(f"qmpshell: {text}")) + "\n")
            sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr closed (2>&-) or gone: the exit status still says what happened


def load_base_settings() -> Settings:
    """The defaults, with the user's config file applied when there is one.

    Without a file, the module that reads and checks one (and its TOML parser) is not imported.
    """
    try:
        os.stat(default_config_file())
    except FileNotFoundError:
        return Settings()
    except OSError:
        pass  # unreadable: load_config says why
    from qmpshell.configfile import load_config

    return load_config()


def print_config(settings: Settings) -> int:
    """--print-config: the effective settings in the config file's own format."""
    from qmpshell.configfile import config_text
    from qmpshell.language.redact import redact_url_credentials

    sys.stdout.write(redact_url_credentials(config_text(settings)))  # a libvirt URI's password
    return EXIT_OK


def open_log(settings: Settings, stack: ExitStack) -> MessageLog | None:
    """The ``--logfile``, closed when ``stack`` ends, saying then how many records were lost, if any."""
    if not settings.logfile:
        return None
    from qmpshell.protocol.logfile import MessageLog  # here: datetime and redaction only with -l

    log = MessageLog.open(settings.logfile, warn=lambda text: complain(f"warning: {text}"))

    def close() -> None:
        if lost := log.close():
            complain(f"warning: {lost}")

    stack.callback(close)
    return log


def explained(launched: LaunchedQemu | None, front_end: Callable[[], int]) -> int:
    """Run the front-end; when the connection failed because the launched QEMU exited, say what
    QEMU said (``QEMU exited (status 1): ...``)."""
    try:
        status = front_end()
    except ConnectionFailed as err:
        if launched is not None and launched.exited(wait=1.0):
            raise ConnectionFailed(launched.exit_message()) from err
        raise
    if status == EXIT_CONNECTION and launched is not None and launched.exited(wait=1.0):
        complain(launched.exit_message())
    return status


def launch_pair(qemu_argv: list[str], stack: ExitStack) -> list[str]:
    """--launch-pair: two QEMUs from one argv, the second with ``-incoming defer``, each on a
    private socket and stopped however the shell ends; their addresses as ``src=`` and ``dst=``."""
    from qmpshell.protocol.launch import DEFAULT_QEMU, LaunchedQemu

    argv = qemu_argv or DEFAULT_QEMU
    named = []
    for name, extra in (("src", []), ("dst", ["-incoming", "defer"])):
        qemu = LaunchedQemu([*argv, *extra])
        stack.callback(qemu.stop)
        named.append(f"{name}={qemu.start().path}")
    return named


def launch_for(args: Options, qemu_argv: list[str], stack: ExitStack) -> LaunchedQemu | None:
    """--launch: the QEMU to start, stopped (and its directory removed) however the shell ends."""
    if not args.launch:
        return None
    from qmpshell.protocol.launch import LaunchedQemu  # subprocess and tempfile only when launching

    qemu = LaunchedQemu(qemu_argv or None)
    stack.callback(qemu.stop)
    return qemu


def address_for(qemu_argv: list[str], text: str, settings: Settings) -> Address:
    """Where to connect: the address given (``NAME=`` before it is its name), $QMP_SOCKET or the config's."""
    if qemu_argv:
        raise UsageError("QEMU arguments after '--' need --launch")
    return parse_address(split_name(text)[1], libvirt_uri=settings.libvirt_uri or "")
