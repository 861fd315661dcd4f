"""The generic views, tried in order for any command whose reply has no view of its own.

Each takes the ``return`` value and a ``Context`` and gives lines, or None when
the value is not its shape.  The last resort (in ``views``) is indented JSON,
so a reply is never lost to a view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from qmpshell.numbers import is_digits
from qmpshell.output.rows import Line, cell, flatten, key_values, scalar, scalar_list
from qmpshell.output.table import Column, columns_of, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from qmpshell.schema.index import SchemaIndex

NAMING = ("id", "name", "label", "device", "node-name", "cpu-index", "qom-path")  # first, without a schema
MAX_COLUMNS = 40  # more than this is no longer a table a person reads
MAX_KEYS = 80


@dataclass(frozen=True)
class Context:
    """What a view may know besides the value: the command, the screen width, the schema."""

    command: str = ""
    width: int = 100
    index: SchemaIndex | None = None
    type_name: str = ""  # the schema type of the value (the return type, or an event's data)

    def order(self, keys: list[str]) -> list[str]:
        """``keys`` (dotted paths) in the schema's member order, unknown ones after, as they came.

        Without a schema, the members that name a row (``id``, ``name``...) come first and the rest
        as they came (QEMU's member order in a reply follows no rule a reader could use).
        """
        element = self._element_type()
        if self.index is None or not element:
            return sorted(keys, key=lambda key: NAMING.index(key) if key in NAMING else len(NAMING))
        known = member_positions(self.index, element)
        arrival = {key: position for position, key in enumerate(keys)}
        return sorted(keys, key=lambda key: known.get(key, len(known) + arrival[key]))

    def _element_type(self) -> str:
        if self.index is None or not self.type_name:
            return ""
        info = self.index.type(self.type_name)
        return info.element if info.meta == "array" else self.type_name


@lru_cache(maxsize=64)
def member_positions(index: SchemaIndex, type_name: str) -> dict[str, int]:
    """Each member path's place in the schema's order (kept: a tree asks once per node)."""
    return {path: position for position, path in enumerate(member_paths(index, type_name))}


def member_paths(index: SchemaIndex, type_name: str, prefix: str = "", depth: int = 0) -> list[str]:
    """Every member's dotted path in declaration order, nested objects and union variants included."""
    info = index.type(type_name)
    if info.meta != "object" or depth > 4:
        return []
    paths: list[str] = []
    members = list(info.members)
    for variant in dict.fromkeys(info.variants.values()):
        members += [m for m in index.members(variant) if m not in members]
    for member in members:
        paths.append(prefix + member.name)
        paths += member_paths(index, member.type, f"{prefix}{member.name}.", depth + 1)
    return paths


View: TypeAlias = "Callable[[Any, Context], list[Line] | None]"


def ok_view(value: Any, ctx: Context) -> list[Line] | None:
    """``{"return": {}}``: a dim ``ok``."""
    return [[("dim", "ok")]] if value == {} else None


def text_view(value: Any, ctx: Context) -> list[Line] | None:
    """``{"human-readable-text": ...}`` (the x-query-* commands): the text itself."""
    if isinstance(value, dict) and list(value) == ["human-readable-text"]:
        text = value["human-readable-text"]
        if isinstance(text, str):
            return text_lines(text)
    return None


def text_lines(text: str) -> list[Line]:
    """Text as lines, without the last line end; HMP's ``\\r\\n`` too (a ``\\r`` would show as ``^M``).

    Empty text is shown as ``""``, so that the reply never looks lost.
    """
    text = text.replace("\r\n", "\n").rstrip("\n")
    if not text:
        return [[("string", '""')]]
    return [[("text", line)] for line in text.split("\n")]


def scalar_view(value: Any, ctx: Context) -> list[Line] | None:
    """A bare value (``qom-get``): a string as it is, others in JSON's spelling."""
    if isinstance(value, str):
        return text_lines(value)
    if scalar(value):
        return [[cell(value)]]
    return None


def empty_list_view(value: Any, ctx: Context) -> list[Line] | None:
    return [[("dim", "(none)")]] if value == [] else None


def scalars_view(value: Any, ctx: Context) -> list[Line] | None:
    """An array of scalars: short ones in columns, others one per line."""
    if not isinstance(value, list) or not value or not scalar_list(value):
        return None
    texts = [cell(item)[1] for item in value]
    if max(len(text) for text in texts) <= 30:
        return columns_of(texts, ctx.width)
    return [[cell(item)] for item in value]


def table_view(value: Any, ctx: Context) -> list[Line] | None:
    """An array of objects of scalars (nested objects flattened to ``a.b``): a table."""
    rows = flat_rows(value)
    if rows is None:
        return None
    keys = ctx.order(list(dict.fromkeys(key for row in rows for key in row)))
    if len(keys) > MAX_COLUMNS:
        return None
    if len(keys) == 1:
        return columns_of([cell(row[keys[0]])[1] for row in rows if keys[0] in row], ctx.width)
    return table(rows, [Column(key, key) for key in keys], ctx.width)


def flat_rows(value: Any) -> list[dict[str, Any]] | None:
    """Each object flattened to ``path: leaf``; None unless every leaf is a scalar (or scalar list)."""
    if not isinstance(value, list) or not value or not all(isinstance(item, dict) for item in value):
        return None
    rows = []
    for item in value:  # row by row, so that a reply of another shape is refused at its first row
        row = dict(flatten(item))
        if not all(_cell_fits(key, leaf) for key, leaf in row.items()):
            return None
        rows.append(row)
    return rows


def _cell_fits(key: str, leaf: Any) -> bool:
    return bool(key) and not _indexed(key) and (scalar(leaf) or scalar_list(leaf))


def _indexed(path: str) -> bool:
    """A path through a list of objects (``regions.0.bar``): not a table's shape."""
    return any(is_digits(part) for part in path.split("."))


def object_view(value: Any, ctx: Context) -> list[Line] | None:
    """An object of scalars (nested objects flattened to ``a.b``): aligned ``key: value`` lines."""
    if not isinstance(value, dict) or not value:
        return None
    pairs = list(flatten(value))
    if len(pairs) > MAX_KEYS or not all(_cell_fits(key, leaf) for key, leaf in pairs):
        return None
    leaves = dict(pairs)
    return key_values((key, leaves[key]) for key in ctx.order(list(leaves)))


GENERIC: tuple[tuple[str, View], ...] = (
    ("ok", ok_view),
    ("text", text_view),
    ("scalar", scalar_view),
    ("empty", empty_list_view),
    ("scalars", scalars_view),
    ("table", table_view),
    ("object", object_view),
)
