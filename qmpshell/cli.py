"""The composition root: parse options, build the objects, pick a front-end, return a status.

Nothing here knows how a reply is printed or a line parsed; it wires
``Settings``, ``Client``, ``Shell`` and the front-end together and turns any
``QmpShellError`` that escapes into one line and an exit status.
"""

from __future__ import annotations

import errno
import io
import os
import sys
import threading
from collections.abc import Iterable
from contextlib import ExitStack

from qmpshell import __version__
from qmpshell.batchrun import make_printer, run_batch, run_many
from qmpshell.config import Settings
from qmpshell.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    QmpShellError,
    Stopped,
    UsageError,
    stop_on_signals,
)
from qmpshell.options import Options, read_plain, settings_from, split_launch_argv
from qmpshell.printer import OutputClosed
from qmpshell.protocol.address import Address, wants_many
from qmpshell.protocol.session import make_client
from qmpshell.scriptlines import read_script, stdin_lines
from qmpshell.signals import SIGHUP, signal_name
from qmpshell.startup import (
    address_for,
    complain,
    explained,
    launch_for,
    launch_pair,
    load_base_settings,
    open_log,
    print_config,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.protocol.launch import LaunchedQemu
    from qmpshell.protocol.logfile import MessageLog


def entry() -> None:
    """The ``qmpshell`` command once loaded (``qmpshell.program``): ``main``, then leave at once.

    Tearing the interpreter down (collecting a hundred modules) takes about 5 ms,
    an eighth of a one-shot.  By the time ``main`` returns every file qmpshell
    opened is closed, QEMU (``--launch``) stopped and every thread of its own
    joined, so only the standard streams are left to flush.  The interactive
    shell leaves the ordinary way: prompt_toolkit may rely on interpreter exit.
    """
    status = main()
    if "prompt_toolkit" in sys.modules:
        sys.exit(status)

    for thread in threading.enumerate():  # the docs cache still being written: let it finish
        if thread.name == "qmpshell-docs" and not thread.daemon:
            thread.join()
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
    args = read_plain(options) or _parse_with_argparse(options)
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
        complain(f"interrupted by {signal_name(stop.signum)}")
        return stop.exit_status
    except Exception as err:  # noqa: BLE001 - the promise is one line, never a traceback
        if isinstance(err, OSError) and err.errno == errno.EIO:  # the terminal hung up under us
            complain("the terminal went away (input/output error)")
            return 128 + SIGHUP
        if os.environ.get("QMPSHELL_DEBUG"):
            raise
        complain(f"internal error: {type(err).__name__}: {err} (QMPSHELL_DEBUG=1 shows where)")
        return EXIT_FAILED


def _parse_with_argparse(options: list[str]) -> Options:
    """What the plain reading leaves to argparse (abbreviations, bad values, ``--help``)."""
    from qmpshell.usage import parse_with_argparse

    return parse_with_argparse(options)


def run(args: Options, settings: Settings, qemu_argv: list[str]) -> int:
    if args.command and args.file:  # W10: one script source; -f was silently not run
        raise UsageError("-c and -f cannot be combined: put the -c lines in the script, or run it twice")
    interactive = not (args.command or args.file) and sys.stdin.isatty() and sys.stdout.isatty()
    if args.hmp_coverage:
        return _hmp_coverage(args, settings)
    if args.proxy:
        return _proxy(args, settings, interactive)
    addresses = args.address or [os.environ.get("QMP_SOCKET") or settings.address or ""]
    if args.history_script is not None or args.replay or args.to_script:
        return _replay(args, settings, addresses, qemu_argv)
    if args.dry_run:
        return _dry_run(args, settings, addresses, qemu_argv)
    if args.launch_pair:
        return _run_pair(args, settings, qemu_argv, interactive=interactive)
    if interactive and wants_many(addresses) and not args.launch:
        return _run_several(settings, addresses)
    if wants_many(addresses) or (not interactive and not args.launch and _names_targets(args)):
        if interactive or args.launch:
            raise UsageError("several targets need batch mode (-c, -f or a script on stdin) and no --launch")
        return run_many(args, settings, addresses)
    with ExitStack() as stack:
        launched = launch_for(args, qemu_argv, stack)
        address = launched.start() if launched is not None else address_for(qemu_argv, addresses[0], settings)
        log = open_log(settings, stack)
        if interactive:
            return explained(launched, lambda: _run_interactive(address, settings, log, launched))
        return explained(launched, lambda: run_batch(args, settings, address, log))
    return EXIT_OK


def _run_several(settings: Settings, addresses: list[str]) -> int:
    """Several targets in one interactive session (``qmpshell.repl.fleet``)."""
    from qmpshell.targets import expand_targets

    named: list[tuple[str, Address]] = []
    for target in expand_targets(addresses, libvirt_uri=settings.libvirt_uri or ""):
        if target.problem is not None or target.address is None:
            raise target.problem or UsageError(f"no address for {target.label}")
        named.append((target.name, target.address))
    with ExitStack() as stack:
        log = open_log(settings, stack)
        return _run_interactive(named, settings, log, None)
    return EXIT_OK


def _run_pair(args: Options, settings: Settings, qemu_argv: list[str], *, interactive: bool) -> int:
    """--launch-pair: a migration's source and destination, launched, as two targets."""
    if args.launch or args.address:
        raise UsageError("--launch-pair starts its own two QEMUs: no --launch and no address")
    with ExitStack() as stack:
        named = launch_pair(qemu_argv, stack)
        if interactive:
            return _run_several(settings, named)
        return run_many(args, settings, named)
    return EXIT_OK


def _names_targets(args: Options) -> bool:
    """A ``-c`` line or ``-f`` script line that says ``@NAME``: a script run in order across targets,
    even against one (``qmpshell.batchorder``)."""
    from qmpshell.language.prefix import names_targets

    lines = args.command or (read_script(args.file) if args.file and args.file != "-" else [])
    return any(names_targets(line) for line in lines)


def _dry_run(args: Options, settings: Settings, addresses: list[str], qemu_argv: list[str]) -> int:
    """--dry-run: the JSON of every line; a server, when one is given, is asked only for its schema."""
    from qmpshell.dryrun import dry_run

    if len(addresses) > 1 or wants_many(addresses):
        raise UsageError("--dry-run reads one server's schema: give at most one address")
    printer = make_printer(settings)
    invalid: list[int] = []
    knowledge = _schema_only(args, settings, addresses[0], qemu_argv)
    if args.command:
        lines: Iterable[str] = args.command
    elif args.file and args.file != "-":
        lines = read_script(args.file)
    else:
        lines = stdin_lines(printer, invalid=invalid)
    try:
        one_per_line = bool(args.command)
        status = dry_run(
            lines,
            printer,
            knowledge=knowledge,
            hmp=settings.hmp,
            one_per_line=one_per_line,
            hmp_via=settings.hmp_via,
        )
    except OutputClosed:
        return EXIT_OK
    return max(status, EXIT_USAGE) if invalid else status  # W9: a line not UTF-8 is exit 2, as in a real run


def _proxy(args: Options, settings: Settings, interactive: bool) -> int:
    """--proxy LISTEN UPSTREAM: headless without a terminal, else with the shell (``qmpshell.proxy``)."""
    from qmpshell.proxy import modes

    listen, upstream = args.proxy
    if args.command or args.file or args.address or args.launch or args.dry_run:
        raise UsageError("--proxy LISTEN UPSTREAM takes no other address, script, --launch or --dry-run")
    with ExitStack() as stack:
        log = open_log(settings, stack)
        if not interactive:
            return modes.run_headless(listen, upstream, settings, log)

        def front_end(address: str, shell_log: MessageLog | None, watched: Any) -> int:
            where = address_for([], address, settings)
            return _run_interactive(where, settings._replace(reconnect=False), shell_log, None, watched)

        return modes.run_interactive(listen, upstream, settings, log, front_end)
    return EXIT_OK


def _replay(args: Options, settings: Settings, addresses: list[str], qemu_argv: list[str]) -> int:
    """--history-script, --to-script LOG, --replay LOG [-n]; a reader gone (``| head``) ends it quietly."""
    try:
        return _replay_mode(args, settings, addresses, qemu_argv)
    except BrokenPipeError:
        silence_stdout()
        return EXIT_OK


def _replay_mode(args: Options, settings: Settings, addresses: list[str], qemu_argv: list[str]) -> int:
    """The modes of ``qmpshell.replay``."""
    from qmpshell.replay import modes
    from qmpshell.replay.logs import read_log

    write = sys.stdout.write
    if args.history_script is not None:
        return modes.print_history_script(settings.history_file, args.history_script, write)
    if args.to_script or args.dry_run:
        knowledge = _schema_only(args, settings, addresses[0], qemu_argv)
        typer = knowledge.typer_for(modes.not_asked) if knowledge is not None else None
        return modes.print_script(args.to_script or args.replay, write, typer=typer)
    exchanges = read_log(args.replay)  # first: a log that cannot be read is exit 2 before connecting
    with ExitStack() as stack:
        launched = launch_for(args, qemu_argv, stack)
        address = launched.start() if launched is not None else address_for(qemu_argv, addresses[0], settings)
        log = open_log(settings, stack)
        options = modes.ReplayOptions(args.ignore, args.events)
        return explained(launched, lambda: modes.replay(exchanges, address, settings, log, options))
    return EXIT_OK


def _schema_only(args: Options, settings: Settings, text: str, qemu_argv: list[str]) -> Any:
    """The server's schema (from the cache, or its one query), or None: no address, or -N."""
    if not (text or args.launch) or not settings.negotiate:
        return None
    from qmpshell.schema.knowledge import knowledge_for, schema_timeout

    with ExitStack() as stack:
        launched = launch_for(args, qemu_argv, stack)
        address = launched.start() if launched is not None else address_for(qemu_argv, text, settings)
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


def _run_interactive(
    address: Address | list[tuple[str, Address]],
    settings: Settings,
    log: MessageLog | None,
    launched: LaunchedQemu | None,
    watched: Any = None,
) -> int:
    """The full-screen shell, or the line mode on a dumb or tiny terminal (or with --line);
    ``watched``: lines of others' traffic to show as they come (``--proxy``)."""
    from qmpshell.repl.opening import run_interactive

    return run_interactive(address, settings, log=log, launched=launched, watched=watched)


def _hmp_coverage(args: Options, settings: Settings) -> int:
    """--hmp-coverage [ADDRESS]: the HMP commands that run over QMP (qmpshell.hmp.coverage)."""
    from qmpshell.hmp.coverage import report, server_report
    from qmpshell.hmp.engine import command_names

    if not args.address:
        lines = report(None)
    else:
        if len(args.address) > 1:
            raise UsageError("--hmp-coverage takes one address")
        client = make_client(address_for([], args.address[0], settings), negotiate=settings.negotiate)
        client.connect()
        try:
            server = command_names(client.execute("query-commands"))

            def ask(line: str) -> str:
                return str(client.execute("human-monitor-command", {"command-line": line}) or "")

            lines = server_report(server, ask)
        finally:
            client.close()
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK
