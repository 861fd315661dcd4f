"""SIGTERM, SIGHUP and SIGQUIT in the full screen: leave like Ctrl-D, with status 128 + the signal.

A plain Python handler, not the event loop's: removing a loop's handler (or
closing the loop) resets the signal to its default for a moment, and the
kernel's and tmux's second SIGHUP arriving then killed the shell before it
stopped a launched QEMU and removed its directory.  After the first signal its
repeats are ignored, also once the screen is gone, so that they cannot cut
that cleanup short.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from qmpshell.errors import STOP_SIGNALS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class StopSignals:
    """Installed while the application runs; ``leave(128 + sig)`` runs on the event loop."""

    def __init__(self, leave: Callable[[int], None]) -> None:
        self._leave = leave
        self._loop: asyncio.AbstractEventLoop | None = None
        self._callers: dict[int, Any] = {}
        self.signalled = False  # a stop signal ended the loop

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for sig in STOP_SIGNALS:
            self._callers[sig] = signal.getsignal(sig)
            signal.signal(sig, self._on_signal)

    def restore(self) -> None:
        """The caller's handlers again, unless a stop signal came: then its repeats stay ignored."""
        for sig, handler in self._callers.items():
            signal.signal(sig, signal.SIG_IGN if self.signalled else handler)
        self._callers.clear()

    def _on_signal(self, sig: int, frame: object) -> None:
        if self.signalled:
            return
        self.signalled = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._leave, 128 + sig)
