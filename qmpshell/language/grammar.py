"""From tokens to requests: the shorthand's grammar, for every statement but a bare command name.

``language.parse.parse_statement`` reads a line that is only a command's name
itself (most one-shots) and hands everything else here: the tokenizer's words
become a ``QmpRequest``, ``HmpRequest`` or ``ShellRequest``, or a ``ParseError``
with a column, and nothing is sent.  Loaded on first need, with the tokenizer
and the value rules (``syntax``, ``untyped``, ``strictjson``): about 1.5 ms a
``qmpshell SOCK -c query-status`` does not pay (issue 26).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from qmpshell.errors import ParseError
from qmpshell.language import strictjson
from qmpshell.language.requests import HmpRequest, QmpRequest, Request, ShellRequest, call_request
from qmpshell.language.syntax import (
    VALUE_KINDS,
    Kind,
    Token,
    raise_for_error,
    significant,
    tokenize,
)
from qmpshell.language.untyped import (
    ArgTree,
    ArgumentTyper,
    GuessingTyper,
    Value,
    ValueProblem,
    parse_json_value,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def parse_tokens(text: str, *, hmp: bool = False, typer: ArgumentTyper | None = None) -> Request | None:
    """Parse one statement by its tokens; ``None`` for an empty line or a comment."""
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
    return call_request(name, _typed(typer.convert, name, tree, text))


def _json_arguments(token: Token, text: str) -> dict[str, Any]:
    """``COMMAND {...}``: the object, sent as written, is the arguments."""
    try:
        arguments = parse_json_value(Value(token)) if token.text.startswith("{") else None
    except ValueProblem as problem:  # a positioned ParseError, as for every other bad value
        raise ParseError(str(problem), text, problem.column) from None
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
