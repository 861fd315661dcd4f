"""Batch mode: scripts, ``-c`` lines and pipes; no prompt, no colour, JSON lines.

stdout carries one JSON document per reply (the server's response without the
id the shell added), or with ``--format human`` the views people read (tables,
trees, text; imported only then); every failure also writes ``qmpshell: LINE:
what`` to stderr.  The worst failure decides the exit status (see ``qmpshell.errors``).
This module never imports prompt_toolkit, so batch mode starts fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from qmpshell.errors import EXIT_OK, EXIT_USAGE, ConnectionLost, ParseError, QmpShellError
from qmpshell.language.requests import QmpRequest, Request, ShellRequest
from qmpshell.language.statements import Statement, read_statements
from qmpshell.outcomes import (
    EventSeen,
    Exit,
    FrontEndCommand,
    HmpOutput,
    Info,
    Outcome,
    ProgramOutput,
    Reply,
)
from qmpshell.output.render import error_summary, hmp_text
from qmpshell.output.safe import with_caret
from qmpshell.pipeline import DEPTH, NotSent, Overtake, ParseLater, Pipeline, parse_ahead
from qmpshell.printer import Printer
from qmpshell.protocol.framing import InvalidJson
from qmpshell.shell import Shell, Started

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.qmptypes import Message


IDLE = ""  # in the lines of a pipelined stdin: nothing more is ready yet (see scriptlines.stdin_lines)


class Runner:
    """Runs a script's requests and prints their outcomes in script order; the worst status wins.

    With ``pipeline`` (``-k`` or ``--pipeline``), when the server negotiated
    ``oob``, up to eight commands are in flight at once (``qmpshell.pipeline``);
    otherwise one: each is sent once the one before has finished, and meanwhile
    the next line is read and parsed.  After a failure without ``-k`` nothing
    more is sent, but the replies of commands already sent are still shown.
    """

    def __init__(self, shell: Shell, printer: Printer, *, keep_going: bool, pipeline: bool = False) -> None:
        self.shell, self.printer, self.keep_going = shell, printer, keep_going
        self.status = EXIT_OK
        self.stopped = False  # send nothing more
        self._ended = False  # the connection is gone (or /quit): in-flight outcomes are not shown
        deep = pipeline and shell.client.oob
        depth, stopped = DEPTH if deep else 1, lambda: self.stopped
        self._pipeline = Pipeline(shell, self._finished, stopped=stopped, depth=depth, announce=not deep)

    @property
    def reads_ahead(self) -> bool:
        """A command is in flight whose failure would stop the run: the next statement is parsed
        ahead (``pipeline.parse_ahead``), asking QEMU nothing on its account yet."""
        return not self.keep_going and len(self._pipeline) > 0

    def run(self, statement: Statement, request: Request) -> None:
        self.shell.client.caller_reads = True  # this thread reads its replies (``protocol.reading``)
        try:
            if self._pipeline.send(statement, request):
                return
        except NotSent as failure:
            self.flush()
            err = failure.error
            self._account(report(self.printer, statement, err), isinstance(err, ConnectionLost))
            return
        if self.stopped:  # finishing those in flight stopped the run
            return
        self._account(*run_one(self.shell, statement, request, self.printer))

    def failed(self, statement: Statement, err: QmpShellError) -> None:
        """A statement that does not parse, reported after the outcomes of those before it
        (not at all when one of them stopped the run: it would not have been parsed)."""
        self.flush()
        if not self.stopped:
            self._account(report(self.printer, statement, err), False)

    def flush(self) -> None:
        """Finish and show everything in flight."""
        self._pipeline.drain()

    def idle(self) -> None:
        """Nothing more to run for now (stdin has no line ready): finish what is in flight, and let
        the reader thread read while this one waits (events are then seen, and shown, at once)."""
        self.flush()
        self.shell.client.caller_reads = False

    def _finished(self, statement: Statement, started: Started, overtake: Overtake | None) -> None:
        if self._ended:
            return
        if self.printer.verbose and not self._pipeline.announce:
            self.printer.sent(started.pending.sent)  # -v: just before its reply
        answered = None if overtake is None else self._overtaking(started, overtake)
        try:
            outcome = self.shell.finish(started, answered=answered)
        except QmpShellError as err:
            self._account(report(self.printer, statement, err), isinstance(err, ConnectionLost))
            return
        finally:
            _warn(self.shell, statement, self.printer)
        self._account(show(self.shell, statement, outcome, self.printer), isinstance(outcome, Exit))

    def _overtaking(self, started: Started, overtake: Overtake) -> Callable[[Message], None] | None:
        """What sends the next command once this reply is in, before it is shown, when that is
        safe: a QMP reply that is no error cannot stop the run; a ``-v`` or ``--events`` line
        could move, so not with those."""
        if self.printer.verbose or self.printer.events or not isinstance(started.request, QmpRequest):
            return None

        def answered(response: Message) -> None:
            if "error" not in response:
                overtake()

        return answered

    def _account(self, status: int, end: bool) -> None:
        self.status = max(self.status, status)
        self._ended = self._ended or end
        self.stopped = self.stopped or end or bool(status and not self.keep_going)


def run_lines(
    shell: Shell, lines: Iterable[str], printer: Printer, *, keep_going: bool, pipeline: bool = False
) -> int:
    """Run statements as they arrive (stdin): each is parsed when it arrives, which is while the
    command before it runs if that is still in flight (``Runner.reads_ahead``).

    An ``IDLE`` line (nothing more ready on stdin) finishes what is in flight,
    so a program that drives qmpshell through a pipe gets every reply it waits for.
    """
    runner = Runner(shell, printer, keep_going=keep_going, pipeline=pipeline)
    for statement in read_statements(_flushed_when_idle(lines, runner), hmp=shell.hmp):
        try:
            request = _parsed(shell, statement, runner)
        except QmpShellError as err:
            runner.failed(statement, err)
        else:
            if request is not None:
                runner.run(statement, request)
        if runner.stopped:
            break
    runner.idle()
    return runner.status


def _parsed(shell: Shell, statement: Statement, runner: Runner) -> Request | None:
    """The statement's request: parsed ahead while the command before it runs, when it can be."""
    if runner.reads_ahead:
        try:
            return parse_ahead(shell, statement.text)
        except ParseLater:
            runner.flush()
            if runner.stopped:
                return None
    return shell.parse(statement.text)


