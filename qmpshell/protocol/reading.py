"""Who reads a client's socket: its reader thread, or the very thread that waits for a reply.

The reader thread reads whenever nobody else does, so that events, a dead
server and late replies are seen at once.  But a reply read there reaches the
waiting thread through two thread wake-ups (the reader's, then the waiter's),
which a script running line after line pays on every line: as much again as
QEMU takes to run ``query-status``.  So batch mode lets the waiting thread read
for itself (``caller_reads``, a leader/follower hand-off): the reader thread
then parks after its current read instead of reading again, and is woken
(``caller_reads = False``) before the front-end waits for anything that is not
a reply (stdin, an event for ``/wait``).

Whoever reads holds ``lock`` from ``recv`` until the messages of that read are
dispatched, so the stream is decoded in order by one thread at a time.  A
waiter that finds the reader thread inside ``recv`` (the first command after it
was woken) waits for that read to end and looks again: slower once, never wrong.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable

from qmpshell.errors import ConnectionLost
from qmpshell.protocol.framing import StreamDecoder
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.protocol.agentsync import AgentSync
    from qmpshell.protocol.pending import PendingReply

Ended = Callable[[str, type[ConnectionLost]], None]  # the connection ended: why, and as what error


class SocketReading:
    """The decoder of one connection and the turn to read it (see the module docstring)."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        max_message: int,
        sync: AgentSync,
        dispatch: Callable[[Message], None],
        ended: Ended,
    ) -> None:
        self._sock = sock
        self._decoder = StreamDecoder(max_message=max_message)
        self._sync = sync
        self._dispatch = dispatch
        self._ended = ended
        self.lock = threading.Lock()  # held from a recv until what it brought is dispatched
        self._turn = threading.Condition(threading.Lock())  # the parked reader thread waits here
        self._caller_reads = False
        self._poll: select.poll | None = None  # made by the first wait with a timeout
        self.done = False  # the stream ended (or failed): nothing more will be read

    @property
    def caller_reads(self) -> bool:
        return self._caller_reads

    @caller_reads.setter
    def caller_reads(self, on: bool) -> None:
        """On: a thread waiting for a reply reads it itself.  Off: the reader thread reads again
        (woken here, before the caller waits for stdin or an event)."""
        if on == self._caller_reads:
            return
        with self._turn:
            self._caller_reads = on
            if not on:
                self._turn.notify()

    def run(self) -> None:
        """The reader thread: read until the stream ends, parked while callers read; however it
        ends, every waiting command hears why (the connection's end, once, says it)."""
        try:
            while not self.done:
                if self._caller_reads:
                    with self._turn:
                        while self._caller_reads:
                            self._turn.wait()
                    continue
                with self.lock:
                    if not self._caller_reads and not self.done:
                        self.read()
        finally:
            self._ended("connection lost: the reader stopped", ConnectionLost)  # a no-op once ended

    def read(self, flags: int = 0) -> bool:
        """One ``recv`` and the messages it completes (the caller holds ``lock``); True if it got bytes.

        ``flags=socket.MSG_DONTWAIT``: only what has already arrived.  Any
        failure ends the connection here, saying why, and sets ``done``.
        """
        try:
            data = self._sock.recv(65536, flags)
            if not data:
                self.done = True
                for message in self._decoder.finish():
                    self._dispatch(message)
                self._ended("the server closed the connection", ConnectionLost)
                return False
            if self._sync.skipping:
                data = self._sync.after_sentinel(data, self._decoder)
            for message in self._decoder.feed(data):
                self._dispatch(message)
            return True
        except BlockingIOError:
            return False  # MSG_DONTWAIT and nothing there
        except ConnectionLost as err:
            self._fail(str(err), type(err))
        except OSError as err:
            self._fail(f"connection lost: {err.strerror or err}")
        except Exception as err:  # noqa: BLE001 - a failed read must not leave a command waiting forever
            self._fail(f"connection lost: reading failed: {type(err).__name__}: {err}")
        return False

    def _fail(self, why: str, kind: type[ConnectionLost] = ConnectionLost) -> None:
        self.done = True
        self._ended(why, kind)

    def wait_for(self, pending: PendingReply, timeout: float | None) -> bool:
        """Read on this thread until ``pending`` is answered or ``timeout`` passes; False (nothing
        done) unless callers read.  The waiter then looks at ``pending`` as after any wait."""
        if not self._caller_reads:
            return False
        deadline = None if timeout is None else time.monotonic() + timeout
        while not pending.resolved and not self.done:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            if not self.lock.acquire(timeout=-1 if left is None else left):
                break  # the reader thread's read outlasted the timeout
            try:
                if pending.resolved or self.done:
                    break
                if left is None or self._readable(left):
                    self.read()
            finally:
                self.lock.release()
        return pending.resolved or not self.done  # ended elsewhere: its failure is on its way

    def catch_up(self) -> None:
        """Take in what has already arrived (events before a command is sent count as before it).

        A ``poll`` that finds nothing costs a third of a ``recv`` that raises ``BlockingIOError``."""
        if self._caller_reads and not self.done and self.lock.acquire(blocking=False):
            try:
                while not self.done and self._readable(0) and self.read(socket.MSG_DONTWAIT):
                    pass
            finally:
                self.lock.release()

    def _readable(self, timeout: float) -> bool:
        """Whether a read would not wait, waiting up to ``timeout`` for it (a command's --timeout)."""
        if self._poll is None:
            self._poll = select.poll()
            self._poll.register(self._sock, select.POLLIN)
        return bool(self._poll.poll(timeout and max(1, round(timeout * 1000))))
