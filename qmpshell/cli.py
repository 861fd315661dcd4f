"""The composition root: parse options, build the objects, pick a front-end, return a status.

Nothing here knows how a reply is printed or a line parsed; it wires
``Settings``, ``Client``, ``Shell`` and the front-end together and turns any
``QmpShellError`` that escapes into one line and an exit status.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import IO, TYPE_CHECKING, Any

from qmpshell import __version__
from qmpshell.batch import IDLE, OutputClosed, Printer, run_lines, run_script
from qmpshell.config import Settings, default_config_file
from qmpshell.errors import (
    EXIT_CONNECTION,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    STOP_SIGNALS,
    ConnectionFailed,
    QmpShellError,
    Stopped,
    UsageError,
)
from qmpshell.options import build_parser, settings_from, split_launch_argv, terminal_columns
from qmpshell.protocol.address import Address, parse_address, wants_many
from qmpshell.protocol.events import EventLog
from qmpshell.protocol.session import QmpSession, make_client
from qmpshell.qmptypes import Message
from qmpshell.shell import Shell

if TYPE_CHECKING:
    from qmpshell.protocol.launch import LaunchedQemu
    from qmpshell.protocol.logfile import MessageLog

Source = Callable[[Shell, Printer], int]  # runs the script on one target's shell


def entry() -> None:
    """The ``qmpshell`` command (and ``python -m qmpshell``): ``main``, then leave at once.

    Tearing the interpreter down (collecting a hundred modules) takes about 5 ms,
    an eighth of a one-shot.  By the time ``main`` returns every file qmpshell
    opened is closed, QEMU (``--launch``) stopped and every thread of its own
    joined, so only the standard streams are left to flush.  The interactive
    shell leaves the ordinary way: prompt_toolkit may rely on interpreter exit.
    """
    status = main()
    if "prompt_toolkit" in sys.modules:
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass  # closed early (| head -1) or gone: nothing more can be said there
    os._exit(status)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``qmpshell`` command."""
    standard_streams()
    try:
        return _main(argv)
    finally:
        _flush_stdout()


def standard_streams() -> None:
    """Closed stdin, stdout or stderr (``<&-``, ``>&-``, ``2>&-``) become /dev/null.

    Otherwise the next socket or file opened would take descriptor 0, 1 or 2,
    and output meant for a person could land in it; Python itself sets the
    closed streams to None.  So: empty input, discarded output, and the exit
    status of the commands as always.  Text that no UTF-8 can hold (a lone
    surrogate such as ``\\ud800`` in a server's JSON) is written escaped, never a crash.
    """
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115
    if isinstance(sys.stdout, io.TextIOWrapper):  # a lone surrogate from a server, written as \ud800
        sys.stdout.reconfigure(errors="backslashreplace")


