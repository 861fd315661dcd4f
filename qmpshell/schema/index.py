"""The schema index: what ``query-qmp-schema`` says the server accepts, in a shape easy to ask.

QEMU's introspection (docs/devel/qapi-code-gen.rst, "Client JSON Protocol
introspection") is a flat list of entities named by masked numbers; the QMP
spec warns that "the schema is not promised to be stable", so every part here
is optional: an entry with an unknown ``meta-type`` or a type name that is never
defined becomes ``UNKNOWN`` and the callers fall back to the core's guessing
rules.  ``knowledge_for`` is what ``cli`` calls after connecting.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType

from qmpshell.qmptypes import Message
from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# NamedTuples, not dataclasses: a batch line with arguments reads the index, and dataclasses (with
# inspect) would add about 8 ms to that start.
NO_VARIANTS: Mapping[str, str] = MappingProxyType({})


class Member(NamedTuple):
    """One member of an object type (``optional`` is the introspection's ``default``)."""

    name: str
    type: str
    optional: bool = False
    features: tuple[str, ...] = ()


class TypeInfo(NamedTuple):
    """One type.  ``meta`` is builtin, enum, object, array, alternate or unknown."""

    name: str
    meta: str
    json_type: str = ""  # builtin: string, int, number, boolean, null, value
    values: tuple[str, ...] = ()  # enum
    members: tuple[Member, ...] = ()  # object
    tag: str = ""  # object: the discriminator of a flat union
    variants: Mapping[str, str] = NO_VARIANTS  # tag value -> object type
    element: str = ""  # array
    branches: tuple[str, ...] = ()  # alternate


UNKNOWN = TypeInfo("", "unknown")


class Entity(NamedTuple):
    """A command or an event; ``ret_type`` is '' for events."""

    name: str
    arg_type: str
    ret_type: str = ""
    features: tuple[str, ...] = ()


# One entry as the index keeps it until asked: its meta-type, its name, and the entry itself or
# its JSON text (a cached schema: ``schema.cache``).
Named = tuple[object, str, "Message | str"]


class Entities(Mapping[str, Entity]):
    """Commands or events by name, each made an ``Entity`` when first asked for.

    A one-shot types one command of the schema's 270, so a cached schema's
    entries stay JSON text until then (parsing the whole 200 KB file took 3 ms).
    """

    def __init__(self, entries: dict[str, Message | str]) -> None:
        self._entries = entries
        self._made: dict[str, Entity] = {}

    def __getitem__(self, name: str) -> Entity:
        entity = self._made.get(name)
        if entity is None:
            entity = self._made[name] = _entity(decoded(self._entries[name]))
        return entity

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries


def decoded(entry: Message | str) -> Message:
    """An entry kept as JSON text (written by ``schema.cache``, checksummed), as a dict."""
    return json.loads(entry) if isinstance(entry, str) else entry


class SchemaIndex:
    """Commands, events and types by name, with the lookups completion and typing need."""

    def __init__(
        self,
        types: dict[str, TypeInfo],
        commands: Mapping[str, Entity],
        events: Mapping[str, Entity],
        *,
        raw_types: dict[str, Message | str] | None = None,
    ):
        self.types = types
        self.commands = commands
        self.events = events
        # Types are converted when first asked for: a batch run touches a handful of the
        # ~800, and start-up with a cached schema should not pay for the rest.
        self._raw_types = raw_types or {}

    @classmethod
    def from_entries(cls, entries: Iterable[Any]) -> SchemaIndex:
        """Build the index from the ``return`` of query-qmp-schema; bad entries are skipped."""
        return cls.from_named(
            (entry.get("meta-type"), entry["name"], entry)
            for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get("name"), str)
        )

    @classmethod
    def from_named(cls, entries: Iterable[Named]) -> SchemaIndex:
        """Build the index from entries already named (see ``Named``): nothing is converted yet."""
        raw_types: dict[str, Message | str] = {}
        commands: dict[str, Message | str] = {}
        events: dict[str, Message | str] = {}
        for meta, name, entry in entries:
            if meta == "command":
                commands[name] = entry
            elif meta == "event":
                events[name] = entry
            else:
                raw_types[name] = entry
        return cls({}, Entities(commands), Entities(events), raw_types=raw_types)

    def type(self, name: str) -> TypeInfo:
        """The type called ``name``; ``[T]`` is an array of T even when not listed."""
        info = self.types.get(name)
        if info is not None:
            return info
        raw = self._raw_types.get(name)
        if raw is not None:
            info = self.types[name] = _type_info(decoded(raw))
            return info
        if name.startswith("[") and name.endswith("]"):
            return TypeInfo(name, "array", element=name[1:-1])
        return UNKNOWN

    def members(self, type_name: str, tag_value: str | None = None) -> tuple[Member, ...]:
        """An object's members: the common ones, then the variant's for ``tag_value``."""
        info = self.type(type_name)
        if info.meta != "object":
            return ()
        variant = info.variants.get(tag_value) if tag_value is not None else None
        if variant is None or variant == type_name:  # a union that is its own variant adds nothing
            return info.members
        return info.members + self.members(variant)  # tag None: one level, never a cycle

    def all_member_names(self, type_name: str) -> list[str]:
        """Every member name of an object in any of its variants (for 'did you mean')."""
        names: list[str] = []
        for name in self.variant_closure(type_name):
            names.extend(m.name for m in self.type(name).members if m.name not in names)
        return names

    def variant_closure(self, type_name: str) -> list[str]:
        """The type and its variants, their variants and so on, each once (a schema may loop)."""
        found = [type_name]
        for name in found:  # grows while it is read: a breadth-first walk without recursion
            found.extend(v for v in dict.fromkeys(self.type(name).variants.values()) if v not in found)
        return found

    def variant_walk(self, type_name: str, tag_of: Callable[[str], str | None]) -> tuple[list[str], bool]:
        """The object types a value of ``type_name`` is made of, as its tags choose them.

        A union's variant may itself be a union (QEMU 8.2's ``MigrationAddress``
        on ``transport``, whose ``socket`` variant is ``SocketAddress``, a union on
        ``type``): each level's tag is read with ``tag_of(tag name)`` and its
        variant followed, to any depth.  Also whether the walk is complete: it
        ended where no tag is left to choose (not at a tag missing or unknown).
        """
        walk: list[str] = []
        name = type_name
        while name not in walk and self.type(name).meta == "object":
            walk.append(name)
            info = self.type(name)
            if not info.tag:
                return walk, True
            variant = info.variants.get(tag_of(info.tag) or "")
            if variant is None:
                return walk, False
            name = variant
        return walk, True

    def members_chosen(self, type_name: str, tag_of: Callable[[str], str | None]) -> tuple[Member, ...]:
        """The members of ``type_name`` and of every variant its tags choose (``variant_walk``)."""
        members: list[Member] = []
        for name in self.variant_walk(type_name, tag_of)[0]:
            members.extend(m for m in self.type(name).members if m not in members)
        return tuple(members)

    def member(self, type_name: str, name: str, tag_value: str | None = None) -> Member | None:
        for member in self.members(type_name, tag_value):
            if member.name == name:
                return member
        return None

    def object_branch(self, type_name: str) -> str:
        """The object type an argument holds when given nested keys: itself or an alternate's branch."""
        info = self.type(type_name)
        if info.meta == "object":
            return type_name
        if info.meta == "alternate":
            for branch in info.branches:
                if self.type(branch).meta == "object":
                    return branch
        return ""

    def action_type(self, action: str) -> str | None:
        """The data type of a ``transaction`` action, or None when the server has no such action.

        ``transaction`` takes ``actions: [TransactionAction]``, a union on ``type``
        whose variants wrap the real argument type in a member ``data``.
        """
        union = self._action_union()
        if union is None:
            return None
        variant = self.type(union).variants.get(action)
        if variant is None:
            return None
        data = self.member(variant, "data")
        return data.type if data is not None else ""

    def action_names(self) -> list[str]:
        union = self._action_union()
        return list(self.type(union).variants) if union is not None else []

    def _action_union(self) -> str | None:
        command = self.commands.get("transaction")
        actions = self.member(command.arg_type, "actions") if command is not None else None
        if actions is None:
            return None
        return self.type(actions.type).element or None


