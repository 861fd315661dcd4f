"""The one exception tree of qmpshell, and the stop signals that end a run like Ctrl-C.

Every failure a user can meet is a ``QmpShellError``; front-ends turn it into one
line of text and an exit status, never a traceback::

    QmpShellError                      exit status
     +-- UsageError                    2  bad option, unknown command
     |    +-- ParseError               2  a line that does not parse (with a caret)
     +-- CommandFailed                 1  QMP error reply, /wait or command timeout
     |    +-- CommandTimeout           1
     +-- ConnectionFailed              3  could not connect / greeting / negotiate
          +-- ConnectionLost           3  EOF, reset or protocol garbage mid-session
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from qmpshell.signals import SIGHUP, SIGQUIT, SIGTERM, signal

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_INTERRUPTED = 130

# Handled like Ctrl-D interactively and like Ctrl-C in batch mode; the exit status is 128 + the signal.
STOP_SIGNALS = (SIGTERM, SIGHUP, SIGQUIT)


class Stopped(SystemExit):
    """SIGTERM, SIGHUP or SIGQUIT arrived: leave as after Ctrl-C, cleaning up on the way out.

    Not an ``Exception``, so that no ``except Exception`` on the way up swallows it; and a
    ``SystemExit`` because asyncio lets only that and ``KeyboardInterrupt`` out of a callback.
    Any other exception raised while the line mode's prompt ran a callback went to the event
    loop's handler, which asked to press Enter on a terminal that was gone: the shell hung.
    The exit status is 128 + the signal.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


class _Held:
    """The main thread's ``uninterrupted`` blocks: how deep, and the stop signal that came meanwhile."""

    depth = 0
    signum: int | None = None


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Cleanup that a stop signal must not cut in half, such as stopping a launched QEMU and then
    removing its directory: a hang-up that arrives inside raises ``Stopped`` once the block is done.

    Only the main thread runs Python signal handlers, so elsewhere this holds nothing back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _Held.depth += 1
    try:
        yield
    finally:
        _Held.depth -= 1
        signum, _Held.signum = _Held.signum, None
        if signum is not None and _Held.depth == 0:
            raise Stopped(signum)
        _Held.signum = signum


def hold_back(signum: int) -> bool:
    """A stop signal's handler asks: inside ``uninterrupted``? Then it is kept for the block's end."""
    if _Held.depth == 0:
        return False
    _Held.signum = _Held.signum or signum
    return True


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
            if not hold_back(signum):
                raise Stopped(signum)

    previous = {sig: signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal(sig, handler)


class QmpShellError(Exception):
    """Root of every error qmpshell reports to a user."""

    exit_status = EXIT_FAILED


class UsageError(QmpShellError):
    """The user asked for something that cannot be done as written."""

    exit_status = EXIT_USAGE


class ParseError(UsageError):
    """A line of the shorthand language that does not parse.

    ``column`` is 0-based; ``output.safe.with_caret`` prints the text with a caret under it,
    the way httpie reports a bad request item.
    """

    def __init__(self, what: str, text: str, column: int) -> None:
        super().__init__(what)
        self.what = what
        self.text = text
        self.column = max(0, min(column, len(text)))

    def one_line(self) -> str:
        return f"column {self.column + 1}: {self.what}"


class CommandFailed(QmpShellError):
    """A command ran and failed: a QMP error reply, an HMP error, a timeout."""

    exit_status = EXIT_FAILED


class CommandTimeout(CommandFailed):
    """No reply within the time the user allowed."""


class ConnectionFailed(QmpShellError):
    """The server could not be reached, or did not speak QMP."""

    exit_status = EXIT_CONNECTION


class ConnectionLost(ConnectionFailed):
    """An established connection ended (EOF, reset, or a corrupt stream)."""
