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

from qmpshell.language.untyped import literal_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_BARE = re.compile(r"[A-Za-z0-9_./:@,+%-][A-Za-z0-9_./:@,+%=-]*")
_KEY = re.compile(r"[A-Za-z0-9_@+-]+")  # no dot (it would nest), no '=', no quote


def first_message(example: str) -> dict[str, Any] | None:
    """The first ``->`` message of an example block, or None when it is not JSON (elided '...').

    A few of QEMU's examples are not quite JSON (7.2's ``calc-dirty-rate`` quotes
    a key with ``'``; ``set-vcpu-dirty-limit`` closes the message before its
    ``"arguments"``, and both lack the ``->``): those two slips are mended.
    """
    start = example.find("->")
    if start < 0 and '"execute"' not in example:
        return None  # a reply shown on its own: nothing is sent
    text = example[start + 2 :].lstrip() if start >= 0 else example.lstrip()
    for candidate in _mended(text):
        try:
            message, end = json.JSONDecoder().raw_decode(candidate)
        except ValueError:
            continue
        rest = candidate[end:].strip()
        if start < 0 and rest and not rest.startswith("<-"):
            continue  # no arrow and more text: not clear what is sent
        return message if isinstance(message, dict) else None
    return None


def _mended(text: str) -> list[str]:
    closed_early = re.sub(r'("execute":\s*"[^"]+")\s*}(\s*"arguments")', r"\1,\2", text, count=1)
    return [text, closed_early, text.replace("'", '"'), closed_early.replace("'", '"')]


def sends_something(example: str) -> bool:
    """Whether the example shows a message sent (some show only a reply or an event)."""
    return "->" in example or '"execute"' in example


def as_line(message: dict[str, Any]) -> str | None:
    """The qmpshell line that sends ``message``; None for what is not a command (an id, oob)."""
    command = message.get("execute")
    extra = set(message) - {"execute", "arguments"}
    if not isinstance(command, str) or extra:
        return None
    arguments = message.get("arguments", {})
    if not isinstance(arguments, dict):
        return None
    pairs = _pairs(arguments, "")
    return " ".join([command, *pairs]) if pairs is not None else f"{command} {_json(arguments)}"


def example_line(example: str) -> str | None:
    message = first_message(example)
    return as_line(message) if message is not None else None


def _pairs(tree: dict[str, Any], prefix: str) -> list[str] | None:
    """``key=value`` words, dotted for nested objects; None when a key cannot be written as one
    (a dot in it would nest): the caller then writes that object as JSON."""
    if not all(_KEY.fullmatch(key) for key in tree):
        return None
    pairs: list[str] = []
    for key, value in tree.items():
        nested = _pairs(value, f"{prefix}{key}.") if isinstance(value, dict) and value else None
        pairs.extend(nested if nested is not None else [f"{prefix}{key}={_value(value)}"])
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
