"""Several targets' replies to one command as one table: a row per field, a column per target.

``@all query-migrate`` during a migration: the source's and the destination's
status, times and counters next to each other, where headings one under the
other would make the eye jump.  Nested objects become dotted field names
(``ram.transferred``); lists are shown as JSON.  A field one target lacks is
left empty.
"""

from __future__ import annotations

import json

from qmpshell.output.safe import visible

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MISSING = ""


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """``{"ram": {"total": 1}}`` -> ``{"ram.total": "1"}``; a scalar at the top is the field ``value``."""
    if not isinstance(value, dict):
        return {prefix or "value": _cell(value)}
    fields: dict[str, str] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            fields.update(flatten(item, name + "."))
        else:
            fields[name] = _cell(item)
    return fields


def _cell(value: Any) -> str:
    """A server's text with its control characters shown, not obeyed."""
    return visible(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def side_by_side(returns: list[tuple[str, Any]]) -> str:
    """The table: ``FIELD`` then one column per target, fields in the order first seen."""
    flat = [(name, flatten(value)) for name, value in returns]
    fields: dict[str, None] = {}
    for _, cells in flat:
        fields.update(dict.fromkeys(cells))
    rows = [["FIELD", *(name for name, _ in flat)]]
    rows += [[field, *(cells.get(field, MISSING) for _, cells in flat)] for field in fields]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )
