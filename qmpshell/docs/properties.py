"""``/help device_add driver=TYPE`` and ``/help object-add qom-type=TYPE``: a type's properties.

QEMU answers ``device-list-properties`` / ``qom-list-properties`` with
``{"name", "type", "description"?, "default-value"?}`` per property: the
table HMP's ``device_add TYPE,help`` prints, sorted by name, in columns.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

QUESTIONS = {
    "device_add": ("driver", "device-list-properties"),
    "object-add": ("qom-type", "qom-list-properties"),
}


def properties_table(type_name: str, rows: Any, width: int) -> str:
    """The table, cut to ``width``; a line saying so when the type has no properties."""
    entries = sorted((r for r in rows if isinstance(r, dict)), key=lambda r: str(r.get("name", "")))
    if not entries:
        return f"{type_name} has no properties"
    cells = [
        (str(r.get("name", "")), str(r.get("type", "")), _default(r), str(r.get("description", "")))
        for r in entries
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(("name", "type", "default"))]
    widths = [min(w, cap) for w, cap in zip(widths, (36, 16, 12), strict=True)]  # longer cells stick out
    lines = [f"{type_name} properties:", _row(("name", "type", "default", "description"), widths, width)]
    lines.extend(_row(cell, widths, width) for cell in cells)
    return "\n".join(lines)


def _default(row: dict[str, Any]) -> str:
    if "default-value" not in row:
        return ""
    value = row["default-value"]
    return value if isinstance(value, str) else json.dumps(value)


def _row(cells: tuple[str, ...], widths: list[int], width: int) -> str:
    """One property; its description wrapped in its column, or under the row when the column is narrow."""
    import textwrap

    fixed = "  " + "  ".join(cell.ljust(w) for cell, w in zip(cells[:3], widths, strict=True)) + "  "
    room = width - len(fixed)
    if not cells[3] or len(fixed) + len(cells[3]) <= width:
        return (fixed + cells[3]).rstrip()
    if room >= 24:
        return "\n".join(
            textwrap.wrap(cells[3], width, initial_indent=fixed, subsequent_indent=" " * len(fixed))
        )
    return "\n".join(
        [fixed.rstrip(), *textwrap.wrap(cells[3], width, initial_indent="      ", subsequent_indent="      ")]
    )
