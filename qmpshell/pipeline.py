"""Pipelining: several commands in flight at once, finished in the order they were sent.

QEMU queues up to eight commands of a client that negotiated ``oob`` (its
``QMP_REQ_QUEUE_LEN_MAX``) and reads the next ones while a command executes, so
a script need not wait for each reply before it sends the next line.  In-band
replies still come in the order of the commands, and each is routed by its id.
A request that is more than one message (``/wait``, ``/hmp`` and ``/qmp``, HMP
``cpu N``, ``/help``: see ``language.parse.message_for``) is a barrier: everything in
flight is finished before it runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from qmpshell.language.parse import Request
from qmpshell.language.statements import Statement
from qmpshell.shell import Shell, Started

DEPTH = 8  # QEMU's queue per client with oob on; more would only wait in the socket

Finish = Callable[[Statement, Started], None]  # waits for one reply and shows it


class Pipeline:
    """Requests sent and not yet finished, oldest first; ``finish`` is called in that order."""

    def __init__(self, shell: Shell, finish: Finish, *, depth: int = DEPTH) -> None:
        self.shell = shell
        self.depth = depth
        self._finish = finish
        self._window: deque[tuple[Statement, Started]] = deque()

    def send(self, statement: Statement, request: Request) -> bool:
        """Send ``request`` behind those in flight (finishing the oldest while ``depth`` are).

        False, with nothing sent and everything before it finished, for a barrier:
        the caller then runs it the ordinary way.
        """
        self.make_room()
        started = self.shell.start(request, announce=False)
        if started is None:
            self.drain()
            return False
        self._window.append((statement, started))
        return True

    def make_room(self) -> None:
        """Finish the oldest until fewer than ``depth`` are in flight."""
        while len(self._window) >= self.depth:
            self._finish_oldest()

    def drain(self) -> None:
        """Finish everything in flight."""
        while self._window:
            self._finish_oldest()

    def _finish_oldest(self) -> None:
        statement, started = self._window.popleft()
        self._finish(statement, started)
