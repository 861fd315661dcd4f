"""The manual's examples as qmpshell lines: ``--dry-run`` in reverse.

An example block is the wire text (``-> {...}`` sent, ``<- {...}`` received);
the first ``->`` message is the one shown and put on the input line by
``/example``.  ``{"execute": "x", "arguments": {"a": {"b": 1}}}`` becomes
``x a.b=1``: nested objects as dotted keys, arrays and empty objects as JSON,
a string bare when the language reads it back as that same string, else
double-quoted with JSON's escapes (which the language shares).
"""

from __future__ import annotations

import json
import re
from typing import Any

from qmpshell.language.parse import literal_of

_BARE = re.compile(r"[A-Za-z0-9_./:@,+%-][A-Za-z0-9_./:@,+%=-]*")
_KEY = re.compile(r"[A-Za-z0-9_@+-]+")  # no dot (it would nest), no '=', no quote


def first_message(example: str) -> dict[str, Any] | None:
    """The first ``->`` message of an example block, or None when it is not JSON (elided '...')."""
    start = example.find("->")
    text = example[start + 2 :].lstrip() if start >= 0 else example.lstrip()
    try:
        message, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    if start < 0 and text[end:].strip() and not text[end:].lstrip().startswith("<-"):
        return None  # no arrow and more than one message: not clear which text is sent
    return message if isinstance(message, dict) else None


def as_line(message: dict[str, Any]) -> str | None:
    """The qmpshell line that sends ``message``; None for what is not a command (an id, oob)."""
    command = message.get("execute")
    extra = set(message) - {"execute", "arguments"}
    if not isinstance(command, str) or extra:
        return None
    arguments = message.get("arguments", {})
    if not isinstance(arguments, dict):
        return None
    return " ".join([command, *_pairs(arguments, "")])


def example_line(example: str) -> str | None:
    message = first_message(example)
    return as_line(message) if message is not None else None


def _pairs(tree: dict[str, Any], prefix: str) -> list[str]:
    pairs: list[str] = []
    for key, value in tree.items():
        if not _KEY.fullmatch(key):
            return (
                [f"{prefix.rstrip('.') or key}={_json(tree if prefix else value)}"]
                if prefix
                else [f"{key}={_json(value)}"]
            )
        if isinstance(value, dict) and value:
            pairs.extend(_pairs(value, f"{prefix}{key}."))
        else:
            pairs.append(f"{prefix}{key}={_value(value)}")
    return pairs


def _value(value: Any) -> str:
    if isinstance(value, str):
        if (
            value
            and _BARE.fullmatch(value)
            and literal_of(value) == value
            and not value.startswith(("{", "["))
        ):
            return value
        return json.dumps(value, ensure_ascii=False)
    return _json(value)


def _json(value: Any) -> str:
    return (
        json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if isinstance(value, (dict, list))
        else json.dumps(value)
    )