def _flushed_when_idle(lines: Iterable[str], runner: Runner) -> Iterator[str]:
    for line in lines:
        if line == IDLE:
            runner.idle()
        else:
            yield line


def run_script(
    shell: Shell,
    lines: Iterable[str],
    printer: Printer,
    *,
    keep_going: bool,
    one_per_line: bool = False,
    pipeline: bool = False,
) -> int:
    """Run a ``-f FILE`` or ``-c`` script: nothing runs unless every statement parses.

    With ``one_per_line`` (``-c``) each line is a whole statement of its own.
    """
    if one_per_line:
        statements: Iterable[Statement] = [Statement(n, text) for n, text in enumerate(lines, start=1)]
    else:
        statements = read_statements(lines, hmp=shell.hmp)
    parsed = list(parse_all(shell, statements, printer))
    if any(request is None and statement is not None for statement, request in parsed):
        return EXIT_USAGE
    runner = Runner(shell, printer, keep_going=keep_going, pipeline=pipeline)
    for statement, request in parsed:
        if request is PARSE_LATER or (request is not None and _typed_by_what_runs_before(request)):
            request = _typed_again(shell, statement, runner)
        if request is not None:
            runner.run(statement, request)
        if runner.stopped:
            break
    runner.flush()
    return runner.status


PARSE_LATER = ShellRequest("")  # a statement after /schema reload: parsed just before it runs


def _typed_by_what_runs_before(request: Request) -> bool:
    """``qom-set value=`` is typed by the property's type on its path, which the script may create."""
    return isinstance(request, QmpRequest) and request.command == "qom-set"


def _typed_again(shell: Shell, statement: Statement, runner: Runner) -> Request | None:
    """Parse a statement again just before it runs, once what comes before it has run."""
    runner.flush()
    try:
        return shell.parse(statement.text)
    except QmpShellError as err:
        runner.failed(statement, err)
        return None


