"""Hostile input from the user: arbitrary text into the parser, the assembler and the completer.

The contract: a valid request (or nothing, for a comment) or a ``ParseError``/
``UsageError`` with a column inside the text; never another exception; in
bounded time (no recursion blow-up, no quadratic scan).  The schema-typed
cases use the QEMU 7.2.22 capture in ``tests/data``.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qmpshell import commands
from qmpshell.errors import ParseError, UsageError
from qmpshell.language.parse import parse_statement
from qmpshell.language.requests import HmpRequest, QmpRequest, ShellRequest
from qmpshell.language.statements import Assembler, read_statements
from qmpshell.schema.index import SchemaIndex
from qmpshell.schema.knowledge import SchemaKnowledge
from qmpshell.schema.suggest import suggest
from qmpshell.schema.suggestions import Suggestions
from tests.fakeserver import Answer, FakeServer, handshake
from tests.qemu_support import run_qmpshell

ROOT = Path(__file__).parent.parent
INDEX = SchemaIndex.from_entries(json.loads((ROOT / "tests/data/qemu-7.2-schema.json").read_text()))
TYPER = SchemaKnowledge(INDEX).typer

PIECES = [
    "query-status", "blockdev-add", "transaction(", "drive-backup", "device_add", ")", " ", "  ", "\t",
    "\n", "\\", "\\\n", "=", ".", "a", "b.c", "driver=", "node-name=", "1", "-0x1f", "1e400", "true",
    "null", "'", '"', "\\'", '\\"', "{", "}", "[", "]", "(", ",", ":", '{"execute":', '"x"', "/", "/wait",
    "/hmp", "/help", "#", "\x00", "\x1b[31m", "\x7f", "\u2028", "\ud7ff", "é", "🙂", "info", "-H", "--",
]  # fmt: skip
hostile = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
)
CHECKED = settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def check_request(text: str, *, hmp: bool = False, typer: Any = None) -> None:
    """Parse ``text``; the outcome must honour the contract."""
    try:
        request = parse_statement(text, hmp=hmp, typer=typer)
    except ParseError as err:
        assert 0 <= err.column <= len(text)
        assert err.what and "\n" not in err.one_line()
        return
    except UsageError as err:
        assert str(err)
        return
    if request is None:
        return
    assert isinstance(request, QmpRequest | HmpRequest | ShellRequest)
    if isinstance(request, QmpRequest):
        assert isinstance(request.message, dict)
        json.dumps(request.message, allow_nan=True)  # it can be sent


@CHECKED
@given(hostile, st.booleans())
def test_parser_takes_anything(text: str, hmp: bool) -> None:
    check_request(text, hmp=hmp)


@CHECKED
@given(hostile)
def test_parser_with_the_schema_takes_anything(text: str) -> None:
    check_request(text, typer=TYPER)


@CHECKED
@given(st.lists(hostile, max_size=8), st.booleans())
def test_assembler_takes_any_lines(lines: list[str], hmp: bool) -> None:
    assembler = Assembler(hmp=hmp)
    statements = [s for n, line in enumerate(lines, 1) if (s := assembler.feed(line, n)) is not None]
    if (last := assembler.finish()) is not None:
        statements.append(last)
    assert not assembler.pending
    for statement in statements:
        check_request(statement.text, hmp=hmp)


@CHECKED
@given(hostile)
def test_completer_takes_anything(text: str) -> None:
    for index in (INDEX, None):
        result = suggest(text, index, shell_commands=commands.names())
        assert isinstance(result, Suggestions)


# -- sizes and depths: bounded time ------------------------------------------------------

MB = 1024 * 1024
HUGE: dict[str, str] = {
    "10 MB value": "query-status a=" + "x" * (10 * MB),
    "10 MB quoted, unclosed": "query-status a='" + "x" * (10 * MB),
    "1 MB of tokens": "query-status " + "a=1 " * (MB // 4),
    "10 MB of brackets": "query-status a=" + "[" * (10 * MB),
    "deep JSON, closed": "query-status a=" + "[" * 100_000 + "]" * 100_000,
    "deep raw JSON": '{"execute":"x","arguments":' + "{" * 100_000,
    "deep key": "query-status " + ".".join(["k"] * 200_000) + "=1",
    "many backslashes": "query-status a=" + "\\" * (10 * MB),
    # 5,000 actions: past Python's recursion limit (the tokenizer once recursed per action).
    "5,000-action transaction": "transaction(\n" + "abort\n" * 5000 + ")",
    "10 MB of control characters": "query-status a=" + "\x01\x1b" * (5 * MB),
}


def timed(action: Callable[[], Any], limit: float) -> float:
    started = time.monotonic()
    action()
    elapsed = time.monotonic() - started
    assert elapsed < limit, f"took {elapsed:.1f} s"
    return elapsed


@pytest.mark.parametrize("name", list(HUGE))
def test_huge_and_deep_lines_are_answered_in_bounded_time(name: str) -> None:
    text = HUGE[name]
    timed(lambda: check_request(text), 20)
    timed(lambda: check_request(text, typer=TYPER), 20)
    timed(lambda: list(read_statements(text.splitlines())), 20)


def test_assembler_is_linear_on_long_transactions() -> None:
    """Each added action line is read alone: 10x the actions may cost about 10x (with room for noise)."""

    def cost(n: int) -> float:
        lines = ["transaction(", *["abort"] * n, ")"]
        return min(timed(lambda: list(read_statements(lines)), 20) for _ in range(3))

    assert cost(20_000) < 25 * max(cost(2_000), 0.002)


@pytest.mark.parametrize("name", list(HUGE))
def test_completion_of_huge_and_deep_lines_is_bounded(name: str) -> None:
    timed(lambda: suggest(HUGE[name], INDEX, shell_commands=commands.names()), 20)


def test_parse_time_is_linear() -> None:
    """Ten times the text may take at most about ten times as long (with room for noise)."""

    small_text, large_text = ("query-status " + "a.b=1 c='x y' " * n for n in (5_000, 50_000))
    # Taken in turns, the best of five each: a burst of load on the machine then meets both sizes.
    rounds = [
        (timed(lambda: _try_parse(small_text), 20), timed(lambda: _try_parse(large_text), 20))
        for _ in range(5)
    ]
    small, large = (min(costs) for costs in zip(*rounds, strict=True))
    assert large < 40 * max(small, 0.002)  # measured: 12.5 times idle, 26 under load; quadratic: 100


def _try_parse(text: str) -> None:
    try:
        parse_statement(text)
    except UsageError:
        pass


# -- bytes that are not UTF-8 -----------------------------------------------------------


def user_commands(server: FakeServer) -> list[str]:
    return [c["execute"] for c in server.received if c["execute"] != "query-qmp-schema"]


def test_a_script_file_with_invalid_utf8(tmp_path: Path) -> None:
    script = tmp_path / "script.qmp"
    script.write_bytes(b"query-status\nquery-name x='\xff\xfe'\n")
    with FakeServer(tmp_path / "fake.sock", handshake()) as server:
        result = run_qmpshell(str(tmp_path / "fake.sock"), "-f", str(script))
    assert result.returncode == 2
    assert result.stderr == f"qmpshell: {script}:2: invalid UTF-8 at byte 15\n"
    assert result.stdout == ""
    assert user_commands(server) == []  # the script is read before connecting: nothing was sent


def test_stdin_with_invalid_utf8_stops_with_status_2(tmp_path: Path) -> None:
    with FakeServer(tmp_path / "fake.sock", handshake()) as server:
        result = run_qmpshell(str(tmp_path / "fake.sock"), input=b"\xc3\x28 query-status\nquery-status\n")
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 1: invalid UTF-8 at byte 1\n"
    assert user_commands(server) == ["qmp_capabilities"]


def test_stdin_with_invalid_utf8_and_keep_going_skips_the_line(tmp_path: Path) -> None:
    with FakeServer(tmp_path / "fake.sock", [*handshake(), Answer()]) as server:
        result = run_qmpshell(str(tmp_path / "fake.sock"), "-k", input=b"\xc3\x28\nquery-status\n")
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 1: invalid UTF-8 at byte 1; line skipped\n"
    assert result.stdout == '{"return": {}}\n'
    assert user_commands(server) == ["qmp_capabilities", "query-status"]


# -- no eval ------------------------------------------------------------------------------


def test_no_eval_anywhere_in_the_package() -> None:
    """``eval``, ``exec`` and ``ast.literal_eval`` are never used to read what a user typed."""
    banned = {"eval", "exec", "literal_eval"}
    found = []
    for path in sorted((ROOT / "qmpshell").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            name = getattr(node, "id", None) or getattr(node, "attr", None) or ""
            if name in banned:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
            if isinstance(node, ast.alias) and node.name.split(".")[-1] in banned:
                found.append(f"{path.relative_to(ROOT)}: imports {node.name}")
        assert "literal_eval" not in path.read_text(), path
    assert found == []
