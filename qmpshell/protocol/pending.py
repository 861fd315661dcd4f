"""A command sent and its reply to come, and the blocking calls built on that (both transports).

``PendingReply`` is what ``send`` hands back; ``BlockingCommands`` turns send
and wait into ``execute``/``request`` for the shell's own questions, which the
``-l`` log marks with ``source`` (``OWN``).  ``QmpError`` is an ``error`` reply
raised; ``Cancelled`` a wait the user stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from qmpshell.errors import CommandFailed, CommandTimeout
from qmpshell.protocol.messages import error_class_and_desc
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class QmpError(CommandFailed):
    """The server answered a command with an ``error`` object."""

    def __init__(self, response: Message) -> None:
        self.error_class, self.desc = error_class_and_desc(response)
        super().__init__(f"{self.error_class}: {self.desc}")
        self.response = response


class Cancelled(CommandFailed):
    """The user stopped waiting; a late reply will be dropped by its id."""


_AS_SENT = object()  # PendingReply.user_id when the id on the wire is the user's own (libvirt)


class PendingReply:
    """A command sent and not yet answered.

    A bare lock, held until the reply comes, is the cheapest one-shot signal
    (an ``Event`` builds a Condition and a waiter lock per wait); this path runs
    once per command and QEMU answers ``query-status`` in about 200 us.
    """

    def __init__(self, key: str, *, own_id: bool, user_id: Any = _AS_SENT) -> None:
        self.key = key  # the id on the wire: always ours, never reused
        self.own_id = own_id  # the message had no id of its own
        self.user_id = user_id  # the id the user wrote (put back into the reply)
        self.sent: Message = {}
        self._done = threading.Lock()
        self._done.acquire()
        self._resolved = False
        self._response: Message | None = None
        self._error: Exception | None = None
        self._hook_lock = threading.Lock()
        self._then: Callable[[PendingReply], None] | None = None
        # Batch mode: the waiting thread reads the socket itself (``protocol.reading``); True
        # when it did (the reply is in, or the timeout passed), False to wait the usual way.
        self.read_here: Callable[[PendingReply, float | None], bool] | None = None

    @property
    def resolved(self) -> bool:
        return self._resolved

    def resolve(self, response: Message | None, error: Exception | None = None) -> None:
        with self._hook_lock:
            if self._resolved:
                return
            self._response, self._error, self._resolved = response, error, True
            then, self._then = self._then, None
        self._done.release()
        if then is not None:
            then(self)

    def then(self, callback: Callable[[PendingReply], None]) -> None:
        """Call ``callback(self)`` once the reply is in (at once if it is), on the thread that got it.

        For a relay (``--proxy``) that passes each reply on without a thread waiting for it.
        """
        with self._hook_lock:
            if not self._resolved:
                self._then = callback
                return
        callback(self)

    def wait(self, timeout: float | None = None) -> Message:
        """The response (our id removed), or the error that ended the wait."""
        waiting = -1 if timeout is None else timeout
        if self.read_here is not None and not self._resolved and self.read_here(self, timeout):
            waiting = 0  # read here until answered, or for the whole timeout
        if not self._done.acquire(timeout=waiting):
            raise CommandTimeout(f"no reply within {timeout:g} s")
        self._done.release()  # a later wait() returns at once
        if self._error is not None:
            raise self._error
        assert self._response is not None
        if self.own_id:
            self._response.pop("id", None)
        elif "id" in self._response and self.user_id is not _AS_SENT:
            self._response["id"] = self.user_id
        return self._response


OWN = "qmpshell"  # the log's ``source`` of what qmpshell asks for itself (``execute``, ``request``)


class BlockingCommands:
    """``execute`` and ``request`` on top of a transport's ``send`` and ``abandon`` (both transports).

    They serve the shell's own questions (negotiation, schema, status, completion):
    the log marks what they send with ``source`` so that ``--replay`` leaves it out.
    """

    def send(self, message: Message, *, source: str = "", body: bytes | None = None) -> PendingReply:
        raise NotImplementedError

    def abandon(self, pending: PendingReply) -> None:
        raise NotImplementedError

    def execute(
        self, command: str, arguments: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """Run one command and return its ``return`` value; QmpError on an error reply."""
        message: Message = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        response = self.request(message, timeout=timeout)
        if "error" in response:
            raise QmpError(response)
        return response.get("return")

    def request(self, message: Message, *, timeout: float | None = None) -> Message:
        """Send one message and wait for its response (with our id removed)."""
        pending = self.send(message, source=OWN)
        try:
            return pending.wait(timeout)
        except BaseException:
            self.abandon(pending)
            raise
