"""From tokens to requests: what one statement of the shorthand asks for.

``parse_statement`` turns a statement (one line, or several joined by the
``statements`` module) into a ``QmpRequest``, ``HmpRequest`` or
``ShellRequest``; it raises ``ParseError`` (with a column) and sends nothing.
Value types come from an ``ArgumentTyper``: the schema when one is known, else
``GuessingTyper``, whose rules are the language's defaults.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from qmpshell.errors import ParseError
from qmpshell.language import strictjson
from qmpshell.language.hmp import hmp_message, parse_cpu_command
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
from qmpshell.qmptypes import Message
from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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


def message_for(request: Request, *, cpu_index: int | None = None) -> Message | None:
    """The one message the shell sends for ``request`` when that is all it does, else None.

    None for what acts on the shell's own state or on more than one message
    (``/wait``, the ``/hmp`` and ``/qmp`` switches, HMP ``cpu N``, ``/help``...):
    pipelining finishes everything in flight before them, and a dry run prints
    nothing for them.
    """
    if isinstance(request, QmpRequest):
        return request.message
    if isinstance(request, HmpRequest):
        line = request.command_line
    else:
        line = request.rest if request.name == "hmp" else ""
    if not line or parse_cpu_command(line) is not None:
        return None
    return hmp_message(line, cpu_index=cpu_index)


def hmp_line_of(request: Request | None) -> str:
    """The HMP line a request runs (HMP mode, or ``/hmp LINE``), '' for anything else."""
    if isinstance(request, HmpRequest):
        return request.command_line
    if isinstance(request, ShellRequest) and request.name == "hmp":
        return request.rest
    return ""