def _entity(entry: Message) -> Entity:
    return Entity(
        entry["name"],
        str(entry.get("arg-type", "")),
        str(entry.get("ret-type", "")),
        _strings(entry.get("features")),
    )


def _type_info(entry: Message) -> TypeInfo:
    name, meta = entry["name"], entry.get("meta-type")
    if meta == "builtin":
        return TypeInfo(name, "builtin", json_type=str(entry.get("json-type", "value")))
    if meta == "enum":
        return TypeInfo(name, "enum", values=_enum_values(entry))
    if meta == "array":
        return TypeInfo(name, "array", element=str(entry.get("element-type", "")))
    if meta == "alternate":
        branches = tuple(str(m.get("type")) for m in _dicts(entry.get("members")))
        return TypeInfo(name, "alternate", branches=branches)
    if meta == "object":
        return _object_info(entry)
    return TypeInfo(name, "unknown")


def _object_info(entry: Message) -> TypeInfo:
    members = tuple(
        Member(str(m["name"]), str(m.get("type", "any")), "default" in m, _strings(m.get("features")))
        for m in _dicts(entry.get("members"))
        if "name" in m
    )
    variants = {str(v.get("case")): str(v.get("type")) for v in _dicts(entry.get("variants"))}
    return TypeInfo(
        entry["name"], "object", members=members, tag=str(entry.get("tag") or ""), variants=variants
    )


def _enum_values(entry: Message) -> tuple[str, ...]:
    """``values`` (QEMU <= 8.x); newer servers also give ``members`` with features."""
    values = entry.get("values")
    if isinstance(values, list):
        return tuple(str(v) for v in values)
    return tuple(str(m["name"]) for m in _dicts(entry.get("members")) if "name" in m)


def _dicts(value: Any) -> list[Message]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def index_of(knowledge: object) -> SchemaIndex | None:
    """The index behind a shell's ``knowledge`` (None without a schema)."""
    index = getattr(knowledge, "index", None)
    return index if isinstance(index, SchemaIndex) else None
