"""Deprecated and unstable commands and arguments: the warning a line gets when it uses one.

Apart from ``schema.help``: every line with arguments is checked, and the help's
text layout need not be loaded for that (a one-shot's start).
"""

from __future__ import annotations

from collections.abc import Mapping

from qmpshell.schema.index import SchemaIndex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def warning_for(index: SchemaIndex, command: str) -> str:
    """One line for a deprecated or unstable command, else ''."""
    entity = index.commands.get(command)
    features = entity.features if entity is not None else ()
    if "deprecated" in features:
        return f"{command} is deprecated and may be removed in a future QEMU"
    if "unstable" in features:
        return f"{command} is unstable: its interface may change without notice"
    return ""


def deprecated_members(index: SchemaIndex, command: str, arguments: Mapping[str, Any]) -> list[str]:
    """One line per deprecated argument a message uses (``file.x``: nested ones too)."""
    entity = index.commands.get(command)
    return _deprecated_in(index, entity.arg_type, arguments, "") if entity is not None else []


def _deprecated_in(index: SchemaIndex, type_name: str, values: Mapping[str, Any], path: str) -> list[str]:
    info = index.type(type_name)
    tag = values.get(info.tag) if info.tag else None
    found: list[str] = []
    for member in index.members(type_name, tag if isinstance(tag, str) else None):
        if member.name not in values:
            continue
        if "deprecated" in member.features:
            found.append(f"{path}{member.name} is deprecated and may be removed in a future QEMU")
        value, nested = values[member.name], index.object_branch(member.type)
        if isinstance(value, dict) and nested:
            found.extend(_deprecated_in(index, nested, value, f"{path}{member.name}."))
    return found
