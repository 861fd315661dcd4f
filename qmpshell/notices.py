"""One warnings channel: every warning, from any layer and any thread, reaches the user.

Warnings arise at times no front-end can predict: the schema cache is read on a
worker thread after the welcome line, the history file fails on the first line
typed, a deprecated command is noticed when its reply comes.  Each producer is
handed ``Warnings.warn`` (the shell owns one channel per session); each
front-end ``drain``s it where it prints, and the interactive ones also when
``listen`` tells them a warning came between two statements.  Before this,
warnings appended to a list after the only time a front-end read it were lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Warnings:
    """A thread-safe queue of warning texts, drained by whoever shows them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._listener: Callable[[], None] | None = None

    def warn(self, text: str) -> None:
        """Any thread: keep ``text`` until it is shown; wake the front-end if it listens."""
        with self._lock:
            self._pending.append(text)
            listener = self._listener
        if listener is not None:
            listener()

    def drain(self) -> list[str]:
        """The warnings not shown yet, oldest first; the channel is then empty."""
        with self._lock:
            pending, self._pending = self._pending, []
        return pending

    def listen(self, listener: Callable[[], None] | None) -> None:
        """``listener()`` is called (on the warning's thread) after each ``warn``."""
        with self._lock:
            self._listener = listener
