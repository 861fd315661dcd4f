"""Batch mode put together: a printer, the script's source, and one run per target.

``run_batch`` runs a script (``-c`` lines, a ``-f`` file or stdin) against one
server; ``run_many`` against several (``qmpshell.targets``), each through
``run_target``: connect, build the ``Shell``, run, close.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

from qmpshell import __version__
from qmpshell.batch import run_lines, run_script
from qmpshell.config import Settings
from qmpshell.errors import EXIT_OK, EXIT_USAGE
from qmpshell.language.prefix import names_targets
from qmpshell.options import terminal_columns
from qmpshell.printer import OutputClosed, Printer
from qmpshell.protocol.address import Address
from qmpshell.protocol.events import EventLog
from qmpshell.protocol.session import QmpSession, make_client
from qmpshell.qmptypes import Message
from qmpshell.scriptlines import read_script, stdin_lines
from qmpshell.shell import Shell
from qmpshell.startup import open_log

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

    from qmpshell.options import Options
    from qmpshell.protocol.logfile import MessageLog
    from qmpshell.schema.knowledge import SchemaKnowledge
    from qmpshell.targets import Target

Source = Callable[[Shell, Printer], int]  # runs the script on one target's shell


def run_many(args: Options, settings: Settings, addresses: list[str]) -> int:
    """The script against every target (``qmpshell.targets``), one log file for all of them;
    in order across targets once a line names its target (``qmpshell.batchorder``)."""
    from qmpshell.targets import expand_targets, run_targets  # only here: one target never needs it

    printer = make_printer(settings)
    targets = expand_targets(addresses, libvirt_uri=settings.libvirt_uri or "")
    invalid: list[int] = []
    stdin = (
        None if args.command or (args.file and args.file != "-") else _whole_stdin(settings, printer, invalid)
    )
    lines = list(args.command) if args.command else read_script(args.file) if stdin is None else stdin
    with ExitStack() as stack:
        log = open_log(settings, stack)
        if any(names_targets(line) for line in lines):
            status = _run_ordered(args, settings, targets, lines, printer, log)
            return max(status, EXIT_USAGE) if invalid else status
        source = _source(args, settings, printer, whole=True, stdin=stdin, invalid=invalid)

        def run_one(address: Address, tagged: Printer) -> int:
            target_log = log.for_target(str(address)) if log is not None else None
            return run_target(address, settings, tagged, source, log=target_log, version=args.version)

        return run_targets(targets, run_one, printer, parallel=args.parallel)
    return EXIT_OK


def _whole_stdin(settings: Settings, printer: Printer, invalid: list[int]) -> list[str]:
    """stdin read to its end: a script for several targets is read whole before it runs."""
    return list(stdin_lines(printer, keep_going=settings.keep_going, invalid=invalid))


def _run_ordered(
    args: Options,
    settings: Settings,
    targets: list[Target],
    lines: list[str],
    printer: Printer,
    log: MessageLog | None,
) -> int:
    """A script with ``@NAME`` lines: every target connected, then the lines in order."""
    from qmpshell.batchorder import run_in_order, steps_of

    steps = list(steps_of(lines, hmp=settings.hmp, one_per_line=bool(args.command)))

    def open_one(target: Target, tagged: Printer) -> AbstractContextManager[Shell]:
        assert target.address is not None
        target_log = log.for_target(str(target.address)) if log is not None else None
        return open_target(target.address, settings, tagged, log=target_log, listen=True)

    return run_in_order(targets, steps, open_one, printer, keep_going=settings.keep_going)


def make_printer(settings: Settings) -> Printer:
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


def run_batch(args: Options, settings: Settings, address: Address, log: MessageLog | None) -> int:
    printer = make_printer(settings)
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
    try:
        with open_target(address, settings, printer, log=log) as shell:
            if version:
                printer.text(f"qmpshell {__version__}\n{_server_line(shell.client)}")
                return EXIT_OK
            return source(shell, printer)
    except OutputClosed:
        return EXIT_OK


@contextmanager
def open_target(
    address: Address, settings: Settings, printer: Printer, *, log: MessageLog | None, listen: bool = False
) -> Iterator[Shell]:
    """One target's connection and shell, for a script to run on; closed after.

    ``listen``: take events from the start (an ordered script's ``/wait`` on one
    target may follow the command on another that caused the event).
    """
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
        listen=listen
        or settings.show_events
        or log is not None,  # else from the first /wait (libvirt's cost)
        oob=settings.pipeline,
        probe=settings.probe,
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
            hmp_via=settings.hmp_via,
            timeout=settings.timeout,
            on_send=printer.sent if settings.verbose else None,
        )
        shell.qapi_dir, shell.docs_cache = settings.qapi_dir, settings.schema_cache
        shell.schema_cache = settings.schema_cache
        shell.probe = settings.probe
        shell.on_progress = printer.progress  # a /job's line, on a terminal only
        for warning in client.warnings:
            printer.error("", f"warning: {warning}")
        yield shell
    finally:
        client.close()


def _source(
    args: Options,
    settings: Settings,
    printer: Printer,
    *,
    whole: bool,
    stdin: list[str] | None = None,
    invalid: list[int] | None = None,
) -> Source:
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
    bad: list[int] = [] if invalid is None else invalid
    lines: Iterable[str] = (
        stdin
        if stdin is not None
        else stdin_lines(printer, keep_going=keep_going, invalid=bad, idle=not whole)
    )
    feed: Iterable[str] = list(lines) if whole else lines

    def run_stdin(shell: Shell, out: Printer) -> int:
        status = run_lines(shell, feed, out, keep_going=keep_going, pipeline=pipeline)
        return max(status, EXIT_USAGE) if bad else status

    return run_stdin


def _knowledge(client: QmpSession, settings: Settings, *, warn: Callable[[str], None]) -> Any:
    """The schema for typed values and help, read when a line first needs it (None with -N).

    Not with -N: the user negotiates by hand, so the shell must send nothing of its own.
    """
    if not settings.negotiate:
        return None
    from qmpshell.schema.deferred import LazyKnowledge  # here: nothing of the schema is loaded with -N

    def load() -> SchemaKnowledge | None:
        from qmpshell.schema.knowledge import knowledge_for, schema_timeout  # a line needs the schema

        timeout = schema_timeout(settings.timeout)
        return knowledge_for(client, use_cache=settings.schema_cache, warn=warn, timeout=timeout)

    return LazyKnowledge(load)


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


def _server_line(client: QmpSession) -> str:
    """``--version``'s second line: ``QEMU 7.2.22 (package)``, or ``qemu-ga 7.2.22`` for a guest agent."""
    if client.agent:
        from qmpshell.protocol.server import identify  # only for a guest agent: its guest-info

        return identify(client).label
    return f"QEMU {client.server_version or 'unknown'}"
