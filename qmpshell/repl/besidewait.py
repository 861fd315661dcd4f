"""A ``/wait`` that runs beside the shell: the lines typed meanwhile run, its result prints when it ends.

The full-screen shell runs one command at a time on its worker and queues the
lines typed meanwhile; a ``/wait`` held that queue for as long as it waited, and
Ctrl-C then dropped the lines.  Here the wait gets a thread of its own (one at a
time: a second ``/wait`` runs as any command does), the status bar says what it
awaits (``Shell.doing``), and Ctrl-C ends it without touching the input or the
queue.  Commands sent meanwhile do not move its window: that was fixed when it began.
"""

from __future__ import annotations

from qmpshell.errors import QmpShellError
from qmpshell.outcomes import Outcome
from qmpshell.records import Protocol
from qmpshell.repl.rendered import Rendered
from qmpshell.shell import Shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias

    from qmpshell.repl.core import Grouped

Background: TypeAlias = (
    "Callable[[Callable[[], Any], Callable[[Any], None]], None]"  # work, then (on the loop)
)


class Core(Protocol):
    @property
    def shell(self) -> Shell: ...

    def run(self, text: str) -> Outcome | QmpShellError | Rendered | Grouped | None: ...

    def show(self, result: Outcome | QmpShellError | Rendered | Grouped) -> None: ...


class BesideWait:
    """At most one ``/wait`` in flight beside the worker."""

    def __init__(self, core: Core, in_background: Background) -> None:
        self._core = core
        self._in_background = in_background
        self.active = False

    def takes(self, text: str) -> bool:
        """Whether ``text`` is a ``/wait`` to run beside (none is running yet)."""
        return not self.active and text.strip().split(maxsplit=1)[:1] == ["/wait"]

    def start(self, text: str) -> None:
        self._core.shell.events.clear_interrupt()  # before ``active``: a Ctrl-C from then on holds
        self.active = True
        self._in_background(lambda: self._core.run(text), self._done)

    def _done(self, result: Outcome | QmpShellError | Rendered | Grouped | None) -> None:
        self.active = False
        if result is not None:
            self._core.show(result)

    def stop(self) -> bool:
        """Ctrl-C: end the wait (it says "stopped waiting"); False when none runs."""
        if not self.active:
            return False
        self._core.shell.events.interrupt("stopped waiting")
        return True
