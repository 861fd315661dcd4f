"""The two read-only panes: the output (commands and replies) and the live events.

Both are plain models plus one small ``UIControl`` that hands the ``Window``
only the lines it asks for, so a redraw costs the visible lines, not the whole
scrollback.  ``EventFeed.add`` runs on the client's reader thread: it only
appends to a bounded deque and raises a flag; the application redraws at most
every few tens of milliseconds (see ``app.py``), so a flood cannot starve typing.
"""

from __future__ import annotations

import fnmatch
import json
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from prompt_toolkit.data_structures import Point
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.layout.controls import UIContent, UIControl

from qmpshell.output.render import event_time
from qmpshell.repl.lexer import json_fragments, split_lines

Message = dict[str, Any]


class LinesControl(UIControl):
    """Shows a sequence of styled lines; the ``Window`` scrolls to keep ``cursor_line`` visible."""

    def __init__(
        self, lines: Callable[[int], Sequence[StyleAndTextTuples]], cursor_line: Callable[[int], int]
    ) -> None:
        self._lines = lines
        self._cursor_line = cursor_line

    def create_content(self, width: int, height: int | None) -> UIContent:
        lines = self._lines(height or 0)
        count = len(lines)

        def get_line(number: int) -> StyleAndTextTuples:
            return lines[number] if 0 <= number < count else []

        cursor = max(0, min(self._cursor_line(count), count - 1))
        return UIContent(
            get_line=get_line, line_count=count, cursor_position=Point(0, cursor), show_cursor=False
        )

    def is_focusable(self) -> bool:
        return False


class OutputLog:
    """The scrollback: at most ``limit`` lines; follows the newest unless scrolled up."""

    def __init__(self, *, limit: int = 5000) -> None:
        self.lines: deque[StyleAndTextTuples] = deque(maxlen=limit)
        self._dropped = 0
        self._cursor: int | None = None  # absolute line number while scrolled; None follows
        self._anchor_top = True  # the cursor is the view's top line (else its bottom line)

    def add(self, fragments: StyleAndTextTuples) -> None:
        """Append text; a final newline ends the last line rather than starting an empty one."""
        lines = split_lines(fragments)
        if len(lines) > 1 and not lines[-1]:
            lines.pop()
        for line in lines:
            if len(self.lines) == self.lines.maxlen:
                self._dropped += 1
            self.lines.append(line)

    def text(self) -> str:
        """The plain text (tests and the benchmark read it)."""
        return "\n".join("".join(f[1] for f in line) for line in self.lines)

    def clear(self) -> None:
        self._dropped += len(self.lines)
        self.lines.clear()
        self._cursor = None

    def follow(self) -> None:
        """Show the newest lines again (after Enter)."""
        self._cursor = None

    @property
    def following(self) -> bool:
        return self._cursor is None

    def cursor_line(self, count: int) -> int:
        if self._cursor is None:
            return count - 1
        return self._cursor - self._dropped

    def page_up(self, height: int) -> None:
        """Show the page above; the cursor then marks the view's top line."""
        top = max(0, self._top(height) - max(1, height - 1))
        self._cursor, self._anchor_top = self._dropped + top, True

    def page_down(self, height: int) -> None:
        """Show the page below; the cursor then marks the view's bottom line (or follows)."""
        bottom = self._top(height) + 2 * max(1, height - 1)
        if bottom >= len(self.lines) - 1:
            self._cursor = None
        else:
            self._cursor, self._anchor_top = self._dropped + bottom, False

    def _top(self, height: int) -> int:
        """The first visible line, as the window scrolled to keep the cursor in view."""
        if self._cursor is None:
            return max(0, len(self.lines) - height)
        cursor = self._cursor - self._dropped
        return cursor if self._anchor_top else max(0, cursor - height + 1)

    def control(self) -> LinesControl:
        return LinesControl(lambda _height: self.lines, self.cursor_line)


class EventFeed:
    """The events pane's model: a bounded deque, glob filters and a dirty flag."""

    def __init__(self, *, limit: int = 500, patterns: Sequence[str] = ()) -> None:
        self._events: deque[tuple[str, Message]] = deque(maxlen=limit)
        self.patterns: tuple[str, ...] = tuple(patterns)
        self.dirty = False

    def add(self, event: Message) -> None:
        """Reader thread: keep the event, flag a redraw."""
        self._events.append((str(event.get("event", "?")), event))
        self.dirty = True

    def clear(self) -> None:
        self._events.clear()
        self.dirty = True

    def set_filter(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self.dirty = True

    def visible(self, height: int = 0) -> list[StyleAndTextTuples]:
        """The last ``height`` (0: all) kept events that pass the filter, newest last, styled."""
        events = list(self._events)
        if self.patterns:
            events = [e for e in events if any(fnmatch.fnmatchcase(e[0], p) for p in self.patterns)]
        if height > 0:
            events = events[-height:]
        return [event_line(event) for _, event in events]

    def names(self) -> list[str]:
        return [name for name, _ in self._events]

    def control(self) -> LinesControl:
        return LinesControl(self.visible, lambda count: count - 1)


def event_line(event: Message) -> StyleAndTextTuples:
    """``HH:MM:SS.mmm NAME {data}`` with the name bold and the data coloured as JSON."""
    line: StyleAndTextTuples = [
        ("class:event.time", event_time(event) + " "),
        ("class:event.name", str(event.get("event", "?"))),
    ]
    data = event.get("data")
    if data:
        line.append(("", " "))
        line.extend(json_fragments(json.dumps(data, separators=(",", ":"), ensure_ascii=False)))
    return line