def _flush_stdout() -> None:
    """Flush now, so that a reader gone away (``| head -1``) is never reported at exit."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        silence_stdout()


def silence_stdout() -> None:
    """Point descriptor 1 at /dev/null: what Python still holds for it is flushed into nothing."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def _main(argv: list[str] | None) -> int:
    options, qemu_argv = split_launch_argv(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_intermixed_args(options)  # addresses may come before and after options
    if args.version and not args.command:
        print(f"qmpshell {__version__}")
        return EXIT_OK
    try:
        with stop_on_signals():
            settings = settings_from(args, load_base_settings())
            if args.print_config:
                return print_config(settings)
            return run(args, settings, qemu_argv)
    except QmpShellError as err:
        complain(str(err))
        return err.exit_status
    except KeyboardInterrupt:
        complain("interrupted")
        return EXIT_INTERRUPTED
    except Stopped as stop:
        complain(f"interrupted by {signal.Signals(stop.signum).name}")
        return stop.exit_status
    except Exception as err:  # noqa: BLE001 - the promise is one line, never a traceback
        if os.environ.get("QMPSHELL_DEBUG"):
            raise
        complain(f"internal error: {type(err).__name__}: {err} (QMPSHELL_DEBUG=1 shows where)")
        return EXIT_FAILED


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM, SIGHUP and SIGQUIT raise ``Stopped``, so that everything is cleaned up on the way out
    (the launched QEMU, its directory, the log); only the first: a second must not cut that short.
    The interactive shell handles them itself, on its event loop, and leaves like Ctrl-D."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping: list[int] = []

    def stop(signum: int, frame: object) -> None:
        if not stopping:
            stopping.append(signum)
            raise Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def complain(text: str) -> None:
    """``qmpshell: TEXT`` on stderr, control characters shown; nothing when stderr is closed."""
    from qmpshell.output.safe import visible

    try:
        if sys.stderr is not None:
            sys.stderr.write(visible(f"qmpshell: {text}") + "\n")
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

    sys.stdout.write(config_text(settings))
    return EXIT_OK


def run(args: argparse.Namespace, settings: Settings, qemu_argv: list[str]) -> int:
    interactive = not (args.command or args.file) and sys.stdin.isatty() and sys.stdout.isatty()
    addresses = args.address or [os.environ.get("QMP_SOCKET") or settings.address or ""]
    if args.dry_run:
        return _dry_run(args, settings, addresses, qemu_argv)
    if wants_many(addresses):
        if interactive or args.launch:
            raise UsageError("several targets need batch mode (-c, -f or a script on stdin) and no --launch")
        return _run_many(args, settings, addresses)
    with ExitStack() as stack:
        launched = _launch(args, qemu_argv, stack)
        address = launched.start() if launched is not None else _address(qemu_argv, addresses[0], settings)
        log = open_log(settings, stack)
        if interactive:
            return _explained(launched, lambda: _run_interactive(address, settings, log, launched))
        return _explained(launched, lambda: _run_batch(args, settings, address, log))
    return EXIT_OK


def _dry_run(args: argparse.Namespace, settings: Settings, addresses: list[str], qemu_argv: list[str]) -> int:
    """--dry-run: the JSON of every line; a server, when one is given, is asked only for its schema."""
    from qmpshell.dryrun import dry_run

    if len(addresses) > 1 or wants_many(addresses):
        raise UsageError("--dry-run reads one server's schema: give at most one address")
    printer = _printer(settings)
    knowledge = _schema_only(args, settings, addresses[0], qemu_argv)
    if args.command:
        lines: Iterable[str] = args.command
    elif args.file and args.file != "-":
        lines = read_script(args.file)
    else:
        lines = stdin_lines(printer)
    try:
        return dry_run(lines, printer, knowledge=knowledge, hmp=settings.hmp, one_per_line=bool(args.command))
    except OutputClosed:
        return EXIT_OK


def _schema_only(args: argparse.Namespace, settings: Settings, text: str, qemu_argv: list[str]) -> Any:
    """The server's schema (from the cache, or its one query), or None: no address, or -N."""
    if not (text or args.launch) or not settings.negotiate:
        return None
    from qmpshell.schema.knowledge import knowledge_for, schema_timeout

    with ExitStack() as stack:
        launched = _launch(args, qemu_argv, stack)
        address = launched.start() if launched is not None else _address(qemu_argv, text, settings)
        client = make_client(
            address,
            log=open_log(settings, stack),
            connect_timeout=settings.connect_timeout,
            listen=False,
        )
        client.connect()
        try:
            return knowledge_for(
                client,
                use_cache=settings.schema_cache,
                warn=lambda text: complain(f"warning: {text}"),
                timeout=schema_timeout(settings.timeout),
            )
        finally:
            client.close()


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


def _explained(launched: LaunchedQemu | None, front_end: Callable[[], int]) -> int:
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


def _run_interactive(
    address: Address, settings: Settings, log: MessageLog | None, launched: LaunchedQemu | None
) -> int:
    """The full-screen shell, or the line mode on a dumb or tiny terminal (or with --line)."""
    from qmpshell.repl.linemode import run_line_mode, wants_line_mode

    if wants_line_mode(settings, environ=os.environ, size=os.get_terminal_size(sys.stdout.fileno())):
        return run_line_mode(address, settings, log=log, launched=launched)
    from qmpshell.repl.app import run_repl

    return run_repl(address, settings, log=log, launched=launched)


def _launch(args: argparse.Namespace, qemu_argv: list[str], stack: ExitStack) -> LaunchedQemu | None:
    """--launch: the QEMU to start, stopped (and its directory removed) however the shell ends."""
    if not args.launch:
        return None
    from qmpshell.protocol.launch import LaunchedQemu  # subprocess and tempfile only when launching

    qemu = LaunchedQemu(qemu_argv or None)
    stack.callback(qemu.stop)
    return qemu


def _address(qemu_argv: list[str], text: str, settings: Settings) -> Address:
    """Where to connect: the address given, $QMP_SOCKET or the config's."""
    if qemu_argv:
        raise UsageError("QEMU arguments after '--' need --launch")
    return parse_address(text, libvirt_uri=settings.libvirt_uri or "")


def _run_many(args: argparse.Namespace, settings: Settings, addresses: list[str]) -> int:
    """The script against every target (``qmpshell.targets``), one log file for all of them."""
    from qmpshell.targets import expand_targets, run_targets  # only here: one target never needs it

    printer = _printer(settings)
    targets = expand_targets(addresses, libvirt_uri=settings.libvirt_uri or "")
    source = _source(args, settings, printer, whole=True)
    with ExitStack() as stack:
        log = open_log(settings, stack)

        def run_one(address: Address, tagged: Printer) -> int:
            target_log = log.for_target(str(address)) if log is not None else None
            return run_target(address, settings, tagged, source, log=target_log, version=args.version)

        return run_targets(targets, run_one, printer, parallel=args.parallel)
    return EXIT_OK


def _printer(settings: Settings) -> Printer:
    return Printer(
        sys.stdout,
        sys.stderr,
        pretty=settings.pretty,
        color=use_color(settings.color, sys.stdout),
        json_only=settings.json_only,
        verbose=settings.verbose,
        events=settings.show_events,
        human=settings.batch_format == "human",
        width=terminal_columns(fallback=100),
    )


def _run_batch(args: argparse.Namespace, settings: Settings, address: Address, log: MessageLog | None) -> int:
    printer = _printer(settings)
    source = _source(args, settings, printer, whole=False)
    return run_target(address, settings, printer, source, log=log, version=args.version)


def run_target(
    address: Address,
    settings: Settings,
    printer: Printer,
    source: Source,
    *,
    log: MessageLog | None,
    version: bool = False,
) -> int:
    """Connect to one target, run the script there and print what happens; the exit status."""
    events = EventLog()
    sinks: list[Callable[[Message], None]] = [events.add]
    if settings.show_events:
        sinks.append(printer.event)
    client = make_client(
        address,
        on_event=fan_out(sinks),
        on_disconnect=lambda lost: events.connection_ended(str(lost)),
        log=log,
        negotiate=settings.negotiate,
        connect_timeout=settings.connect_timeout,
        listen=settings.show_events or log is not None,  # else from the first /wait (libvirt's cost)
        oob=settings.pipeline,
    )
    if settings.verbose:
        client.on_own_send = printer.own_sent
    client.connect()
    try:
        shell = Shell(
            client,
            events,
            knowledge=_knowledge(client, settings, warn=lambda text: printer.error("", f"warning: {text}")),
            hmp=settings.hmp,
            timeout=settings.timeout,
            on_send=printer.sent if settings.verbose else None,
        )
        shell.probe = settings.probe
        for warning in client.warnings:
            printer.error("", f"warning: {warning}")
        if version:
            printer.text(f"qmpshell {__version__}\nQEMU {client.server_version or 'unknown'}")
            return EXIT_OK
        return source(shell, printer)
    except OutputClosed:
        return EXIT_OK
    finally:
        client.close()


def _source(args: argparse.Namespace, settings: Settings, printer: Printer, *, whole: bool) -> Source:
    """The script to run: ``-c`` lines, a file, or stdin (read ``whole`` first when there are several
    targets; else line by line as it arrives)."""
    keep_going, pipeline = settings.keep_going, settings.pipeline
    if args.command:
        commands = list(args.command)
        return lambda shell, out: run_script(
            shell, commands, out, keep_going=keep_going, one_per_line=True, pipeline=pipeline
        )
    if args.file and args.file != "-":
        script = read_script(args.file)
        return lambda shell, out: run_script(shell, script, out, keep_going=keep_going, pipeline=pipeline)
    invalid: list[int] = []
    lines = stdin_lines(printer, keep_going=keep_going, invalid=invalid, idle=pipeline and not whole)
    stdin: Iterable[str] = list(lines) if whole else lines

    def run_stdin(shell: Shell, out: Printer) -> int:
        status = run_lines(shell, stdin, out, keep_going=keep_going, pipeline=pipeline)
        return max(status, EXIT_USAGE) if invalid else status

    return run_stdin


def _knowledge(client: QmpSession, settings: Settings, *, warn: Callable[[str], None]) -> Any:
    """The schema for typed values and help, read when a line first needs it (None with -N).

    Not with -N: the user negotiates by hand, so the shell must send nothing of its own.
    """
    if not settings.negotiate:
        return None
    from qmpshell.schema.knowledge import (  # here: nothing of the schema is loaded with -N
        lazy_knowledge_for,
        schema_timeout,
    )

    return lazy_knowledge_for(
        client, use_cache=settings.schema_cache, warn=warn, timeout=schema_timeout(settings.timeout)
    )


def fan_out(sinks: list[Callable[[Message], None]]) -> Callable[[Message], None]:
    """One event callback that feeds each sink in turn."""

    def deliver(event: Message) -> None:
        for sink in sinks:
            sink(event)

    return deliver


def use_color(setting: str, stream: IO[str]) -> bool:
    """--color=always wins; auto means a terminal and no $NO_COLOR."""
    if setting == "always":
        return True
    if setting == "never" or os.environ.get("NO_COLOR"):
        return False
    return stream.isatty()


_BOM = b"\xef\xbb\xbf"  # UTF-8 byte-order mark, which some editors put first


def read_script(path: str) -> list[str]:
    """The lines of a script file; bad UTF-8 is a usage error naming the line."""
    try:
        with open(path, "rb") as file:
            raw_lines = file.read().removeprefix(_BOM).split(b"\n")
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from err
    return [_decode_line(raw, f"{path}:{number}") for number, raw in enumerate(raw_lines, start=1)]


def _decode_line(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"{where}: invalid UTF-8 at byte {err.start + 1}") from None


def _stdin_raw_lines(*, idle: bool) -> Iterator[bytes]:
    """stdin's lines as bytes; with ``idle``, b"" each time no more is ready without waiting."""
    if not idle:
        yield from sys.stdin.buffer
        return
    import select  # here: only a pipelined stdin needs to know whether a read would wait

    fd, pieces = sys.stdin.fileno(), []
    while True:
        if not select.select([fd], [], [], 0)[0]:
            yield b""
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pieces.append(chunk)
        if b"\n" in chunk:
            *lines, rest = b"".join(pieces).split(b"\n")
            pieces = [rest] if rest else []
            yield from (line + b"\n" for line in lines)
    if pieces:
        yield b"".join(pieces)


def stdin_lines(
    printer: Printer, *, keep_going: bool = False, invalid: list[int] | None = None, idle: bool = False
) -> Iterator[str]:
    """stdin line by line as it arrives; an undecodable line is reported and its number added
    to ``invalid`` (exit status 2); it ends the input unless ``keep_going``, when it is skipped.

    With ``idle``, ``batch.IDLE`` comes whenever nothing more is ready to read (pipelining then
    finishes what is in flight before it waits for more input)."""
    number = 0
    for raw in _stdin_raw_lines(idle=idle):
        if not raw:
            yield IDLE
            continue
        number += 1
        if number == 1:
            raw = raw.removeprefix(_BOM)  # an editor's byte-order mark is not a command
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as err:
            skipped = "; line skipped" if keep_going else ""
            printer.error(f"{number}: ", f"invalid UTF-8 at byte {err.start + 1}{skipped}")
            if invalid is not None:
                invalid.append(number)
            if not keep_going:
                return
            yield "#"
