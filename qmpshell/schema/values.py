"""Schema-directed values: the ``ArgumentTyper`` used when the server's schema is known.

The rules, by the type the schema gives an argument:

- ``str``: the text as written (``id=123`` sends ``"123"``); a quoted value unquoted;
- ``int``: decimal, ``0x``/``0o``/``0b``, and the suffixes K M G T P (powers of 1024);
- ``number``: any number, floats included;  ``bool``: true/false/on/off/yes/no;
- enums: the value must be one of the enum's;
- alternates: a nested key means the object branch; otherwise the branches are
  tried in the order null, bool, int, number, enum, str (str last: it takes anything);
- members the schema does not list: refused with the closest names (``unknown
  argument 'sise' for block_resize; did you mean size?``), except where QEMU
  takes more than its schema says: ``device_add`` takes the device's own
  properties, typed by ``device-list-properties`` for the driver, and
  ``object-add`` properties are typed by ``qom-list-properties``; ``qom-set
  value=`` is typed by the property's type from ``qom-list``.  Those answers
  come from the running QEMU through ``PropertyTypes`` (``schema.livetypes``);
- ``any``, and whatever no type is known for: the guessing rules, under which a
  bare value is a number only when written as numbers normally are.

Whatever the type, a quoted value stays a string and ``{...}``/``[...]`` is JSON,
as the core language promises.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from qmpshell.errors import UsageError
from qmpshell.language.syntax import Kind
from qmpshell.language.untyped import ArgTree, Value, ValueProblem, guess_tree, guess_value, parse_json_value
from qmpshell.numbers import is_digits
from qmpshell.records import Protocol
from qmpshell.schema.index import SchemaIndex, TypeInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

_INT = re.compile(
    r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+(?:\.[0-9]+)?)([kKmMgGtTpP]?)(?:i?[bB])?"
)
_SUFFIXES = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
_BOOLS = {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}
_ALTERNATE_ORDER = ("null", "boolean", "int", "number", "enum", "string")


def close_matches(word: str, names: list[str], *, limit: int = 3) -> list[str]:
    import difflib  # only a misspelt name needs it: a line typed right never loads it

    return difflib.get_close_matches(word, names, n=limit, cutoff=0.6)


def did_you_mean(word: str, names: list[str], *, limit: int = 3) -> str:
    """``; did you mean a?`` (``a or b`` when they are equally close) or '' when nothing is close.

    Only the closest names are offered: ``e1001`` gets ``e1000``, not also ``e1000e``.
    """
    matches = _closest(word, close_matches(word, names, limit=limit))
    if not matches:
        return ""
    listed = matches[0] if len(matches) == 1 else ", ".join(matches[:-1]) + " or " + matches[-1]
    return f"; did you mean {listed}?"


def _closest(word: str, matches: list[str]) -> list[str]:
    """Those of ``matches`` (best first) as close to ``word`` as the best one."""
    if not matches:
        return []
    import difflib

    best = difflib.SequenceMatcher(None, word, matches[0]).ratio()
    return [m for m in matches if difflib.SequenceMatcher(None, word, m).ratio() >= best]


class PropertyTypes(Protocol):
    """What the running QEMU says about types its schema leaves open; None when it cannot say."""

    def device_types(self) -> list[str] | None: ...

    def device_properties(self, driver: str) -> dict[str, str] | None: ...

    def object_properties(self, qom_type: str) -> dict[str, str] | None: ...

    def qom_property_type(self, path: str, name: str) -> str | None: ...


# A member the schema does not list: (its key, its node, its dotted name) -> its JSON value.
Unlisted: TypeAlias = "Callable[[str, Value | ArgTree, str], Any]"

# Commands that take more arguments than their schema lists (QAPI 'gen': false): the device's properties.
OPEN_COMMANDS = frozenset({"device_add"})


class SchemaTyper:
    """Converts argument trees by the types in a ``SchemaIndex`` (and ``PropertyTypes``, if given)."""

    def __init__(self, index: SchemaIndex, *, properties: PropertyTypes | None = None) -> None:
        self.index = index
        self.properties = properties

    def convert(self, command: str, tree: ArgTree) -> dict[str, Any]:
        entity = self.index.commands.get(command)
        if entity is None:
            names = list(self.index.commands)
            raise UsageError(f"unknown command '{command}'{did_you_mean(command, names, limit=1)}")
        if command == "device_add":
            return self._device_add(entity.arg_type, tree)
        if command == "object-add":
            qom_type = _text(tree.get("qom-type"))
            unlisted = self._object_property(command, entity.arg_type, qom_type)
            return self.object(entity.arg_type, tree, unlisted=unlisted)
        result = self.object(entity.arg_type, tree, unlisted=self._refuse(command, entity.arg_type))
        if command == "qom-set":
            result = self._qom_set_value(tree, result)
        return result

    def convert_action(self, action: str, tree: ArgTree) -> dict[str, Any]:
        data_type = self.index.action_type(action)
        if data_type is None:
            if not self.index.action_names():
                return guess_tree(tree)
            names = self.index.action_names()
            raise UsageError(f"unknown transaction action '{action}'{did_you_mean(action, names)}")
        return self.object(data_type, tree, unlisted=self._refuse(action, data_type))

    def object(
        self, type_name: str, tree: ArgTree, prefix: str = "", *, unlisted: Unlisted | None = None
    ) -> dict[str, Any]:
        """An object's members typed; a flat union's variant chosen by its tag as written.

        A member the schema does not list goes to ``unlisted`` when the schema
        describes this object fully (no tag, or a tag naming a known variant);
        else, and without ``unlisted``, it is guessed.
        """
        info = self.index.type(type_name)
        if info.meta != "object":
            return guess_tree(tree)
        tag_of = lambda tag: _text(tree.get(tag))  # noqa: E731 - the tags as written, at any depth
        complete = self.index.variant_walk(type_name, tag_of)[1]
        members = {member.name: member for member in self.index.members_chosen(type_name, tag_of)}
        result: dict[str, Any] = {}
        for key, node in tree.items():
            member = members.get(key)
            if member is not None:
                result[key] = self.value(member.type, node, prefix + key, unlisted=unlisted)
            elif unlisted is not None and complete:
                result[key] = unlisted(key, node, prefix + key)
            else:
                result[key] = _guess(node)
        return result

    def _refuse(self, command: str, arg_type: str) -> Unlisted:
        """For commands the schema fully describes: an unknown name is a mistake, caught before sending."""

        def refuse(key: str, node: Value | ArgTree, name: str) -> Any:
            parent = name[: len(name) - len(key)]
            names = [parent + n for n in self._names_at(arg_type, parent)]
            raise UsageError(f"unknown argument '{name}' for {command}{did_you_mean(name, names)}")

        return refuse

    def _names_at(self, type_name: str, parent: str) -> list[str]:
        """Every member name of the object at the dotted ``parent`` path (all variants)."""
        for part in filter(None, parent.split(".")):
            if is_digits(part):  # a list's item: the element type is already chosen
                continue
            member = next((m for m in self._all_members(type_name) if m.name == part), None)
            if member is None:
                return []
            info = self.index.type(member.type)
            type_name = self.index.object_branch(member.type) or self.index.object_branch(info.element)
        return self.index.all_member_names(type_name)

    def _all_members(self, type_name: str) -> list[Any]:
        """The members of the type and of all its variants (each variant once: a schema may loop)."""
        return [
            member
            for name in self.index.variant_closure(type_name)
            for member in self.index.type(name).members
        ]

    # -- what the running QEMU knows -------------------------------------------------------

    def _device_add(self, arg_type: str, tree: ArgTree) -> dict[str, Any]:
        """``device_add``: the driver checked against QEMU's device types, its properties typed."""
        driver = _text(tree.get("driver"))
        known = self.properties.device_types() if self.properties is not None and driver else None
        if known is not None and driver not in known:
            raise UsageError(
                f"unknown device type '{driver}' for device_add{did_you_mean(str(driver), known)}"
            )
        props = self.properties.device_properties(str(driver)) if self.properties and known else None
        return self.object(arg_type, tree, unlisted=_typed_by(props or {}))

    def _object_property(self, command: str, arg_type: str, qom_type: str | None) -> Unlisted:
        """``object-add`` members its schema variant lacks: typed by ``qom-list-properties``."""
        refuse = self._refuse(command, arg_type)

        def typed(key: str, node: Value | ArgTree, name: str) -> Any:
            props = self.properties.object_properties(qom_type) if self.properties and qom_type else None
            if props is None or key not in props or name != key:
                return refuse(key, node, name)
            return qom_value(props[key], node, name)

        return typed

    def _qom_set_value(self, tree: ArgTree, result: dict[str, Any]) -> dict[str, Any]:
        """``qom-set value=``: the schema says ``any``; the property's type from ``qom-list`` decides."""
        path, name, value = _text(tree.get("path")), _text(tree.get("property")), tree.get("value")
        if self.properties is None or not path or not name or not isinstance(value, Value):
            return result
        qom_type = self.properties.qom_property_type(path, name)
        if qom_type is None:
            return result
        return {**result, "value": qom_value(qom_type, value, "value")}

    def value(
        self, type_name: str, node: Value | ArgTree, name: str, *, unlisted: Unlisted | None = None
    ) -> Any:
        """One argument's JSON value for the type ``type_name``."""
        info = self.index.type(type_name)
        if isinstance(node, dict):
            return self._nested(info, node, name, unlisted)
        if node.token.kind is Kind.JSON:
            return parse_json_value(node)
        if info.meta == "alternate":
            return self._alternate(info, node, name)
        if node.quoted:
            return self._enum(info, node, name) if info.meta == "enum" else node.text
        if info.meta == "builtin":
            return scalar(info.json_type, node, name)
        if info.meta == "enum":
            return self._enum(info, node, name)
        return guess_value(node)

    def _nested(self, info: TypeInfo, tree: ArgTree, name: str, unlisted: Unlisted | None) -> Any:
        if info.meta == "array":
            return self._array(info, tree, name, unlisted)
        branch = self.index.object_branch(info.name) if info.meta != "unknown" else ""
        return self.object(branch, tree, f"{name}.", unlisted=unlisted) if branch else guess_tree(tree)

    def _array(self, info: TypeInfo, tree: ArgTree, name: str, unlisted: Unlisted | None) -> list[Any]:
        """``NAME.0.KEY=...``: the items numbered from 0; an object written where a list belongs is
        refused before anything is sent (QEMU would refuse it after)."""
        wrong = next((key for key in tree if not is_digits(key)), None)
        if wrong is not None:
            raise UsageError(
                f"'{name}' is a list: number its items, e.g. {name}.0.{wrong}=... (not {name}.{wrong}=...)"
            )
        items = sorted(tree.items(), key=lambda item: int(item[0]))
        return [self.value(info.element, node, f"{name}.{key}", unlisted=unlisted) for key, node in items]

    def _enum(self, info: TypeInfo, value: Value, name: str) -> str:
        if not info.values or value.text in info.values:
            return value.text
        listed = ", ".join(info.values) if len(info.values) <= 12 else ", ".join(info.values[:12]) + ", ..."
        hint = did_you_mean(value.text, list(info.values)) or f"; expected one of: {listed}"
        raise ValueProblem(f"{name}: '{value.text}' is not a valid value{hint}", value)

    def _alternate(self, info: TypeInfo, value: Value, name: str) -> Any:
        branches = {self._kind_of(branch): branch for branch in info.branches}
        if value.quoted:
            order: tuple[str, ...] = ("string", "enum")
        else:
            order = _ALTERNATE_ORDER
        for kind in order:
            branch = branches.get(kind)
            if branch is None:
                continue
            try:
                return self.value(branch, value, name)
            except ValueProblem:
                continue
        return guess_value(value)

    def _kind_of(self, type_name: str) -> str:
        info = self.index.type(type_name)
        return info.json_type if info.meta == "builtin" else info.meta


