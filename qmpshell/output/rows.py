"""Styled rows: what every view produces, and the few helpers views share to build them.

A view returns lines of ``(style, text)`` segments.  Styles are bare names from
``STYLES``; the interactive front-end maps each to a prompt_toolkit class
(``view.NAME``), batch mode to an ANSI colour or to nothing.  The style
``json`` is special: its text is JSON that the front-end highlights itself.
Nothing here imports prompt_toolkit or pygments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from qmpshell.output.render import json_text
from qmpshell.output.safe import visible

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Segment = tuple[str, str]
Line = list[Segment]

STYLES = (
    "",  # plain
    "dim",  # secondary: labels, units, notes
    "ok",  # success, a running VM
    "error",
    "hint",
    "warn",  # paused, attention
    "header",  # table headers, group titles
    "key",  # key of key: value
    "name",  # the identifying value of a row or node
    "string",
    "number",
    "keyword",  # true, false, null
    "tree",  # tree guides
    "text",  # text from the server shown as it is (human-readable-text, HMP)
    "json",  # JSON text the front-end highlights
    "time",  # an event's time stamp
    "event",  # an event's name
)


@dataclass(frozen=True)
class Rendering:
    """The lines a view made, and which view made them (``json`` for the fallback)."""

    lines: list[Line]
    view: str = "json"

    def safe(self) -> Rendering:
        """The same lines with control characters from the server shown (``^[``), never obeyed.

        Every view's text passes here once (``views.render_value``), so no view has to remember;
        JSON segments are already escaped by ``json_text``.
        """
        lines = [_safe_line(line) for line in self.lines]
        return Rendering(lines, self.view)

    def text(self) -> str:
        """Plain text, one ``\\n`` per line (tests, ``/save`` and the benchmark read it)."""
        return "\n".join("".join(text for _, text in line) for line in self.lines)


def _safe_line(line: Line) -> Line:
    """One regular-expression test a line in the usual case (nothing to show)."""
    joined = "".join(text for _, text in line)
    if visible(joined) == joined:
        return line
    return [(style, text if style == "json" else visible(text)) for style, text in line]


def scalar(value: Any) -> bool:
    """A JSON leaf: string, number, boolean or null."""
    return value is None or isinstance(value, (str, int, float, bool))


def scalar_list(value: Any) -> bool:
    return isinstance(value, list) and all(scalar(item) for item in value)


def shown(value: Any) -> str:
    """A leaf as a person reads it: JSON's spelling for true/false/null, ``""`` for empty text."""
    if value is True or value is False or value is None:
        return "true" if value else ("false" if value is False else "null")
    if isinstance(value, float):
        return json_text(value)
    if isinstance(value, str):  # a newline from the server must not start a row of its own
        return visible(value, one_line=True) if value else '""'
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value) if value else "[]"
    return str(value)


def style_of(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "keyword"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def cell(value: Any) -> Segment:
    """A leaf as one styled segment."""
    return (style_of(value), shown(value))


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted.path, leaf)`` for every leaf of an object; lists of scalars count as one leaf.

    An empty object or list is yielded as a leaf of its own (it is not a scalar, so
    views that want scalars see it and refuse rather than lose it).
    """
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from flatten(item, f"{prefix}{key}.")
    elif isinstance(value, list) and value and not scalar_list(value):
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}{index}.")
    else:
        yield prefix[:-1], value


def key_values(pairs: Iterable[tuple[str, Any]], *, indent: str = "") -> list[Line]:
    """Aligned ``key: value`` lines."""
    items = list(pairs)
    width = max((len(key) for key, _ in items), default=0)
    return [
        [("", indent), ("key", f"{key}:".ljust(width + 1)), ("", " "), cell(value)] for key, value in items
    ]


def inline_pairs(pairs: Iterable[tuple[str, Any]]) -> Line:
    """``key value  key value`` on one line (dim keys), for the details under a tree node."""
    line: Line = []
    for key, value in pairs:
        if line:
            line.append(("", "  "))
        line += [("dim", f"{key} "), cell(value)]
    return line


SEPARATOR: Segment = ("", "  ")  # between the pairs of a details line
BREAK: Segment = ("", "\n")  # in a details line: the next pair starts a new line


def wrap(segments: Line, width: int, indent: Line) -> list[Line]:
    """Break a line of ``key value`` pairs (``SEPARATOR`` between them) to ``width`` columns;
    a ``BREAK`` starts a new line wherever the current one is."""
    lines: list[Line] = []
    current: Line = list(indent)
    used = start = sum(len(text) for _, text in indent)
    for pair, forced in _pairs(segments):
        size = sum(len(text) for _, text in pair)
        if used > start and (forced or used + 2 + size > width):
            lines.append(current)
            current, used = list(indent), start
        if used > start:
            current.append(SEPARATOR)
            used += 2
        current += pair
        used += size
    if used > start:
        lines.append(current)
    return lines


def _pairs(segments: Line) -> Iterator[tuple[Line, bool]]:
    """Each pair, and whether a ``BREAK`` came before it."""
    pair: Line = []
    forced = False
    for segment in segments:
        if segment in (SEPARATOR, BREAK):
            if pair:
                yield pair, forced
                pair, forced = [], False
            forced = forced or segment == BREAK
        else:
            pair.append(segment)
    if pair:
        yield pair, forced


def size_text(value: Any) -> str:
    """``64 MiB`` for a byte count (exact count shown elsewhere by the view)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return shown(value)
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" or size == int(size) else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


def json_lines(value: Any) -> list[Line]:
    """The fallback: indented JSON, one ``json`` segment (with newlines) highlighted as a whole."""
    return [[("json", json_text(value, pretty=True))]]
