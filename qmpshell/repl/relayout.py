"""Replies already drawn follow the output pane's width (F2, ``/events hide|show``, a resize).

A reply is laid out for the pane as it is when it arrives (a table's columns, a
tree's wrapping).  Each one whose layout depends on the width is remembered with
its outcome and ``Presentation``; when the pane is drawn at another width, the replies
*in view* are laid out again and spliced into the log (``OutputLog.splice``
moves everything numbered after them: the marks, the scroll position, the
search).  Those out of view are laid out when they come into view: toggling the
events pane after a long session costs the replies on the screen, not the
thousands above them.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qmpshell.outcomes import Outcome, Reply
from qmpshell.repl import styled
from qmpshell.repl.panes import Moved, OutputLog, Public, Span, log_lines
from qmpshell.repl.search import OutputSearch

ROUNDS = 20  # a relaid reply that shrinks brings older ones into view: at most this many passes a draw


@dataclass
class Drawn:
    """A reply on the screen: its first line (absolute), how many, and what lays it out again."""

    start: int
    count: int
    outcome: Outcome
    presentation: styled.Presentation
    public: Public | None


def follows_width(outcome: Outcome, presentation: styled.Presentation) -> bool:
    """Whether the outcome's lines depend on the pane's width: a reply shown through a view."""
    return isinstance(outcome, Reply) and presentation.format == "auto" and not outcome.as_json


class Relayout:
    """The replies drawn, and ``fit``: those in view laid out for the width the pane has now."""

    def __init__(self, log: OutputLog, search: OutputSearch) -> None:
        self._log = log
        self._search = search
        self._drawn: list[Drawn] = []  # in line order
        self._width = 0  # the presentation width of the last ``fit``
        self._stale = 0  # how many of ``_drawn`` were laid out for another width

    def add(
        self, start: int, outcome: Outcome, presentation: styled.Presentation | None, public: Public | None
    ) -> None:
        """A reply was added to the log from line ``start`` on (to its end)."""
        if (
            presentation is None
            or not follows_width(outcome, presentation)
            or not self._log.dropped <= start < self._log.end
        ):
            return
        self._prune()
        self._drawn.append(Drawn(start, self._log.end - start, outcome, presentation, public))
        if self._width and presentation.width != self._width:
            self._stale += 1

    def fit(self, width: int, height: int) -> None:
        """Before the pane draws ``height`` lines of ``width`` cells: the stale replies in view are
        laid out again.  Nothing to do (the usual case) costs a comparison."""
        wanted = styled.reply_width(width)
        if wanted != self._width:
            self._width = wanted
            self._stale = sum(1 for drawn in self._drawn if drawn.presentation.width != wanted)
        for _ in range(ROUNDS):
            if not self._stale:
                return
            self._prune()  # Ctrl-L or /clear may have emptied the log since
            if not self._relay(self._in_view(height)):
                return

    def _prune(self) -> None:
        """Forget the replies that left the log (cleared, or fallen off its top)."""
        starts = [drawn.start for drawn in self._drawn]
        gone = bisect.bisect_left(starts, self._log.dropped)
        if gone:
            self._stale -= sum(1 for drawn in self._drawn[:gone] if drawn.presentation.width != self._width)
            del self._drawn[:gone]

    def _in_view(self, height: int) -> list[Drawn]:
        """The stale replies with a line in the pane's view (or in the screen above it)."""
        top = self._log.dropped + self._log.view_top(height)
        low, high = top - height, top + height
        starts = [drawn.start for drawn in self._drawn]
        first = max(0, bisect.bisect_right(starts, low) - 1)
        last = bisect.bisect_left(starts, high)
        return [
            drawn
            for drawn in self._drawn[first:last]
            if drawn.presentation.width != self._width and drawn.start + drawn.count > low
        ]

    def _relay(self, stale: list[Drawn]) -> bool:
        """Lay ``stale`` out at the current width and splice them in; False when there were none."""
        if not stale:
            return False
        spans: list[Span] = []
        for drawn in stale:
            drawn.presentation = replace(drawn.presentation, width=self._width)
            lines = log_lines(styled.outcome(drawn.outcome, drawn.presentation))
            spans.append(Span(drawn.start, drawn.count, lines, drawn.public))
            drawn.count = len(lines)
        moved = mover(spans)
        self._log.splice(spans, moved)
        for drawn in self._drawn:
            drawn.start = moved(drawn.start)
        self._search.moved(moved)
        self._stale -= len(stale)
        self._prune()
        return True


def mover(spans: Sequence[Span]) -> Moved:
    """Where a line numbered before the splice of ``spans`` is after it: after a span, moved by
    the lines it gained or lost; inside one, as far into its new lines as it was into the old."""
    starts = [span.start for span in spans]
    shifts, shift = [], 0
    for span in spans:
        shifts.append(shift)
        shift += len(span.lines) - span.length

    def moved(line: int) -> int:
        index = bisect.bisect_right(starts, line) - 1
        if index < 0:
            return line
        span, before = spans[index], shifts[index]
        if line < span.start + span.length:
            return span.start + before + (line - span.start) * len(span.lines) // span.length
        return line + before + len(span.lines) - span.length

    return moved
