"""A QMP command (JSON) as a line of the shorthand that sends exactly that JSON, with or without a schema.

The line is built to be read the same whatever the shell knows: every
string is quoted unless it is a plain word that no type could read as
anything else (``node-name=disk0``, ``filename=/tmp/a.img``: no number, no
``on``/``off``/``yes``/``no``/``true``/``false``/``null``), since a schema may
read a bare ``on`` as a bool and a bare ``1K`` as 1024; a number is bare only
when written the way the guessing rules take as that very number; arrays,
empty objects and objects whose keys are not plain names are written as JSON
(``[...]``, ``{...}``), which every typer takes as written (the ``.N.`` array
keys need a schema to mean an array).  ``human-monitor-command`` stays itself
(``/hmp LINE`` would be translated to QMP where it can be); a transaction of
actions alone is the ``transaction(`` block.

Each line is then checked: parsed back (as ``--dry-run`` does: guessed, and
typed by a schema when one is given) it must give the same JSON, types and
all.  Where it does not, or where the shorthand cannot say it at all
(``exec-oob``, ``control``, a float such as ``1e-05``, an empty ``arguments``),
the line is the JSON itself (without its id), which the shell sends as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from qmpshell.errors import QmpShellError
from qmpshell.language.parse import parse_statement
from qmpshell.language.requests import message_for
from qmpshell.language.strictjson import escape_controls
from qmpshell.language.untyped import ArgumentTyper, is_plain_number, number_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Message: TypeAlias = "dict[str, Any]"

_COMMAND = re.compile(r"[A-Za-z_][A-Za-z0-9_.+-]*")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_+-]*")  # a key segment; no dots (they nest)
_BARE = re.compile(r"[A-Za-z_/][A-Za-z0-9_./:,@+-]*")
_TYPED_WORDS = frozenset({"true", "false", "null", "on", "off", "yes", "no"})
_QUOTE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f-\x9f\ud800-\udfff]')


class NotShorthand(Exception):
    """The shorthand cannot say this message (the JSON itself is written instead)."""


def script_statement(message: Message, *, typer: ArgumentTyper | None = None) -> str:
    """The statement that sends ``message`` (its id aside): shorthand when it reads back the same."""
    message = {k: v for k, v in message.items() if k != "id"}
    try:
        text = shorthand(message)
    except NotShorthand:
        return raw_json(message)
    if not reads_back(text, message, typer):
        return raw_json(message)
    return text


def raw_json(message: Message) -> str:
    """The message as one line of JSON, which the shell sends as written."""
    return escape_controls(json.dumps(message, ensure_ascii=False))


def reads_back(text: str, message: Message, typer: ArgumentTyper | None) -> bool:
    """True when ``text`` parses to ``message`` without a schema and (given one) with it."""
    typers: list[ArgumentTyper | None] = [None] if typer is None else [None, typer]
    for each in typers:
        try:
            request = parse_statement(text, typer=each)
            sent = message_for(request) if request is not None else None
        except (QmpShellError, RecursionError):
            return False
        if sent is None or canonical(sent) != canonical(message):
            return False
    return True


def canonical(value: Any) -> str:
    """One text for equal JSON: keys sorted, and 1, 1.0 and true kept apart."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def shorthand(message: Message) -> str:
    """The shorthand for ``message``; ``NotShorthand`` when there is none."""
    command = message.get("execute")
    arguments = message.get("arguments", None)
    if set(message) - {"execute", "arguments"} or not isinstance(command, str):
        raise NotShorthand
    if not _COMMAND.fullmatch(command) or command == "transaction" and arguments is None:
        raise NotShorthand
    if arguments is None:
        return command
    if not isinstance(arguments, dict) or not arguments:
        raise NotShorthand
    if command == "transaction" and set(arguments) == {"actions"}:
        return _transaction(arguments["actions"])
    return " ".join([command, *_pairs(arguments)])


def _transaction(actions: Any) -> str:
    """``transaction(`` with one action a line, then ``)``."""
    if not isinstance(actions, list) or not actions:
        raise NotShorthand
    lines = ["transaction("]
    for action in actions:
        if not isinstance(action, dict) or set(action) - {"type", "data"} or "type" not in action:
            raise NotShorthand
        kind, data = action["type"], action.get("data", {})
        if not isinstance(kind, str) or not _COMMAND.fullmatch(kind) or not isinstance(data, dict):
            raise NotShorthand
        lines.append("  " + " ".join([kind, *_pairs(data)]))
    return "\n".join([*lines, ")"])


def _pairs(tree: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """``key=value`` for each member; an object of plain names nests as ``a.b=...``."""
    for key, value in tree.items():
        if not isinstance(key, str) or not _NAME.fullmatch(key) or key.isdigit():
            raise NotShorthand  # a key the shorthand cannot write (the caller falls back to JSON)
        if isinstance(value, dict) and value and all(_nestable(k) for k in value):
            yield from _pairs(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}={value_text(value)}"


def _nestable(key: Any) -> bool:
    return isinstance(key, str) and _NAME.fullmatch(key) is not None and not key.isdigit()


def value_text(value: Any) -> str:
    """One value as the shorthand writes it so that no typer reads it otherwise."""
    if value is True or value is False or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if not is_plain_number(text) or number_of(text) != value:
            raise NotShorthand
        return text
    if isinstance(value, str):
        return _string(value)
    return escape_controls(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _string(text: str) -> str:
    if _BARE.fullmatch(text) and text.lower() not in _TYPED_WORDS:
        return text
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _QUOTE_ESCAPES.get(char) or f"\\u{ord(char):04x}"
