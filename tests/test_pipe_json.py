"""A trailing ``| json`` on a command line: one token, kept out of the arguments, marks the request."""

from __future__ import annotations

import pytest

from qmpshell.language.parse import parse_statement
from qmpshell.language.requests import QmpRequest
from qmpshell.language.syntax import Kind, tokenize


@pytest.mark.parametrize(
    "line",
    [
        "query-status | json",
        "query-status |json",
        "query-status | json  ",
        '{"execute": "query-status"} | json',
    ],
)
def test_pipe_json_marks_the_request_and_sends_nothing_more(line: str) -> None:
    request = parse_statement(line)
    assert isinstance(request, QmpRequest) and request.as_json
    assert request.message == {"execute": "query-status"}
    assert tokenize(line)[-1].kind is Kind.PIPE


def test_arguments_before_the_pipe_are_kept() -> None:
    request = parse_statement("device_del id=net1 | json")
    assert isinstance(request, QmpRequest) and request.as_json
    assert request.message["arguments"] == {"id": "net1"}


@pytest.mark.parametrize("line", ["qom-get path=a|json", "qom-get path='| json'"])
def test_a_bar_inside_a_value_is_the_value(line: str) -> None:
    request = parse_statement(line)
    assert isinstance(request, QmpRequest) and not request.as_json


def test_without_the_pipe_nothing_changes() -> None:
    request = parse_statement("query-status")
    assert isinstance(request, QmpRequest) and not request.as_json


def test_pipe_to_anything_else_is_a_parse_error() -> None:
    with pytest.raises(Exception, match="expected KEY=VALUE, found '|'"):
        parse_statement("query-status | jq")