def parse_all(
    shell: Shell, statements: Iterable[Statement], printer: Printer
) -> Iterator[tuple[Statement, Request | None]]:
    """Parse every statement, following ``/hmp`` and ``/qmp`` mode switches as they will run."""
    start_mode = shell.hmp
    reloaded = False  # after /schema reload the schema is another: what follows is parsed as it runs
    try:
        for statement in statements:
            if reloaded:
                yield statement, PARSE_LATER
                continue
            try:
                request = shell.parse(statement.text)
            except QmpShellError as err:
                report(printer, statement, err)
                yield statement, None
                continue
            if isinstance(request, ShellRequest) and request.name in ("hmp", "qmp") and not request.rest:
                shell.hmp = request.name == "hmp"
            if request is not None:
                yield statement, request
            reloaded = isinstance(request, ShellRequest) and request.name == "schema" and bool(request.words)
    finally:
        shell.hmp = start_mode


def run_one(shell: Shell, statement: Statement, request: Request, printer: Printer) -> tuple[int, bool]:
    """Run one request and print its outcome; returns (exit status, stop the run)."""
    try:
        outcome = shell.run(request)
    except QmpShellError as err:
        return report(printer, statement, err), isinstance(err, ConnectionLost)
    finally:
        _warn(shell, statement, printer)
    return show(shell, statement, outcome, printer), isinstance(outcome, Exit)


def _warn(shell: Shell, statement: Statement, printer: Printer) -> None:
    for warning in shell.warnings.drain():
        printer.error(f"{statement.lineno}: ", f"warning: {warning}")


def show(shell: Shell, statement: Statement, outcome: Outcome, printer: Printer) -> int:
    """Print an outcome for a script; returns its exit status."""
    where = f"{statement.lineno}: "
    if isinstance(outcome, Reply):
        return _show_reply(outcome, where, printer, shell)
    if isinstance(outcome, HmpOutput):
        if outcome.error:
            printer.error(where, f"HMP: {hmp_text(outcome.text).strip()}")
            return 1
        if outcome.text:
            printer.text(hmp_text(outcome.text))
        elif outcome.ok:
            printer.text("ok")  # a translated command whose reply was {} (HMP prints nothing)
    elif isinstance(outcome, EventSeen) and not (printer.json_only or printer.events):
        printer.show_event(outcome.event)
    elif isinstance(outcome, Info):
        printer.text(outcome.text)
    elif isinstance(outcome, FrontEndCommand) and outcome.request.name == "migrate":  # one target
        printer.error(where, "/migrate SRC DST [URI] needs two targets")
        return EXIT_USAGE
    elif isinstance(outcome, ProgramOutput):
        return _show_program(outcome, where, printer)
    elif isinstance(outcome, FrontEndCommand) and outcome.request.name == "format":
        if outcome.request.words:
            printer.human = outcome.request.words[0] == "auto"
    return EXIT_OK


def _show_program(ran: ProgramOutput, where: str, printer: Printer) -> int:
    """``/guest-exec``: the program's stdout on stdout, its stderr on stderr, 1 unless it exited 0."""
    printer.raw(ran.stdout, printer.out)
    printer.raw(ran.stderr, printer.err)
    if ran.ending:
        printer.error(where, f"/guest-exec: {ran.ending}")
    return EXIT_OK if ran.ok else 1


def _show_reply(reply: Reply, where: str, printer: Printer, shell: Shell) -> int:
    """The reply on stdout (its view, or JSON); an error also as one line on stderr."""
    if printer.human:  # an error's view too: ``error: CLASS: desc`` and the hint
        from qmpshell.schema.index import index_of  # the views' types; JSON lines need no schema

        printer.view(reply, index_of(shell.knowledge))
    elif reply.ok or not printer.json_only:
        printer.json(reply.response.get("return") if printer.json_only else reply.response)
    if reply.ok:
        if reply.hint and not printer.human:  # stdout stays JSON: the guest's part goes to stderr
            printer.error(where, reply.hint)
        return EXIT_OK
    hint = f" ({reply.hint})" if reply.hint else ""
    printer.error(where, error_summary(reply.response) + hint)
    return 1


def report(printer: Printer, statement: Statement, err: QmpShellError) -> int:
    """One clear line on stderr (three for a parse error: the text and a caret)."""
    where = f"{statement.lineno}: " if statement.lineno else ""
    if isinstance(err, InvalidJson) and where:  # the connection's fault: issue 13's words first
        printer.error("", f"{err}; the connection ended during line {statement.lineno}")
    elif isinstance(err, ParseError):
        printer.error(where, with_caret(err.what, err.text, err.column))
    else:
        printer.error(where, str(err))
    return err.exit_status
