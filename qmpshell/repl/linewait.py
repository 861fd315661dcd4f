"""The line mode's ``/wait``: it runs beside the prompt, as in the full screen.

The full screen's ``BesideWait`` does the work (one wait at a time, Ctrl-C ends
it, commands typed meanwhile run); this gives it what the line mode has in place
of an event loop: a thread of its own, whose result is shown under the session's
output lock and printed above the prompt as events are.  prompt_toolkit's prompt
says in its bottom toolbar what is awaited; a dumb terminal has no toolbar.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from threading import Thread

from qmpshell.repl.besidewait import BesideWait, Core

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class LineWait:
    """A ``/wait`` beside the line mode's prompt: ``takes``/``start`` on Enter, ``stop`` on Ctrl-C."""

    def __init__(
        self, core: Core, *, lock: AbstractContextManager[Any], print_new: Callable[[], None]
    ) -> None:
        self._core = core
        self._lock = lock  # the session's output: the wait's lines do not cut into a command's
        self._print_new = print_new  # the output lines not printed yet, above the prompt
        self._beside = BesideWait(core, self._on_thread)
        self.text = ""  # the /wait line running
        self.changed: Callable[[], None] = lambda: None  # the prompt's toolbar follows (linereaders)

    @property
    def active(self) -> bool:
        return self._beside.active

    def takes(self, text: str) -> bool:
        return self._beside.takes(text)

    def start(self, text: str) -> None:
        self.text = text.strip()
        self._beside.start(text)
        self.changed()

    def stop(self) -> bool:
        """Ctrl-C: the wait ends (it says "stopped waiting"); False when none runs."""
        return self._beside.stop()

    def awaited(self) -> str:
        """What the running wait awaits, '' when none runs (the prompt's toolbar)."""
        if not self._beside.active:
            return ""
        return f"{self._core.shell.doing or self.text} (Ctrl-C stops waiting)"

    def _on_thread(self, work: Callable[[], Any], then: Callable[[Any], None]) -> None:
        def target() -> None:
            result = work()
            with self._lock:
                then(result)  # BesideWait: the result joins the session's output
                self._print_new()
            self.changed()

        Thread(target=target, name="qmpshell-wait", daemon=True).start()
