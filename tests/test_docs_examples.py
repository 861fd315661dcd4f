"""The manual's examples as qmpshell lines: every JSON shape comes back whole through the parser.

Pure tests, no server: the lines are parsed with the language's own guessing rules (as
``--dry-run -N`` would), which are stricter than a schema's typing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from qmpshell.docs.examples import as_line, example_line, first_message
from qmpshell.language.parse import parse_statement
from qmpshell.language.requests import QmpRequest
from qmpshell.language.untyped import GuessingTyper

CASES: list[dict[str, Any]] = [
    {"execute": "query-status"},
    {"execute": "block_resize", "arguments": {"device": "disk0", "size": 1073741824}},
    {"execute": "x", "arguments": {"a": {"b": {"c": 1}}, "d": True, "e": None, "f": -2.5}},
    {"execute": "x", "arguments": {"s": "a b", "t": "it's", "u": 'say "hi"', "v": "", "w": "tab\there"}},
    {"execute": "x", "arguments": {"n": "123", "m": "true", "o": "0001", "p": "null", "q": "[1]"}},
    {"execute": "x", "arguments": {"list": [1, "two", {"three": 3}], "empty": {}, "none": []}},
    {"execute": "x", "arguments": {"dotted.key": 1, "plain": "/dev/fdset/4", "uri": "tcp:0:4444"}},
    {"execute": "x", "arguments": {"nested": {"with.dot": "v"}, "unicode": "caf\u00e9"}},
]


@pytest.mark.parametrize("message", CASES, ids=lambda m: json.dumps(m)[:50])
def test_a_line_parses_back_into_the_same_message(message: dict[str, Any]) -> None:
    line = as_line(message)
    assert line is not None
    request = parse_statement(line, typer=GuessingTyper())
    assert isinstance(request, QmpRequest)
    assert request.message.get("execute") == message["execute"]
    assert request.message.get("arguments", {}) == message.get("arguments", {})


def test_what_is_not_a_command_is_no_line() -> None:
    assert as_line({"execute": "x", "id": "a"}) is None  # an id the shell gives itself
    assert as_line({"exec-oob": "x"}) is None
    assert example_line('<- { "return": {} }') is None  # a reply on its own sends nothing


def test_the_first_sent_message_of_a_block_is_used() -> None:
    block = '-> { "execute": "a" }\n<- { "return": {} }\n-> { "execute": "b" }\n<- { "return": {} }'
    assert first_message(block) == {"execute": "a"}
    assert example_line(block) == "a"


def test_two_slips_seen_in_qemus_examples_are_mended() -> None:
    closed_early = '{"execute": "cmd"}\n   "arguments": { "n": 1 } }'
    assert first_message(closed_early) == {"execute": "cmd", "arguments": {"n": 1}}
    single_quoted = '{"execute": "cmd", "arguments": {"a": 1,\n  \'b\': 2} }'
    assert first_message(single_quoted) == {"execute": "cmd", "arguments": {"a": 1, "b": 2}}
