"""Text from the schema for people: ``/help`` trees, signatures and error hints.

A command's help is its argument tree, one member a line::

    block_resize                                command
      device: str, optional
      node-name: str, optional
      size: int
      returns: nothing

Nested objects are indented under their member, flat unions list each variant
(variants sharing one type are listed together), and a type met again further
down (``blockdev-add`` refers to itself through ``file``) is named, not expanded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from qmpshell.errors import UsageError
from qmpshell.language.syntax import Kind, tokenize
from qmpshell.schema.index import Entity, Member, SchemaIndex
from qmpshell.schema.values import close_matches

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WIDTH = 44
WRAP = 76  # help lines wrap at word boundaries to fit an 80-column pane
_PARAMETER = re.compile(r"Parameter '([^']+)' is (unexpected|missing)")


def describe(
    index: SchemaIndex, name: str, *, narrow: Mapping[str, str] | None = None, width: int = WRAP
) -> str | None:
    """``/help NAME [TAG=VALUE...]``: the command's or event's tree, or None when the schema has neither.

    ``narrow`` keeps only the variants of a union its discriminator selects
    (``driver=qcow2``, ``file.driver=file``); a key that names no discriminator is a usage error.
    """
    if name in index.commands:
        entity, what = index.commands[name], "command"
    elif name in index.events:
        entity, what = index.events[name], "event"
    else:
        return None
    picks = _Narrowing(narrow or {})
    lines = _entity_help(index, entity, what, picks)
    picks.check(name)
    return "\n".join(wrapped for line in lines for wrapped in wrap_line(line, width))


class _Narrowing:
    """Which union variants ``/help`` shows, and which of the asked keys named a discriminator."""

    def __init__(self, wanted: Mapping[str, str]) -> None:
        self.wanted = dict(wanted)
        self.used: set[str] = set()

    def shows(self, path: str, cases: list[str]) -> bool:
        if path not in self.wanted:
            return True
        self.used.add(path)
        return self.wanted[path] in cases

    def check(self, name: str) -> None:
        unused = [key for key in self.wanted if key not in self.used]
        if unused:
            raise UsageError(f"/help {name}: {unused[0]} is not a union discriminator of {name}")


def wrap_line(line: str, width: int) -> list[str]:
    """A help line cut at word boundaries, continued under its text with a deeper indent."""
    if len(line) <= width or width < 20:
        return [line]
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    import textwrap  # only /help wraps: a batch line reads this module for its warnings alone

    return textwrap.wrap(
        line, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False
    )


def _entity_help(index: SchemaIndex, entity: Entity, what: str, picks: _Narrowing) -> list[str]:
    lines = [f"{entity.name:<{_WIDTH}}{what}"]
    body = _object_lines(index, entity.arg_type, depth=1, seen=frozenset(), picks=picks)
    heading = "arguments:" if what == "command" else "data:"
    lines.append(f"  {heading}" + ("" if body else " none"))
    lines.extend(body)
    if what == "command":
        lines.append(f"  returns: {_returns(index, entity.ret_type)}")
        returned = _returned_object(index, entity.ret_type)
        lines.extend(_object_lines(index, returned, depth=1, seen=frozenset(), picks=_Narrowing({})))
    if entity.features:
        lines.append(f"  features: {', '.join(entity.features)}")
    return lines


def _object_lines(
    index: SchemaIndex, type_name: str, *, depth: int, seen: frozenset[str], picks: _Narrowing, path: str = ""
) -> list[str]:
    info = index.type(type_name)
    if info.meta != "object" or type_name in seen:
        return []
    seen = seen | {type_name}
    lines: list[str] = []
    for member in info.members:
        lines.extend(_member_lines(index, member, depth=depth + 1, seen=seen, picks=picks, path=path))
    by_type: dict[str, list[str]] = {}
    for case, variant in info.variants.items():
        by_type.setdefault(variant, []).append(case)
    for variant, cases in by_type.items():
        if not picks.shows(path + info.tag, cases):
            continue
        variant_lines = _object_lines(index, variant, depth=depth + 1, seen=seen, picks=picks, path=path)
        lines.append(
            f"{'  ' * (depth + 1)}when {info.tag} is {', '.join(cases)}:" + ("" if variant_lines else " -")
        )
        lines.extend(variant_lines)
    return lines


def _member_lines(
    index: SchemaIndex, member: Member, *, depth: int, seen: frozenset[str], picks: _Narrowing, path: str
) -> list[str]:
    notes = [type_text(index, member.type)]
    if member.optional:
        notes.append("optional")
    notes.extend(member.features)
    lines = [f"{'  ' * depth}{member.name}: {', '.join(notes)}"]
    nested = index.object_branch(member.type) or index.object_branch(index.type(member.type).element)
    if nested in seen:
        lines[0] += " (as above)"
    elif nested:
        lines.extend(
            _object_lines(index, nested, depth=depth, seen=seen, picks=picks, path=f"{path}{member.name}.")
        )
    return lines


def type_text(
    index: SchemaIndex, type_name: str, *, enum_limit: int = 0, _outer: tuple[str, ...] = ()
) -> str:
    """A readable type: ``int``, ``enum (a | b)``, ``array of str``, ``str or object``."""
    if type_name in _outer:  # an array of itself: name it once, do not unfold it forever
        return f"{type_name} (recursive)"
    info = index.type(type_name)
    if info.meta == "builtin":
        return info.name
    if info.meta == "enum":
        values = info.values if not enum_limit or len(info.values) <= enum_limit else info.values[:enum_limit]
        more = " | ..." if len(values) < len(info.values) else ""
        return f"enum ({' | '.join(values)}{more})"
    if info.meta == "array":
        return (
            f"array of {type_text(index, info.element, enum_limit=enum_limit, _outer=(*_outer, type_name))}"
        )
    if info.meta == "alternate":
        return " or ".join(_short(index, branch) for branch in info.branches)
    if info.meta == "object":
        return f"union on {info.tag}" if info.tag else "object"
    return "any"


def _short(index: SchemaIndex, type_name: str) -> str:
    info = index.type(type_name)
    return info.name if info.meta == "builtin" else ("array" if info.meta == "array" else info.meta)


def _returns(index: SchemaIndex, ret_type: str) -> str:
    info = index.type(ret_type)
    if info.meta == "object" and not info.members and not info.variants:
        return "nothing ({})"
    return type_text(index, ret_type, enum_limit=8)


def _returned_object(index: SchemaIndex, ret_type: str) -> str:
    info = index.type(ret_type)
    return index.object_branch(info.element) if info.meta == "array" else index.object_branch(ret_type)


def signature(index: SchemaIndex, command: str) -> str:
    """One line for a toolbar: ``block_resize [device=str] [node-name=str] size=int``.

    An enum is listed once: a later member of the same type says which one it shares.
    """
    entity = index.commands.get(command)
    if entity is None:
        return ""
    info = index.type(entity.arg_type)
    parts = [command]
    listed: dict[str, str] = {}
    for member in info.members:
        if index.type(member.type).meta == "enum" and member.type in listed:
            shown = f"enum (as {listed[member.type]})"
        else:
            shown = type_text(index, member.type, enum_limit=4)
            listed.setdefault(member.type, member.name)
        text = f"{member.name}={shown}"
        parts.append(f"[{text}]" if member.optional else text)
    if info.tag:
        parts.append(f"... (more members once {info.tag}= is given)")
    return " ".join(parts)


def signature_at(index: SchemaIndex, text: str) -> str:
    """The signature of the command a line being typed calls ('' before there is one)."""
    for token in tokenize(text):
        if token.kind is Kind.COMMAND:
            return signature(index, token.text)
        if token.kind is not Kind.WS:
            return ""
    return ""


def hint_for_error(index: SchemaIndex, command: str, response: dict[str, Any]) -> str:
    """Close matches for an unexpected parameter, the required names for a missing one."""
    error = response.get("error")
    entity = index.commands.get(command)
    match = _PARAMETER.search(str(error.get("desc", ""))) if isinstance(error, dict) else None
    if match is None or entity is None:
        return ""
    *parents, name = match.group(1).split(".")
    type_name = _path_type(index, entity.arg_type, parents)
    if not type_name:
        return ""
    if match.group(2) == "unexpected":
        matches = close_matches(name, index.all_member_names(type_name))
        if matches:
            return f"did you mean {' or '.join(matches)}?"
        names = index.all_member_names(type_name)
        return f"{command} takes: {', '.join(names)}" if names else f"{command} takes no arguments"
    required = [m.name for m in index.type(type_name).members if not m.optional]
    if name not in required:  # required by a union's variant (blockdev-add driver=qcow2: file)
        required.append(name)
    return f"required: {', '.join(required)}"


def _path_type(index: SchemaIndex, type_name: str, path: list[str]) -> str:
    """The object type at a dotted path, looking through every variant of a union."""
    for part in path:
        member = next((m for m in _any_variant_members(index, type_name) if m.name == part), None)
        if member is None:
            return ""
        type_name = index.object_branch(member.type)
    return type_name


def _any_variant_members(index: SchemaIndex, type_name: str) -> list[Member]:
    return [member for name in index.variant_closure(type_name) for member in index.type(name).members]
