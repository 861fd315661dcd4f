"""Joining the manual to the live schema: which documented member each live member is.

``query-qmp-schema`` hides type names, so the join goes by command or event
name, then by member names down the tree: a definition's own members, those
of the types it includes ("The members of X"), and of a union branch the
user's ``TAG=VALUE`` picks.  Where the manual names no type for a command's
arguments (7.2's ``block-dirty-bitmap-*``), the documented object whose
member names are exactly the live argument type's stands in for it.
"""

from __future__ import annotations

from dataclasses import replace

from qmpshell.docs.model import Definition, Include, Manual, MemberDoc
from qmpshell.schema.index import SchemaIndex


def definition_for(manual: Manual, index: SchemaIndex, name: str) -> Definition | None:
    """The command's or event's definition, '' arguments filled in by member-name matching."""
    definition = manual.definitions.get(name)
    if definition is None:
        return None
    entity = index.commands.get(name) or index.events.get(name)
    if entity is None or definition.members or definition.includes:
        return definition
    live = {m.name for m in index.type(entity.arg_type).members}
    if not live:
        return definition
    for candidate in manual.definitions.values():
        if candidate.kind == "object" and {m.name for m in gather(manual, candidate.name, {})} == live:
            return replace(definition, includes=[Include(candidate.name)])  # the manual's own stays as read
    return definition


def gather(
    manual: Manual,
    name: str | Definition,
    picks: dict[str, str],
    *,
    every_branch: bool = False,
    _seen: frozenset[str] = frozenset(),
) -> list[MemberDoc]:
    """A definition's documented members with those of what it includes; a branch only when picked
    (or each one, ``every_branch``, for completion, which does not know the tag's value yet)."""
    definition = manual.definitions.get(name) if isinstance(name, str) else name
    if definition is None or definition.name in _seen:
        return []
    seen = _seen | {definition.name}
    members = list(definition.members)
    for include in definition.includes:
        if include.tag and not every_branch and picks.get(include.tag) != include.value:
            continue
        members.extend(gather(manual, include.target, picks, every_branch=every_branch, _seen=seen))
    return members


def branches(manual: Manual, name: str | Definition) -> dict[str, list[str]]:
    """A union's documented branches: tag -> values (for 'narrow with TAG=VALUE')."""
    definition = manual.definitions.get(name) if isinstance(name, str) else name
    found: dict[str, list[str]] = {}
    for include in definition.includes if definition is not None else []:
        if include.tag:
            found.setdefault(include.tag, []).append(include.value)
    return found


def object_definition(manual: Manual, type_text: str) -> str:
    """The documented object a member's type names (an alternate's object branch, an array's element)."""
    name = type_text.strip("[]").removeprefix("array of ").strip()
    definition = manual.definitions.get(name)
    if definition is None:
        return ""
    if definition.kind == "alternate":
        for member in definition.members:
            target = manual.definitions.get(member.type.strip("[]"))
            if target is not None and target.kind == "object":
                return target.name
        return ""
    return name if definition.kind == "object" else ""