def _guess(node: Value | ArgTree) -> Any:
    return guess_tree(node) if isinstance(node, dict) else guess_value(node)


def _text(node: Value | ArgTree | None) -> str | None:
    return node.text if isinstance(node, Value) else None


def _typed_by(props: dict[str, str]) -> Unlisted:
    """Members typed by the QOM property types in ``props``; others guessed."""

    def typed(key: str, node: Value | ArgTree, name: str) -> Any:
        qom_type = props.get(key) if name == key else None
        return qom_value(qom_type, node, name) if qom_type is not None else _guess(node)

    return typed


_QOM_INT = re.compile(r"u?int(?:8|16|32|64)?(?:_t)?|size")
_QOM_KINDS = {"bool": "boolean", "boolean": "boolean", "str": "string", "string": "string"}
_QOM_KINDS |= {"number": "number", "double": "number", "float": "number"}


def qom_value(qom_type: str, node: Value | ArgTree, name: str) -> Any:
    """A value typed by a QOM property type (``uint32``, ``bool``, ``str``, ``OnOffAuto``, ...).

    A value that does not read as the type is sent as written, for QEMU to judge:
    ``addr`` is an ``int32`` that also takes ``"00.3"``.
    """
    if isinstance(node, dict):
        return guess_tree(node)
    if node.token.kind is Kind.JSON:
        return parse_json_value(node)
    if node.quoted:
        return node.text
    kind = "int" if _QOM_INT.fullmatch(qom_type) else _QOM_KINDS.get(qom_type, "string")
    try:
        return scalar(kind, node, name)
    except ValueProblem:
        return node.text


