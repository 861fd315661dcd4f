"""The shorthand language without a server: tokens, values, nesting, errors with carets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qmpshell.errors import ParseError, UsageError
from qmpshell.language.grammar import parse_tokens
from qmpshell.language.parse import is_bare_name, parse_statement
from qmpshell.language.requests import HmpRequest, QmpRequest, ShellRequest
from qmpshell.language.statements import Assembler, read_statements
from qmpshell.language.syntax import Kind, is_incomplete, tokenize
from qmpshell.language.untyped import GuessingTyper
from qmpshell.output.safe import with_caret
from qmpshell.schema.index import SchemaIndex
from qmpshell.schema.values import SchemaTyper
from tests.test_typing_rules import CAPTURE


def arguments(line: str) -> Any:
    request = parse_statement(line)
    assert isinstance(request, QmpRequest)
    return request.message.get("arguments", {})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("device_add driver=e1000 id=net1", {"driver": "e1000", "id": "net1"}),
        ("x a.b=1 a.c.d=x e=2", {"a": {"b": 1, "c": {"d": "x"}}, "e": 2}),
        ("x file.driver=file file.filename=x", {"file": {"driver": "file", "filename": "x"}}),
        ('x data="a b"', {"data": "a b"}),
        ("x data='a b'", {"data": "a b"}),
        (r'x s="say \"hi\"\n"', {"s": 'say "hi"\n'}),
        (r"x s='it\'s'", {"s": "it's"}),
        (r'x s="\u00e9"', {"s": "é"}),
        ('x n="123"', {"n": "123"}),
        ("x n='true'", {"n": "true"}),
        (
            "x n=123 m=-7 h=0x1F o=0o17 b=0b101 f=1.5 g=-2e3",
            {"n": 123, "m": -7, "h": 31, "o": 15, "b": 5, "f": 1.5, "g": "-2e3"},
        ),
        ("x t=true f=false z=null", {"t": True, "f": False, "z": None}),
        ('x o={"a": [1, 2], "b": {"c": "d e"}}', {"o": {"a": [1, 2], "b": {"c": "d e"}}}),
        ('x l=[1, "two", {"three": 3}]', {"l": [1, "two", {"three": 3}]}),
        ('x o={"s": "}"}', {"o": {"s": "}"}}),
        ("x empty=", {"empty": ""}),
        ("x word=abc-1.2", {"word": "abc-1.2"}),
        ("x eq=a=b", {"eq": "a=b"}),
        ("query-status", {}),
        ("   query-status   ", {}),
    ],
)
def test_values_and_nesting(line: str, expected: Any) -> None:
    assert arguments(line) == expected


def test_command_without_arguments_has_no_arguments_member() -> None:
    request = parse_statement("query-status")
    assert isinstance(request, QmpRequest)
    assert request.message == {"execute": "query-status"}


@pytest.mark.parametrize(
    ("line", "message", "column"),
    [
        ("x a=1 a=2", "key 'a' is given twice", 7),
        ("x a=1 a.b=2", "'a' is given a value and also used as a parent", 7),
        ("x a.b=2 a=1", "key 'a' is already used as a parent", 9),
        ("x foo", "expected KEY=VALUE, found 'foo'", 3),
        ('x a="abc', 'unterminated "quoted" string', 5),
        ("x a={1", "unclosed '{'", 5),
        ("x a=[1}", "unbalanced '}' in JSON", 7),
        ('x a={"a":1,}', "invalid JSON: Expecting property name enclosed in double quotes", 12),
        ("x =1", "expected a KEY before '='", 3),
        ("x a..b=1", "empty name in key 'a..b'", 3),
        ('{"execute": "x"} y', "unexpected text after the JSON object", 18),
        ("[1, 2]", "expected KEY=VALUE, found '2]'", 5),
        (")", "')' without an open transaction(", 1),
    ],
)
def test_errors_say_what_and_where(line: str, message: str, column: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_statement(line)
    err = caught.value
    assert err.what == message
    assert err.column + 1 == column
    rendered = with_caret(err.what, err.text, err.column).splitlines()  # as batch mode prints it
    assert rendered[0] == f"{message} (column {column})"
    assert rendered[2].index("^") - 2 == column - 1


def test_raw_json_is_sent_as_written() -> None:
    request = parse_statement(
        '{"execute": "qom-get", "arguments": {"path": "/", "property": "type"}, "id": "x"}'
    )
    assert isinstance(request, QmpRequest)
    assert request.message == {
        "execute": "qom-get",
        "arguments": {"path": "/", "property": "type"},
        "id": "x",
    }


def test_raw_json_must_be_an_object() -> None:
    with pytest.raises(ParseError):
        parse_statement('{"a": 1')


def test_transaction_one_line_form() -> None:
    request = parse_statement("transaction( block-dirty-bitmap-add node=n0 name=b0 )")
    assert isinstance(request, QmpRequest)
    assert request.message == {
        "execute": "transaction",
        "arguments": {"actions": [{"type": "block-dirty-bitmap-add", "data": {"node": "n0", "name": "b0"}}]},
    }


def test_transaction_over_several_lines() -> None:
    lines = ["transaction(", "block-dirty-bitmap-add node=n0 name=b0", "  # a comment", "abort", ")"]
    statements = list(read_statements(lines))
    assert len(statements) == 1
    request = parse_statement(statements[0].text)
    assert isinstance(request, QmpRequest)
    actions = request.message["arguments"]["actions"]
    assert actions == [
        {"type": "block-dirty-bitmap-add", "data": {"node": "n0", "name": "b0"}},
        {"type": "abort", "data": {}},
    ]


def test_transaction_closing_on_the_last_action_line() -> None:
    statements = list(read_statements(["transaction( abort", "abort )", "query-status"]))
    assert [s.lineno for s in statements] == [1, 3]
    request = parse_statement(statements[0].text)
    assert isinstance(request, QmpRequest)
    assert len(request.message["arguments"]["actions"]) == 2


def test_unclosed_transaction_is_an_error() -> None:
    statements = list(read_statements(["transaction(", "abort"]))
    with pytest.raises(ParseError, match="not closed"):
        parse_statement(statements[0].text)


def test_shell_commands() -> None:
    wait = parse_statement("/wait BLOCK_JOB_COMPLETED device=job0 timeout=5")
    assert isinstance(wait, ShellRequest)
    assert wait.name == "wait" and wait.words == ("BLOCK_JOB_COMPLETED",)
    assert set(wait.options) == {"device", "timeout"}
    hmp = parse_statement("/hmp info status")
    assert isinstance(hmp, ShellRequest) and hmp.rest == "info status"


def test_hmp_mode_lines_are_text() -> None:
    assert parse_statement("info block -v", hmp=True) == HmpRequest("info block -v")
    assert isinstance(parse_statement("/qmp", hmp=True), ShellRequest)


def test_comments_and_blank_lines_parse_to_nothing() -> None:
    assert parse_statement("# just a comment") is None
    assert parse_statement("   ") is None


def test_backslash_continues_a_line() -> None:
    statements = list(read_statements(["device_add driver=e1000 \\", "  id=net1", "query-status"]))
    assert [s.lineno for s in statements] == [1, 3]
    assert arguments(statements[0].text) == {"driver": "e1000", "id": "net1"}


def test_open_json_continues_over_lines() -> None:
    lines = ["{", '  "execute": "query-status"', "}", 'x a={"b":', "1}"]
    statements = list(read_statements(lines))
    assert [s.lineno for s in statements] == [1, 4]
    assert arguments(statements[1].text) == {"a": {"b": 1}}


def test_assembler_reports_pending_and_reset() -> None:
    assembler = Assembler()
    assert assembler.feed("transaction(") is None
    assert assembler.pending
    assembler.reset()
    assert not assembler.pending
    assert assembler.feed("query-status") is not None


def test_incomplete_only_for_open_brackets() -> None:
    assert is_incomplete('x a={"b": 1')
    assert is_incomplete("{")
    assert not is_incomplete('x a="open')
    assert not is_incomplete("x a=[1}")


def test_tokens_cover_the_line_for_highlighting() -> None:
    line = '/wait STOP x=1 s="a b" j={"k": 2} t=true w=word'
    tokens = tokenize(line)
    assert "".join(t.text for t in tokens) == line
    kinds = [t.kind.value for t in tokens if t.kind is not Kind.WS]
    pairs = "number string json literal word".split()
    assert kinds == ["shell", "word", *[k for kind in pairs for k in ("key", "equals", kind)]]


def test_error_token_marks_the_fault() -> None:
    tokens = tokenize("cmd a=1 oops")
    assert tokens[-1].kind is Kind.ERROR
    assert tokens[-1].start == len("cmd a=1 ")


def test_deep_nesting_is_a_parse_error_not_a_crash() -> None:
    with pytest.raises(ParseError):
        parse_statement("x a=" + "[" * 100_000 + "]" * 100_000)


BARE_NAMES = ["query-status", "qmp_capabilities", "x-debug-query-block-graph", "a", "Q9", "stop  ", "\tcont"]
NOT_BARE = ["query-status | json", "stop # why", "9p", "-x", "_x", "qué", "query.status", "cont x=1", ""]


def outcome(parse: Any, line: str, hmp: bool, typer: Any) -> object:
    """What a parse gives: the request, or the error's type and message."""
    try:
        return parse(line, hmp=hmp, typer=typer)
    except UsageError as err:  # ParseError, or the schema does not know the command
        return (type(err), str(err))


@pytest.mark.parametrize("line", BARE_NAMES + NOT_BARE)
def test_a_bare_command_name_is_read_as_the_grammar_reads_it(line: str) -> None:
    """``parse_statement`` reads a line that is only a name without the tokenizer: the same request,
    or the same error, with no typer, the guessing rules and a real schema (an unknown name too)."""
    assert is_bare_name(line.strip()) == (line in BARE_NAMES)
    schema = SchemaTyper(SchemaIndex.from_entries(json.loads(CAPTURE.read_text())))
    for typer in (None, GuessingTyper(), schema):
        for hmp in (False, True):
            expected = outcome(parse_tokens, line, hmp, typer)
            got = outcome(parse_statement, line, hmp, typer)
            assert got == expected
            assert type(got) is type(expected)


def test_a_bare_name_the_schema_does_not_know_fails_as_before() -> None:
    schema = SchemaTyper(SchemaIndex.from_entries(json.loads(CAPTURE.read_text())))
    with pytest.raises(UsageError, match="unknown command 'query-statu'; did you mean query-status"):
        parse_statement("query-statu", typer=schema)
