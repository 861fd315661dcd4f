"""Values as written and the rules that type them when no schema says otherwise.

A ``Value`` keeps the token as typed (quoted or bare) until something chooses
its JSON type: the schema's typer (``qmpshell.schema.values``) or, without a
schema, ``GuessingTyper``, whose rules are the language's defaults: a bare word
becomes a number only when it is written the way numbers plainly are, so that
nothing typed is silently changed (``0001``, ``00.3`` stay strings).
"""

from __future__ import annotations

import json
import re

from qmpshell.language import strictjson
from qmpshell.language.syntax import Kind, Token, classify_bare, unquote
from qmpshell.records import NamedTuple, Protocol


class Value(NamedTuple):
    """A value as written, before any type is chosen for it."""

    token: Token

    @property
    def quoted(self) -> bool:
        return self.token.kind is Kind.STRING and self.token.text[:1] in ("'", '"')

    @property
    def text(self) -> str:
        """The text: unquoted and unescaped if quoted, else exactly as written."""
        return unquote(self.token.text) if self.quoted else self.token.text


TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    ArgTree = dict[str, "Value | ArgTree"]  # nested keys: values and trees of values
else:  # a name only: the recursive alias would make typing compile a forward reference (1 ms)
    ArgTree = dict


class ValueProblem(Exception):
    """A value that cannot be given the type its argument needs."""

    def __init__(self, message: str, value: Value, offset: int = 0) -> None:
        super().__init__(message)
        self.value = value
        self.column = value.token.start + offset


class ArgumentTyper(Protocol):
    """Chooses the JSON value of every argument of a command."""

    def convert(self, command: str, tree: ArgTree) -> dict[str, Any]: ...

    def convert_action(self, action: str, tree: ArgTree) -> dict[str, Any]: ...


class GuessingTyper:
    """The rules without a schema: numbers, true/false/null, JSON, else strings."""

    def convert(self, command: str, tree: ArgTree) -> dict[str, Any]:
        return guess_tree(tree)

    def convert_action(self, action: str, tree: ArgTree) -> dict[str, Any]:
        return guess_tree(tree)


def guess_tree(tree: ArgTree) -> dict[str, Any]:
    return {k: guess_tree(v) if isinstance(v, dict) else guess_value(v) for k, v in tree.items()}


def guess_value(value: Value) -> Any:
    """A bare value's guessed JSON type; a quoted value is always a string."""
    kind = value.token.kind
    if kind is Kind.JSON:
        return parse_json_value(value)
    if kind is Kind.STRING:
        return value.text
    try:
        return literal_of(value.token.text)
    except ValueError as err:
        raise ValueProblem(strictjson.reason(err), value) from None


# Where no type is known, a bare value is a number only when it is written the way a number is
# normally written, so that nothing the user typed is silently changed: ``0001`` (a serial),
# ``00.3`` (a PCI address), ``1.50``, ``1e3`` and ``+60`` stay strings.
_PLAIN_NUMBER = (  # compiled (re's cache) by the first bare number guessed
    r"-?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+)"  # an explicit base prefix
    r"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?"  # decimal: no leading zeros, no trailing fraction zeros
)


def literal_of(word: str) -> Any:
    """A bare word as number, bool or null when it is plainly one, else itself."""
    kind = classify_bare(word)
    if kind is Kind.LITERAL:
        return {"true": True, "false": False, "null": None}[word]
    if kind is Kind.NUMBER and is_plain_number(word):
        return number_of(word)
    return word


def is_plain_number(word: str) -> bool:
    """True for ``10``, ``-3``, ``1.5``, ``0x10``; not for ``0001``, ``00.3``, ``1.50``, ``1e3``, ``+60``."""
    return re.fullmatch(_PLAIN_NUMBER, word) is not None and word != "-0"


def number_of(word: str) -> int | float:
    """Parse decimal, 0x/0o/0b integers and floats (the caller checked the shape).

    ``ValueError`` for what JSON cannot carry: ``1e400`` (infinity), 5,000 digits.
    """
    body = word.lstrip("+-").lower()
    sign = -1 if word.startswith("-") else 1
    if body[:2] in ("0x", "0o", "0b"):
        return sign * int(body, 0)
    if any(c in body for c in ".e"):
        return strictjson.finite_float(word)
    return int(word)


def parse_json_value(value: Value) -> Any:
    """json.loads with its failures turned into a positioned problem."""
    try:
        return strictjson.loads(value.token.text)
    except json.JSONDecodeError as err:
        raise ValueProblem(f"invalid JSON: {err.msg}", value, err.pos) from None
    except ValueError as err:
        raise ValueProblem(f"invalid JSON: {strictjson.reason(err)}", value) from None
    except RecursionError:
        raise ValueProblem(f"JSON nested more than {strictjson.MAX_DEPTH} levels deep", value) from None


def flatten_tree(tree: ArgTree, prefix: str = "") -> list[tuple[str, Value]]:
    """The leaves of a tree with their dotted paths: ``{"a": {"b": v}}`` gives ``[("a.b", v)]``."""
    items: list[tuple[str, Value]] = []
    for key, value in tree.items():
        if isinstance(value, dict):
            items.extend(flatten_tree(value, f"{prefix}{key}."))
        else:
            items.append((f"{prefix}{key}", value))
    return items