def scalar(json_type: str, value: Value, name: str) -> Any:
    """A bare value as the builtin type ``json_type`` (string, int, number, boolean, null, value)."""
    text = value.text
    if json_type == "string":
        return text
    if json_type == "int":
        return parse_int(value, name)
    if json_type == "number":
        return parse_number(value, name)
    if json_type == "boolean":
        if text.lower() in _BOOLS:
            return _BOOLS[text.lower()]
        raise ValueProblem(f"{name}: expected true/false/on/off/yes/no, got '{text}'", value)
    if json_type == "null":
        if text == "null":
            return None
        raise ValueProblem(f"{name}: expected null, got '{text}'", value)
    return guess_value(value)


def parse_int(value: Value, name: str) -> int:
    """Decimal, 0x/0o/0b, optionally scaled by K M G T P (1024 powers): ``1M`` is 1048576."""
    match = _INT.fullmatch(value.text)
    if match is not None:
        sign, digits, suffix = match.groups()
        scale = 1024 ** _SUFFIXES[suffix.lower()]
        try:
            number = _whole(digits, scale)
        except ValueError:  # more digits than Python reads (4300)
            raise ValueProblem(f"{name}: integer too long ({len(digits)} digits)", value) from None
        if number is not None:
            return -number if sign == "-" else number
    raise ValueProblem(f"{name}: expected an integer (e.g. 42, 0x2a, 4K, 1M), got '{value.text}'", value)


def _whole(digits: str, scale: int) -> int | None:
    if "." not in digits:
        return int(digits, 0) * scale if digits[:2].lower() in ("0x", "0o", "0b") else int(digits) * scale
    if scale == 1:
        return None  # a fraction is only whole once scaled: 1.5K, not 1.5
    whole, fraction = digits.split(".")
    scaled = int(whole + fraction) * scale
    divisor = 10 ** len(fraction)
    return scaled // divisor if scaled % divisor == 0 else None


def parse_number(value: Value, name: str) -> int | float:
    text = value.text
    try:
        number = float(text)
    except ValueError:
        raise ValueProblem(f"{name}: expected a number, got '{text}'", value) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueProblem(f"{name}: expected a finite number, got '{text}'", value)
    if not re.fullmatch(r"[-+]?[0-9]+", text):
        return number
    try:
        return int(text)
    except ValueError:  # more digits than Python reads (4300)
        raise ValueProblem(f"{name}: integer too long ({len(text)} digits)", value) from None
