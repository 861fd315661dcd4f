"""From tokens to requests: what one statement of the shorthand asks for.

``parse_statement`` turns a statement (one line, or several joined by the
``statements`` module) into a ``QmpRequest``, ``HmpRequest`` or
``ShellRequest``; it raises ``ParseError`` (with a column) and sends nothing.
Value types come from an ``ArgumentTyper``: the schema when one is known, else
``GuessingTyper``, whose rules are the language's defaults.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, Union

from qmpshell.errors import ParseError
from qmpshell.language import strictjson
from qmpshell.language.syntax import (
    VALUE_KINDS,
    Kind,
    Token,
    classify_bare,
    raise_for_error,
    significant,
    tokenize,
    unquote,
)


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


ArgTree = dict[str, Union[Value, "ArgTree"]]


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
_PLAIN_NUMBER = re.compile(
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
    return _PLAIN_NUMBER.fullmatch(word) is not None and word != "-0"


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


class QmpRequest(NamedTuple):
    """A QMP message to send; ``command`` is its name (for schema and quit)."""

    command: str
    message: dict[str, Any]
    as_json: bool = False  # the line ended in "| json": show the reply as JSON


class HmpRequest(NamedTuple):
    """One HMP command line for ``human-monitor-command``."""

    command_line: str


class ShellRequest(NamedTuple):
    """A ``/name`` command of the shell itself."""

    name: str
    words: tuple[str, ...] = ()
    options: ArgTree = {}
    rest: str = ""


Request = QmpRequest | HmpRequest | ShellRequest


def parse_statement(text: str, *, hmp: bool = False, typer: ArgumentTyper | None = None) -> Request | None:
    """Parse one statement; ``None`` for an empty line or a comment."""
    tokens = tokenize(text, hmp=hmp)
    raise_for_error(tokens, text)
    words = significant(tokens)
    if words and words[-1].kind is Kind.PIPE:
        request = _statement(words[:-1], text, typer)
        return request._replace(as_json=True) if isinstance(request, QmpRequest) else request
    return _statement(words, text, typer)


def _statement(words: list[Token], text: str, typer: ArgumentTyper | None) -> Request | None:
    if not words:
        return None
    head = words[0]
    if head.kind is Kind.SHELL:
        return _shell_request(words, text)
    if head.kind is Kind.TEXT:
        return HmpRequest(head.text.strip())
    if head.kind is Kind.RAW_JSON:
        return _raw_json_request(head, text)
    typer = typer or GuessingTyper()
    if len(words) > 1 and words[1].kind is Kind.OPEN:
        return _transaction_request(words, text, typer)
    if head.kind is Kind.CLOSE:
        raise ParseError("')' without an open transaction(", text, head.start)
    return _call_request(words, text, typer)


def _shell_request(words: list[Token], text: str) -> ShellRequest:
    name = words[0].text[1:]
    if name == "hmp":
        rest = words[1].text.strip() if len(words) > 1 else ""
        return ShellRequest(name, rest=rest)
    tree = _argument_tree(words[1:], text, allow_words=True)
    positional = tuple(
        t.text for i, t in enumerate(words) if t.kind is Kind.WORD and words[i - 1].kind is not Kind.EQUALS
    )
    rest = text[words[1].start :].strip() if len(words) > 1 else ""
    return ShellRequest(name, positional, tree, rest)


def _raw_json_request(token: Token, text: str) -> QmpRequest:
    try:
        message = strictjson.loads(token.text)
    except json.JSONDecodeError as err:
        raise ParseError(f"invalid JSON: {err.msg}", text, token.start + err.pos) from None
    except ValueError as err:
        raise ParseError(f"invalid JSON: {strictjson.reason(err)}", text, token.start) from None
    except RecursionError:
        deep = f"JSON nested more than {strictjson.MAX_DEPTH} levels deep"
        raise ParseError(deep, text, token.start) from None
    if not isinstance(message, dict):
        raise ParseError("a QMP message must be a JSON object", text, token.start)
    command = message.get("execute", message.get("exec-oob", ""))
    return QmpRequest(str(command), message)


def _call_request(words: list[Token], text: str, typer: ArgumentTyper) -> QmpRequest:
    name = words[0].text
    if len(words) == 2 and words[1].kind is Kind.JSON:
        return QmpRequest(name, {"execute": name, "arguments": _json_arguments(words[1], text)})
    tree = _argument_tree(words[1:], text, allow_words=False)
    arguments = _typed(typer.convert, name, tree, text)
    message: dict[str, Any] = {"execute": name}
    if arguments:
        message["arguments"] = arguments
    return QmpRequest(name, message)


def _json_arguments(token: Token, text: str) -> dict[str, Any]:
    """``COMMAND {...}``: the object, sent as written, is the arguments."""
    arguments = parse_json_value(Value(token)) if token.text.startswith("{") else None
    if not isinstance(arguments, dict):
        raise ParseError("expected a JSON object of arguments", text, token.start)
    return arguments


def _typed(
    convert: Callable[[str, ArgTree], dict[str, Any]], name: str, tree: ArgTree, text: str
) -> dict[str, Any]:
    """Apply the typer; a value it cannot type becomes a ParseError at that value's column."""
    try:
        return convert(name, tree)
    except ValueProblem as problem:
        raise ParseError(str(problem), text, problem.column) from None


