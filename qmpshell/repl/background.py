"""Work on a worker thread whose result is handed back to the event loop, then a redraw.

prompt_toolkit's ``Application.invalidate`` is the one call that is safe from
another thread; everything else the result touches must run on the loop, so
``then(result)`` is scheduled there with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Background:
    """``run(work, then)``: ``work()`` on a thread, ``then(result)`` on ``loop`` (set once it runs)."""

    def __init__(self, redraw: Callable[[], None]) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._redraw = redraw

    def run(self, work: Callable[[], Any], then: Callable[[Any], None]) -> None:
        loop = self.loop

        def target() -> None:
            result = work()
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._deliver, then, result)

        threading.Thread(target=target, name="qmpshell-worker", daemon=True).start()

    def _deliver(self, then: Callable[[Any], None], result: Any) -> None:
        then(result)
        self._redraw()


def call_result(done: Callable[[], None]) -> None:
    """A ``then`` for work whose result is itself what to do on the event loop."""
    done()
