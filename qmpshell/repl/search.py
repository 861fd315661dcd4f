"""Finding things in the output pane: ``/find TEXT``, next and previous, highlighted matches.

Matches are found afresh when the text or the pane changes (the pane holds up to
50,000 lines: a whole query-qmp-schema) and are kept as absolute line numbers, which stay true
when old lines fall off the top.  Case is ignored unless the text has a capital
letter (as in less and vim's smartcase).  The keys are here too, beside the
search they drive: Ctrl-F (on an empty line) starts a search, then Ctrl-F and
F3 go to older matches, Ctrl-B to newer ones, Esc ends the search; F4 jumps to
the start of the last statement and its reply.  On an empty input line Ctrl-F and Ctrl-B have
no cursor to move, so nothing is lost.
"""

from __future__ import annotations

from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from qmpshell.records import Protocol
from qmpshell.repl.panes import Moved, OutputLog, plain


def print_matches(log: OutputLog, text: str, *, shown: int) -> None:
    """``/find TEXT`` where there is no pane to scroll (the line mode): the last ``shown`` lines
    above the ``/find`` that match, numbered, then how many matched."""
    search = OutputSearch(log)
    search.find(text, before=log.last_statement())
    found = search.matches()
    for number in found[-shown:]:
        line = log.lines[number - log.dropped]
        log.add([("class:dim", f"{number + 1:>6}: "), *line, ("", "\n")])
    more = f" (the last {shown} shown)" if len(found) > shown else ""
    log.add([("class:info", f"{len(found)} lines match {text!r}{more}\n")])


class OutputSearch:
    """The text searched for, the matching lines and which of them is current."""

    def __init__(self, log: OutputLog) -> None:
        self.log = log
        self.text = ""
        self.current: int | None = None  # absolute line number of the current match
        self.end: int | None = None  # lines from here on (the /find line itself) are not searched
        self._found: tuple[tuple[object, ...], list[int]] = ((), [])  # matches() of the last redraw

    @property
    def active(self) -> bool:
        return bool(self.text)

    def _folded(self, text: str) -> str:
        return text if any(c.isupper() for c in self.text) else text.lower()

    def matches(self) -> list[int]:
        """Absolute numbers of the lines that contain the text, oldest first.

        Kept until the text or the pane changes: the notice line asks at every redraw.
        """
        needle = self._folded(self.text)
        if not needle:
            return []
        base, end = self.log.dropped, self.end
        key = (needle, end, base, len(self.log.lines))
        if self._found[0] != key:
            found = [
                base + i
                for i, line in enumerate(self.log.lines)
                if (end is None or base + i < end) and needle in self._folded(plain(line))
            ]
            self._found = (key, found)
        return list(self._found[1])

    def moved(self, moved: Moved) -> None:
        """Replies were laid out again (``relayout``): the lines are numbered anew, found anew;
        the current match is the one nearest where it went."""
        self.end = None if self.end is None else moved(self.end)
        self._found = ((), [])
        if self.current is not None:
            went = moved(self.current)
            self.current = min(self.matches(), key=lambda line: abs(line - went), default=None)

    def find(self, text: str, *, before: int | None = None) -> str:
        """Start a search: the newest match above line ``before`` becomes current. Returns a notice.

        ``before`` is where the ``/find`` line itself is, which must not be its own first match.
        """
        self.text, self.current, self.end = text, None, before
        if not text:
            return "search ended"
        return self.step(older=True)

    def step(self, *, older: bool) -> str:
        """Go to the next older (or newer) match and scroll it into view."""
        found = self.matches()
        if not found:
            self.current = None
            return f"not found: {self.text}"
        if self.current is None:
            chosen = found[-1]
        elif older:
            chosen = max((n for n in found if n < self.current), default=found[-1])
        else:
            chosen = min((n for n in found if n > self.current), default=found[0])
        self.current = chosen
        self.log.show_line(chosen)
        return self.describe(found)

    def describe(self, found: list[int] | None = None) -> str:
        found = self.matches() if found is None else found
        if not self.text:
            return ""
        if self.current not in found:
            return f"find {self.text!r}: {len(found)} matches"
        return f"find {self.text!r}: {found.index(self.current) + 1} of {len(found)}"

    def decorate(self, line: StyleAndTextTuples, number: int) -> StyleAndTextTuples:
        """``line`` (the ``number``-th kept line) with each match highlighted."""
        if not self.text:
            return line
        text = plain(line)
        needle, folded = self._folded(self.text), self._folded(text)
        spans = []
        start = folded.find(needle)
        while start >= 0:
            spans.append((start, start + len(needle)))
            start = folded.find(needle, start + len(needle))
        if not spans:
            return line
        style = "class:search.current" if number + self.log.dropped == self.current else "class:search.match"
        return highlight(line, spans, style)


def highlight(line: StyleAndTextTuples, spans: list[tuple[int, int]], style: str) -> StyleAndTextTuples:
    """``line`` with ``style`` added to the characters inside ``spans`` (sorted, not overlapping)."""
    result: StyleAndTextTuples = []
    position = 0
    for fragment_style, text, *_ in line:
        end = position + len(text)
        cuts = sorted({position, end, *(p for span in spans for p in span if position < p < end)})
        for left, right in zip(cuts, cuts[1:], strict=False):
            inside = any(a <= left and right <= b for a, b in spans)
            piece = text[left - position : right - position]
            result.append((f"{fragment_style} {style}" if inside else fragment_style, piece))
        position = end
    return result


class OutputKeys(Protocol):
    """What the output-pane keys act on; implemented by the application."""

    search: OutputSearch

    def input_is_empty(self) -> bool: ...

    def start_find(self) -> None: ...

    def find_step(self, *, older: bool) -> None: ...

    def jump_to_statement(self) -> None: ...


def output_key_bindings(actions: OutputKeys) -> KeyBindings:
    bindings = KeyBindings()
    empty = Condition(actions.input_is_empty)

    @bindings.add("c-f", filter=empty)
    def _find(event: KeyPressEvent) -> None:
        if actions.search.active:
            actions.find_step(older=True)
        else:
            actions.start_find()

    @bindings.add("f3")
    def _older(event: KeyPressEvent) -> None:
        actions.find_step(older=True)

    # Shift-F3 would be the usual key, but its ESC [1;2R is also a cursor-position report.
    @bindings.add("c-b", filter=empty & Condition(lambda: actions.search.active))
    def _newer(event: KeyPressEvent) -> None:
        actions.find_step(older=False)

    @bindings.add("escape", filter=empty & Condition(lambda: actions.search.active))
    def _end(event: KeyPressEvent) -> None:
        actions.search.find("")

    @bindings.add("f4")
    def _statement(event: KeyPressEvent) -> None:
        actions.jump_to_statement()

    return bindings


def jump_target(log: OutputLog, current: int | None) -> int | None:
    """The start of the statement before ``current`` (None: the newest one), or None."""
    marks = [m for m in log.marks if m >= log.dropped]
    if current is not None:
        marks = [m for m in marks if m < current]
    return marks[-1] if marks else None
