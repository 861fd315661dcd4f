"""The two read-only panes: the output (commands and replies) and the live events.

Both are plain models plus one small ``UIControl`` that hands the ``Window``
only the lines it asks for, so a redraw costs the visible lines, not the whole
scrollback.  ``EventFeed.add`` runs on the client's reader thread: it only
appends to a bounded deque under a lock and raises a flag; the UI thread reads a
copy taken under the same lock (iterating the deque while the reader appends
raised "deque mutated during iteration").  The application redraws at most
every few tens of milliseconds (see ``app.py``), so a flood cannot starve typing.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from prompt_toolkit.data_structures import Point
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.layout.controls import UIContent, UIControl

from qmpshell.config import Settings
from qmpshell.qmptypes import Message
from qmpshell.records import NamedTuple, Protocol
from qmpshell.repl.eventlines import separator_line, wrapped_event
from qmpshell.repl.fleet import TARGET_KEY
from qmpshell.repl.lexer import split_lines

Lines = Callable[[int, int], Sequence[StyleAndTextTuples]]  # (width, height) -> lines
Decorate = Callable[[StyleAndTextTuples, int], StyleAndTextTuples]  # (line, its number) -> line


class Watched(Protocol):
    """Lines from elsewhere to show as they come (``--proxy``: other clients' traffic), on any thread.

    Each comes twice: as people read it, and with its message as JSON ('' for a notice), which
    ``/format json`` and ``compact`` show instead.
    """

    def subscribe(self, sink: Callable[[str, str], None]) -> None: ...


def watched_text(line: str, as_json: str, output_format: str) -> str:
    """The form of a watched line the output format asks for."""
    return as_json if as_json and output_format != "auto" else line


class LinesControl(UIControl):
    """Shows a sequence of styled lines; the ``Window`` scrolls to keep ``cursor_line`` visible."""

    def __init__(
        self, lines: Lines, cursor_line: Callable[[int], int], *, decorate: Decorate | None = None
    ) -> None:
        self._lines = lines
        self._cursor_line = cursor_line
        self._decorate = decorate

    def create_content(self, width: int, height: int | None) -> UIContent:
        lines = self._lines(width, height or 0)
        count = len(lines)
        decorate = self._decorate

        def get_line(number: int) -> StyleAndTextTuples:
            if not 0 <= number < count:
                return []
            return decorate(lines[number], number) if decorate is not None else lines[number]

        cursor = max(0, min(self._cursor_line(count), count - 1))
        return UIContent(
            get_line=get_line, line_count=count, cursor_position=Point(0, cursor), show_cursor=False
        )

    def is_focusable(self) -> bool:
        return False


Public = str | Callable[[], str]  # made when asked for: the whole of a big reply as JSON
Moved = Callable[[int], int]  # an absolute line number before a splice -> after it


class Span(NamedTuple):
    """``length`` lines from absolute line ``start``, to be replaced by ``lines`` (``OutputLog.splice``)."""

    start: int
    length: int
    lines: list[StyleAndTextTuples]
    public: Public | None = None


# Enough for the longest replies people search in: QEMU 10's query-qmp-schema is ~24,000 lines.
OUTPUT_LINES_KEPT = 50_000


def log_lines(fragments: StyleAndTextTuples) -> list[StyleAndTextTuples]:
    """The log's lines of some text: a final newline ends the last line, it starts no empty one."""
    lines = split_lines(fragments)
    if len(lines) > 1 and not lines[-1]:
        lines.pop()
    return lines


class OutputLog:
    """The scrollback: at most ``limit`` lines; follows the newest unless scrolled up.

    Line numbers given out (``marks``, ``absolute``) count every line ever added,
    so they stay true when old lines fall off the top.
    """

    def __init__(self, *, limit: int = OUTPUT_LINES_KEPT) -> None:
        self.lines: deque[StyleAndTextTuples] = deque(maxlen=limit)
        self.stamps: deque[float] = deque(maxlen=limit)  # when each line came (the transcript's order)
        self.cleared: deque[tuple[int, float, str]] = deque(maxlen=limit)  # Ctrl-L's: number, stamp, text
        self.dropped = 0
        self.marks: deque[int] = deque(maxlen=limit)  # where each statement's echo starts
        self._cursor: int | None = None  # absolute line number while scrolled; None follows
        self._anchor_top = True  # the cursor is the view's top line (else its bottom line)
        # Lines shown on the screen but not given out as text (a typed secret, a secret reply):
        # absolute line -> what ``text`` says instead (None: nothing, the first line said it).
        self._public: dict[int, Public | None] = {}

    def add(self, fragments: StyleAndTextTuples, *, mark: bool = False, public: Public | None = None) -> None:
        """Append text; a final newline ends the last line rather than starting an empty one.

        ``mark``: this starts a statement (F4 jumps back to these, ``/save reply`` starts here).
        ``public``: what the transcript and ``/save`` get instead of these lines (a secret).
        """
        lines = log_lines(fragments)
        start = self.dropped + len(self.lines)
        if mark:
            self.marks.append(start)
        now = time.time()
        for line in lines:
            if len(self.lines) == self.lines.maxlen:
                self.dropped += 1
            self.lines.append(line)
            self.stamps.append(now)
        if public is not None:
            self.keep_private(start, public)

    @property
    def end(self) -> int:
        """The absolute number the next line added will have."""
        return self.dropped + len(self.lines)

    def splice(self, spans: Sequence[Span], moved: Moved) -> None:
        """Replace each span's lines (spans in line order, apart) by new ones: a reply laid out
        again for another width (``relayout``).  The lines after a span are numbered anew by
        ``moved`` (``relayout.mover``), and what points at them (statement marks, the scroll
        position, private lines) moves with them."""
        old_lines, old_stamps, base = list(self.lines), list(self.stamps), self.dropped
        lines: list[StyleAndTextTuples] = []
        stamps: list[float] = []
        position = base
        for span in spans:
            lines += old_lines[position - base : span.start - base]
            stamps += old_stamps[position - base : span.start - base]
            lines += span.lines
            stamps += [old_stamps[span.start - base]] * len(span.lines)
            position = span.start + span.length
        lines += old_lines[position - base :]
        stamps += old_stamps[position - base :]
        self.lines = deque(lines, maxlen=self.lines.maxlen)
        self.stamps = deque(stamps, maxlen=self.stamps.maxlen)
        self.dropped += len(lines) - len(self.lines)  # more lines than are kept: the oldest go
        self.marks = deque((m for m in map(moved, self.marks) if m >= self.dropped), maxlen=self.marks.maxlen)
        public = {moved(line): said for line, said in self._public.items()}
        for span in spans:
            for line in range(moved(span.start), moved(span.start) + len(span.lines)):
                public.pop(line, None)
        self._public = {line: said for line, said in public.items() if line >= self.dropped}
        for span in spans:
            if span.public is not None and span.lines:
                self.keep_private_lines(moved(span.start), len(span.lines), span.public)
        if self._cursor is not None:
            self._cursor = max(moved(self._cursor), self.dropped)

    def keep_private_lines(self, start: int, count: int, public: Public) -> None:
        """Lines ``start`` to ``start + count`` are given out as ``public`` (one line) by ``text``."""
        for line in range(max(start, self.dropped), start + count):
            self._public[line] = public if line == max(start, self.dropped) else None

    def keep_private(self, start: int, public: Public) -> None:
        """Lines ``start`` to the newest are given out as ``public`` (one line) by ``text``."""
        self.keep_private_lines(start, self.end - start, public)
        for line in [line for line in self._public if line < self.dropped]:
            del self._public[line]

    def _given_out(self, absolute: int, line: StyleAndTextTuples) -> str | None:
        """A line as text gives it out: its plain text, its public form, or nothing (a secret's rest)."""
        if absolute not in self._public:
            return plain(line)
        public = self._public[absolute]
        return None if public is None else public if isinstance(public, str) else public()

    def text(self, start: int = 0, end: int | None = None) -> str:
        """The plain text of absolute lines ``start`` to ``end`` (tests, ``/save``, the transcript);
        lines kept private give their public form, and lines cleared from the screen (Ctrl-L,
        ``/clear``) are still there."""
        first = max(0, start - self.dropped)
        last = len(self.lines) if end is None else end - self.dropped
        stop = self.dropped if end is None else min(end, self.dropped)
        kept = [text for number, _, text in list(self.cleared) if start <= number < stop]
        lines = list(self.lines)  # one step under the GIL: another thread may be reading
        for index in range(first, min(last, len(lines))):
            if (text := self._given_out(self.dropped + index, lines[index])) is not None:
                kept.append(text)
        return "\n".join(kept)

    def timed_lines(self) -> list[tuple[float, str]]:
        """Every line kept, cleared ones too, as ``text`` gives it, with the time it was added."""
        timed = [(stamp, text) for _, stamp, text in list(self.cleared)]
        lines, stamps = list(self.lines), list(self.stamps)
        for index, (line, stamp) in enumerate(zip(lines, stamps, strict=False)):
            if (text := self._given_out(self.dropped + index, line)) is not None:
                timed.append((stamp, text))
        return timed

    def last_statement(self, before: int | None = None) -> int:
        """The absolute line where the newest statement (above line ``before``) starts."""
        marks = [m for m in self.marks if m >= self.dropped and (before is None or m < before)]
        return marks[-1] if marks else self.dropped

    def clear(self) -> None:
        """Clear the screen: the lines leave the pane but stay in ``text`` (the transcript, ``/save``)."""
        for index, (line, stamp) in enumerate(zip(list(self.lines), list(self.stamps), strict=False)):
            if (text := self._given_out(self.dropped + index, line)) is not None:
                self.cleared.append((self.dropped + index, stamp, text))
        self.dropped += len(self.lines)
        self.lines.clear()
        self.stamps.clear()
        self._public.clear()
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
        return self._cursor - self.dropped

    def show_line(self, absolute: int) -> None:
        """Scroll so that line ``absolute`` is in view (at the top when it was above)."""
        if absolute - self.dropped >= len(self.lines) - 1:
            self._cursor = None
        else:
            self._cursor, self._anchor_top = max(absolute, self.dropped), True

    def page_up(self, height: int) -> None:
        """Show the page above; the cursor then marks the view's top line."""
        top = max(0, self._top(height) - max(1, height - 1))
        self._cursor, self._anchor_top = self.dropped + top, True

    def page_down(self, height: int) -> None:
        """Show the page below; the cursor then marks the view's bottom line (or follows)."""
        bottom = self._top(height) + 2 * max(1, height - 1)
        if bottom >= len(self.lines) - 1:
            self._cursor = None
        else:
            self._cursor, self._anchor_top = self.dropped + bottom, False

    def view_top(self, height: int) -> int:
        """The first visible line (counted from the oldest kept), as the window scrolls."""
        return self._top(height)

    def _top(self, height: int) -> int:
        """The first visible line, as the window scrolled to keep the cursor in view."""
        if self._cursor is None:
            return max(0, len(self.lines) - height)
        cursor = self._cursor - self.dropped
        return cursor if self._anchor_top else max(0, cursor - height + 1)

    def control(
        self, decorate: Decorate | None = None, *, fit: Callable[[int, int], None] | None = None
    ) -> LinesControl:
        """The pane's control; ``fit(width, height)`` first, at each drawing (``relayout``)."""

        def lines(width: int, height: int) -> Sequence[StyleAndTextTuples]:
            if fit is not None:
                fit(width, height)
            return self.lines

        return LinesControl(lines, self.cursor_line, decorate=decorate)


def plain(line: StyleAndTextTuples) -> str:
    return "".join(fragment[1] for fragment in line)


class EventFeed:
    """The events pane's model: a bounded deque, glob filters and a dirty flag.

    An entry whose event is None is a separator (a new connection starts there).
    Every access to the deque holds ``_lock``: the reader thread appends while
    the UI thread (or the line mode's printer) reads.
    """

    def __init__(self, *, limit: int = 500, patterns: Sequence[str] = ()) -> None:
        self._events: deque[tuple[str, Message | None, float]] = deque(maxlen=limit)  # with arrival time
        self._lock = threading.Lock()
        self.limit = limit
        self.patterns: tuple[str, ...] = tuple(patterns)
        self.dirty = False
        self.colours: dict[str, int] = {}  # with several targets: each one's colour (``fleet``)

    @classmethod
    def for_settings(cls, settings: Settings) -> EventFeed:
        """The pane as configured: ``events_pane_size`` kept, ``events_filter`` applied."""
        return cls(limit=settings.events_pane_size, patterns=settings.events_filter)

    def add(self, event: Message) -> None:
        """Reader thread: keep the event, flag a redraw."""
        entry = (str(event.get("event", "?")), event, time.time())
        with self._lock:
            self._events.append(entry)
        self.dirty = True

    def add_separator(self, text: str) -> None:
        """A line marking where the events of a new connection start."""
        with self._lock:
            self._events.append((text, None, time.time()))
        self.dirty = True

    def clear(self) -> None:
        with self._lock:
            self._events.clear()
        self.dirty = True

    def set_filter(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self.dirty = True

    def passes(self, name: str, *, target: str = "") -> bool:
        """Whether an event of this name (from this target) passes the filter: a pattern matches the
        name, or with several targets ``TARGET:NAME`` (``src:MIGRATION``, ``dst:*``)."""
        if not self.patterns:
            return True
        tagged = f"{target}:{name}" if target else None
        return any(
            fnmatch.fnmatchcase(name, p) or (tagged is not None and fnmatch.fnmatchcase(tagged, p))
            for p in self.patterns
        )

    def _entries(self) -> list[tuple[str, Message | None, float]]:
        """A copy of the kept entries, taken while the reader thread cannot append."""
        with self._lock:
            return list(self._events)

    def _passing(self) -> list[tuple[str, Message | None, float]]:
        return [
            entry
            for entry in self._entries()
            if entry[1] is None or self.passes(entry[0], target=str(entry[1].get(TARGET_KEY, "")))
        ]

    def visible(self, height: int = 0, width: int = 0) -> list[StyleAndTextTuples]:
        """The screen lines of the newest entries that pass the filter, newest last, in ``height`` lines
        (0: all) of ``width`` cells: an event too long for one line goes on to a second, not cut."""
        lines: list[StyleAndTextTuples] = []
        for name, event, _ in reversed(self._passing()):
            entry = (
                wrapped_event(event, width, colours=self.colours)
                if event is not None
                else [separator_line(name, width)]
            )
            lines[:0] = entry
            if 0 < height <= len(lines):
                return lines[len(lines) - height :]
        return lines

    def events(self) -> list[Message]:
        """The kept events that pass the filter, oldest first (``/events show N`` counts back)."""
        return [event for _, event, _ in self._passing() if event is not None]

    def arrivals(self) -> list[tuple[float, Message]]:
        """Every kept event with the time it came (``time.time()``), for the exit transcript."""
        return [(arrived, event) for _, event, arrived in self._entries() if event is not None]

    def kept(self) -> int:
        return sum(1 for _, event, _ in self._entries() if event is not None)

    def names(self) -> list[str]:
        return [name for name, event, _ in self._entries() if event is not None]

    def control(self) -> LinesControl:
        return LinesControl(lambda width, height: self.visible(height, width), lambda count: count - 1)
