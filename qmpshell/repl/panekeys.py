"""What the full screen's output-pane keys do: page, clear, show or hide events, find, jump back.

These act on the panes alone (the output log, its search, the events pane's
visibility), never on the connection or the input's statement; kept apart from
``app.py`` so that the application is about running statements.  They serve
``keys.PaneActions`` and ``search.OutputKeys``.
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.buffer import Buffer
from prompt_toolkit.layout import Window

from qmpshell.repl.panes import OutputLog
from qmpshell.repl.search import OutputSearch, jump_target
from qmpshell.repl.widgets import EventsVisibility

TYPE_CHECKING = False
if TYPE_CHECKING:
    from prompt_toolkit.widgets import TextArea

    from qmpshell.repl.core import InteractiveCore
    from qmpshell.repl.layout import Screen


class PaneKeys:
    """F2, Ctrl-L, PageUp/PageDown, Ctrl-F/Ctrl-B, F4 on the output pane."""

    def __init__(
        self,
        *,
        log: OutputLog,
        search: OutputSearch,
        events_view: EventsVisibility,
        output_window: Callable[[], Window],
        input_buffer: Callable[[], Buffer],
        width: Callable[[], int],
    ) -> None:
        self.log = log
        self.search = search
        self._events_view = events_view
        self._output_window = output_window
        self._input_buffer = input_buffer
        self._width = width
        self._jumped: int | None = None  # the statement F4 last jumped to

    @classmethod
    def for_screen(
        cls, core: InteractiveCore, screen: Screen, input_line: TextArea, *, width: Callable[[], int]
    ) -> PaneKeys:
        """The pane keys of a full screen: its core's log, search and events, its output window."""
        return cls(
            log=core.log,
            search=core.search,
            events_view=core.events_view,
            output_window=lambda: screen.output_window,
            input_buffer=lambda: input_line.buffer,
            width=width,
        )

    def input_is_empty(self) -> bool:
        return not self._input_buffer().text

    def clear_output(self) -> None:
        self.log.clear()

    def toggle_events(self) -> None:
        self._events_view.toggle(self._width())

    def page_up(self) -> None:
        info = self._output_window().render_info
        if info is not None:
            self.log.page_up(info.window_height)

    def page_down(self) -> None:
        info = self._output_window().render_info
        if info is not None:
            self.log.page_down(info.window_height)

    def start_find(self) -> None:
        """Ctrl-F with no search going: ``/find `` on the input line, ready for the text."""
        buffer = self._input_buffer()
        buffer.text = "/find "
        buffer.cursor_position = len(buffer.text)

    def find_step(self, *, older: bool) -> None:
        if self.search.active:
            self.search.step(older=older)

    def jump_to_statement(self) -> None:
        """F4: to the start of the last statement and its reply; again: the one before."""
        target = jump_target(self.log, None if self.log.following else self._jumped)
        if target is not None:
            self._jumped = target
            self.log.show_line(target)
