"""Pipelining: several commands in flight at once, finished in the order they were sent.

QEMU queues up to eight commands of a client that negotiated ``oob`` (its
``QMP_REQ_QUEUE_LEN_MAX``) and reads the next ones while a command executes, so
a script need not wait for each reply before it sends the next line.  In-band
replies still come in the order of the commands, and each is routed by its id.
A request that is more than one message (``/wait``, ``/hmp`` and ``/qmp``, HMP
``cpu N``, ``/help``: see ``language.requests.message_for``) is a barrier: everything in
flight is finished before it runs.

A strict script (no ``-k``) runs through a pipeline one deep: each command is
sent once the one before it has finished well, but the next line is read and
parsed (``parse_ahead``) while QEMU runs the command, instead of after.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from qmpshell.errors import QmpShellError
from qmpshell.language.parse import parse_statement
from qmpshell.language.requests import Request, hmp_line_of
from qmpshell.language.statements import Statement
from qmpshell.qmptypes import Message
from qmpshell.shell import Prepared, Shell, Started

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.language.untyped import ArgTree, ArgumentTyper

DEPTH = 8  # QEMU's queue per client with oob on; more would only wait in the socket

Overtake = Callable[[], None]  # sends the next request now (see ``Pipeline.send``)
# Waits for one reply and shows it; given an ``Overtake``, calls it between the two when the reply
# is in and nothing showing it can stop the run.
Finish = Callable[[Statement, Started, Overtake | None], None]


class Pipeline:
    """Requests sent and not yet finished, oldest first; ``finish`` is called in that order."""

    def __init__(
        self,
        shell: Shell,
        finish: Finish,
        *,
        stopped: Callable[[], bool],
        depth: int = DEPTH,
        announce: bool = False,
    ) -> None:
        self.shell = shell
        self.depth = depth
        self.announce = announce  # -v lines said as each is sent (one deep), else as each finishes
        self._finish = finish
        self._stopped = stopped  # a reply finished to make room stopped the run: send nothing more
        self._window: deque[tuple[Statement, Started]] = deque()

    def __len__(self) -> int:
        """How many are in flight."""
        return len(self._window)

    def send(self, statement: Statement, request: Request) -> bool:
        """Send ``request`` behind those in flight (finishing the oldest while ``depth`` are).

        The finish that makes room may send it as soon as its own reply is in and
        fine, before showing that reply: QEMU then runs this command while the
        shell prints (one deep, that is the time between a reply and the next
        command).  False, with nothing sent and everything before it finished,
        for a barrier (the caller then runs it the ordinary way) or when a reply
        finished to make room stopped the run; ``NotSent`` when it could not be sent.
        """
        prepared = self.shell.prepare(request)  # while the command before it may still run
        if prepared is None:
            self.drain()
            return False
        sent: list[Started] = []
        failed: list[NotSent] = []

        def overtake() -> None:
            try:
                sent.append(self._send(prepared))
            except NotSent as err:  # said once the reply being finished is shown
                failed.append(err)

        while len(self._window) >= self.depth:
            statement_before, started_before = self._window.popleft()
            self._finish(statement_before, started_before, None if sent or failed else overtake)
        if failed:
            raise failed[0]
        if not sent:
            if self._stopped():
                return False
            sent.append(self._send(prepared))
        self._window.append((statement, sent[0]))
        return True

    def _send(self, prepared: Prepared) -> Started:
        try:
            return self.shell.send(prepared, announce=self.announce)
        except QmpShellError as err:
            raise NotSent(err) from err

    def drain(self) -> None:
        """Finish everything in flight."""
        while self._window:
            statement, started = self._window.popleft()
            self._finish(statement, started, None)


class NotSent(Exception):
    """The request could not be sent, for ``error`` (a failure while finishing those before it,
    such as stdout on a full disk, is not this request's and passes through as it is)."""

    def __init__(self, error: QmpShellError) -> None:
        super().__init__(str(error))
        self.error = error


class ParseLater(Exception):
    """A statement read ahead that cannot be parsed without asking QEMU: parse it once what is in
    flight has finished (and only if the run goes on)."""


def parse_ahead(shell: Shell, text: str) -> Request | None:
    """``shell.parse`` while a command is in flight, when nothing may be sent on the statement's
    account yet: had the command failed, a strict run would not have parsed it at all.

    So what would ask QEMU (reading the schema, a device's property types, a QOM path's, an HMP
    line's checks) raises ``ParseLater`` instead.  Everything else, the errors included, is what
    ``shell.parse`` gives: the same parser, the same schema.
    """
    if shell.hmp:
        raise ParseLater
    typer: ArgumentTyper | None = None
    if shell.knowledge is not None:
        typer = shell.knowledge.typer_for(_later)  # what it would ask QEMU raises ParseLater
        if not getattr(shell.knowledge, "loaded", True):  # a lazy schema, not yet read
            typer = _UnreadSchema(typer)
    request = parse_statement(text, hmp=False, typer=typer)
    if hmp_line_of(request):
        raise ParseLater
    return request


def _later(_command: str, _arguments: Message) -> Any:
    raise ParseLater


class _UnreadSchema:
    """A lazy schema's typer that may not read the schema: only a line without arguments is typed
    (it needs no schema: ``schema.deferred.LazyKnowledge``)."""

    def __init__(self, typer: ArgumentTyper) -> None:
        self._typer = typer

    def convert(self, command: str, tree: ArgTree) -> dict[str, Any]:
        if tree:
            raise ParseLater
        return self._typer.convert(command, tree)

    def convert_action(self, action: str, tree: ArgTree) -> dict[str, Any]:
        raise ParseLater
