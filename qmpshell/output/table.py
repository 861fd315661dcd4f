"""Tables and columns: rows of scalars laid out for a terminal of a given width.

When the table is wider than the screen, the least important columns (the last,
in schema order; and first of all any column wider than half the screen) move to a second,
indented line under each row as ``name value`` pairs.  Nothing is cut: a table
never hides a value to fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qmpshell.output.rows import Line, cell, inline_pairs, shown, wrap
from qmpshell.output.safe import display_width, pad, visible

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

GAP = 2


@dataclass(frozen=True)
class Column:
    """One column: the row key it shows and its header."""

    key: str
    title: str


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], width: int) -> list[Line]:
    """A header and one line per row (plus an overflow line when columns did not fit)."""
    widths = [_width(column, rows) for column in columns]
    fitted = _fit(widths, width)
    lines: list[Line] = [_header(columns, widths, fitted)]
    for row in rows:
        lines.append(_row_line(row, columns, widths, fitted))
        spill = [(c.title, row[c.key]) for i, c in enumerate(columns) if i not in fitted and c.key in row]
        if spill:
            lines += wrap(inline_pairs(spill), width, [("", "    ")])
    return lines


def _width(column: Column, rows: Sequence[dict[str, Any]]) -> int:
    cells = (display_width(shown(row[column.key])) for row in rows if column.key in row)
    title = display_width(visible(column.title, one_line=True))
    return max(title, *cells) if rows else title


def _fit(widths: list[int], width: int) -> list[int]:
    """Indexes of the columns on the main line: all when they fit, else the first and as many as fit."""
    if sum(widths) + GAP * (len(widths) - 1) <= width:
        return list(range(len(widths)))
    fitted = [0] + [i for i in range(1, len(widths)) if widths[i] <= max(width // 2, 12)]
    while len(fitted) > 1 and sum(widths[i] for i in fitted) + GAP * (len(fitted) - 1) > width:
        fitted.pop()
    return fitted


def _header(columns: Sequence[Column], widths: list[int], fitted: list[int]) -> Line:
    cells = [pad(visible(columns[i].title, one_line=True), widths[i]) for i in fitted]
    return [("header", (" " * GAP).join(cells).rstrip())]


def _row_line(row: dict[str, Any], columns: Sequence[Column], widths: list[int], fitted: list[int]) -> Line:
    line: Line = []
    for position, index in enumerate(fitted):
        key = columns[index].key
        style, text = cell(row[key]) if key in row else ("", "")
        last = position == len(fitted) - 1
        line.append((style, text if last else pad(text, widths[index] + GAP)))
    return line


def columns_of(values: Sequence[str], width: int) -> list[Line]:
    """Short names filled into as many columns as fit, read down then across (like ``ls``)."""
    if not values:
        return []
    values = [visible(value, one_line=True) for value in values]
    cell_width = max(display_width(value) for value in values) + GAP
    across = max(1, (width + GAP) // cell_width)
    down = -(-len(values) // across)
    lines: list[Line] = []
    for row in range(down):
        names = [values[i] for i in range(row, len(values), down)]
        text = "".join(pad(name, cell_width) for name in names[:-1]) + names[-1]
        lines.append([("name", text)])
    return lines