def _argument_tree(words: list[Token], text: str, *, allow_words: bool) -> ArgTree:
    """Nest ``a.b=1 a.c=2`` into ``{"a": {"b": 1, "c": 2}}``, refusing clashes."""
    tree: ArgTree = {}
    for index, token in enumerate(words):
        if token.kind is Kind.KEY:
            _insert(tree, token, Value(words[index + 2]), text)
        elif token.kind is Kind.CLOSE or (allow_words and token.kind is Kind.WORD):
            continue
        elif token.kind is not Kind.EQUALS and token.kind not in VALUE_KINDS:
            raise ParseError(f"unexpected '{token.text}'", text, token.start)
    return tree


MAX_KEY_DEPTH = 100  # a.b.c=...: deeper would exhaust Python's recursion limit when typed


def _insert(tree: ArgTree, key: Token, value: Value, text: str) -> None:
    parts = key.text.split(".")
    if len(parts) > MAX_KEY_DEPTH:
        raise ParseError(f"key nested more than {MAX_KEY_DEPTH} levels deep", text, key.start)
    if "" in parts:
        raise ParseError(f"empty name in key '{key.text}'", text, key.start)
    node = tree
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise ParseError(f"'{where}' is given a value and also used as a parent", text, key.start)
        node = child
    if parts[-1] in node:
        what = "given twice" if isinstance(node[parts[-1]], Value) else "already used as a parent"
        raise ParseError(f"key '{key.text}' is {what}", text, key.start)
    node[parts[-1]] = value


def _transaction_request(words: list[Token], text: str, typer: ArgumentTyper) -> QmpRequest:
    """``transaction( ACTION ARGS...`` one action a line, then ``)``, as QEMU's qmp-shell reads it."""
    actions: list[dict[str, Any]] = []
    body = words[2:]
    if not body or body[-1].kind is not Kind.CLOSE:
        raise ParseError("transaction( is not closed with ')'", text, len(text))
    starts = [i for i, t in enumerate(body) if t.kind in (Kind.COMMAND, Kind.CLOSE)]
    for begin, end in zip(starts, starts[1:], strict=False):
        name = body[begin]
        if name.kind is Kind.CLOSE:
            raise ParseError("text after the ')' that closed the transaction", text, body[end].start)
        tree = _argument_tree(body[begin + 1 : end], text, allow_words=False)
        data = _typed(typer.convert_action, name.text, tree, text)
        actions.append({"type": name.text, "data": data})
    if body[0].kind not in (Kind.COMMAND, Kind.CLOSE):
        raise ParseError("expected an action name", text, body[0].start)
    return QmpRequest("transaction", {"execute": "transaction", "arguments": {"actions": actions}})
