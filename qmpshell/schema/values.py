"""Schema-directed values: the ``ArgumentTyper`` used when the server's schema is known.

The rules, by the type the schema gives an argument:

- ``str``: the text as written (``id=123`` sends ``"123"``); a quoted value unquoted;
- ``int``: decimal, ``0x``/``0o``/``0b``, and the suffixes K M G T P (powers of 1024);
- ``number``: any number, floats included;  ``bool``: true/false/on/off/yes/no;
- enums: the value must be one of the enum's;
- alternates: a nested key means the object branch; otherwise the branches are
  tried in the order null, bool, int, number, enum, str (str last: it takes anything);
- ``any``, members the schema does not list (``device_add`` takes the device's
  own properties) and commands whose schema part is missing: the guessing rules.

Whatever the type, a quoted value stays a string and ``{...}``/``[...]`` is JSON,
as the core language promises.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from qmpshell.errors import UsageError
from qmpshell.language.parse import ArgTree, Value, ValueProblem, guess_tree, guess_value, parse_json_value
from qmpshell.language.syntax import Kind
from qmpshell.schema.index import SchemaIndex, TypeInfo

_INT = re.compile(
    r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|\d+(?:\.\d+)?)([kKmMgGtTpP]?)(?:i?[bB])?"
)
_SUFFIXES = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
_BOOLS = {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}
_ALTERNATE_ORDER = ("null", "boolean", "int", "number", "enum", "string")


def close_matches(word: str, names: list[str], *, limit: int = 3) -> list[str]:
    return difflib.get_close_matches(word, names, n=limit, cutoff=0.6)


def did_you_mean(word: str, names: list[str], *, limit: int = 3) -> str:
    """``; did you mean a or b?`` or '' when nothing is close."""
    matches = close_matches(word, names, limit=limit)
    if not matches:
        return ""
    listed = matches[0] if len(matches) == 1 else ", ".join(matches[:-1]) + " or " + matches[-1]
    return f"; did you mean {listed}?"


class SchemaTyper:
    """Converts argument trees by the types in a ``SchemaIndex``."""

    def __init__(self, index: SchemaIndex) -> None:
        self.index = index

    def convert(self, command: str, tree: ArgTree) -> dict[str, Any]:
        entity = self.index.commands.get(command)
        if entity is None:
            names = list(self.index.commands)
            raise UsageError(f"unknown command '{command}'{did_you_mean(command, names, limit=1)}")
        return self.object(entity.arg_type, tree)

    def convert_action(self, action: str, tree: ArgTree) -> dict[str, Any]:
        data_type = self.index.action_type(action)
        if data_type is None:
            if not self.index.action_names():
                return guess_tree(tree)
            names = self.index.action_names()
            raise UsageError(f"unknown transaction action '{action}'{did_you_mean(action, names)}")
        return self.object(data_type, tree)

    def object(self, type_name: str, tree: ArgTree, prefix: str = "") -> dict[str, Any]:
        """An object's members typed; a flat union's variant chosen by its tag as written."""
        info = self.index.type(type_name)
        if info.meta != "object":
            return guess_tree(tree)
        tag = tree.get(info.tag) if info.tag else None
        tag_value = tag.text if isinstance(tag, Value) else None
        result: dict[str, Any] = {}
        for key, node in tree.items():
            member = self.index.member(type_name, key, tag_value)
            result[key] = self.value(member.type, node, prefix + key) if member is not None else _guess(node)
        return result

    def value(self, type_name: str, node: Value | ArgTree, name: str) -> Any:
        """One argument's JSON value for the type ``type_name``."""
        info = self.index.type(type_name)
        if isinstance(node, dict):
            return self._nested(info, node, name)
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

    def _nested(self, info: TypeInfo, tree: ArgTree, name: str) -> Any:
        if info.meta == "array" and tree and all(key.isdigit() for key in tree):
            items = sorted(tree.items(), key=lambda item: int(item[0]))
            return [self.value(info.element, node, f"{name}.{key}") for key, node in items]
        branch = self.index.object_branch(info.name) if info.meta != "unknown" else ""
        return self.object(branch, tree, f"{name}.") if branch else guess_tree(tree)

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
    if not re.fullmatch(r"[-+]?\d+", text):
        return number
    try:
        return int(text)
    except ValueError:  # more digits than Python reads (4300)
        raise ValueProblem(f"{name}: integer too long ({len(text)} digits)", value) from None
