"""A hostile server cannot crash or hang the client, nor reach the terminal through it.

Played by the scripted server (a real QEMU never sends these): integers of
5,000 digits, ``1e400``, ``NaN``, a reader thread that dies, C0/C1 control
characters in replies, self-referencing schema types, duplicate keys and error
replies whose ``class``/``desc`` are not strings.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from qmpshell.errors import ConnectionLost, UsageError
from qmpshell.language.parse import parse_statement
from qmpshell.output.views import render_reply
from qmpshell.protocol.address import parse_address
from qmpshell.protocol.client import Client
from qmpshell.protocol.framing import StreamDecoder
from qmpshell.schema.help import describe, signature
from qmpshell.schema.index import SchemaIndex
from qmpshell.schema.suggest import suggest
from qmpshell.schema.values import SchemaTyper
from tests.fakeserver import GREETING, Answer, FakeServer, Hang, Message, Send, echo_id, handshake, line
from tests.qemu_support import json_lines, qmpshell_argv, run_qmpshell
from tests.test_faults_server import OK, one_error_line, received_replies, run_against


def raw_reply(text: str) -> Any:
    """A reply function writing ``text`` (with ``ID`` replaced by the command's id) as one line."""
    return lambda command: text.replace("ID", json.dumps(command["id"])).encode() + b"\r\n"


def documents(text: str) -> list[Any]:
    """Every JSON document in ``text``, compact or indented."""
    decoder, found, position = json.JSONDecoder(), [], 0
    while text[position:].strip():
        position += len(text[position:]) - len(text[position:].lstrip())
        value, position = decoder.raw_decode(text, position)
        found.append(value)
    return found


# -- numbers JSON cannot carry --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ('{"return": ' + "9" * 5000 + ', "id": ID}', "an integer of more than 4300 digits"),
        ('{"return": {"x": 1e400}, "id": ID}', "number 1e400 is out of range"),
        ('{"return": NaN, "id": ID}', "NaN is not a JSON value"),
        ('{"return": -Infinity, "id": ID}', "-Infinity is not a JSON value"),
    ],
)
def test_numbers_json_cannot_carry_end_the_connection_cleanly(tmp_path: Path, reply: str, why: str) -> None:
    """Before: a 5,000-digit integer killed the reader thread and the command waited forever."""
    steps = [*handshake(), Answer(OK), Answer(raw_reply(reply)), Hang()]
    result, records = run_against(tmp_path, steps, "query-status", "query-status", "query-status")
    assert result.returncode == 3, result.stderr
    line = one_error_line(result.stderr, "server sent invalid JSON: ", why)
    # issue 13's words start the line; the script line (batch's ``N:``) is named after them
    assert line.startswith("qmpshell: server sent invalid JSON: "), line
    assert line.endswith("; the connection ended during line 2"), line
    assert json_lines(result.stdout) == [{"return": {"status": "running"}}]
    assert "Infinity" not in result.stdout and "NaN" not in result.stdout
    assert len(received_replies(records)) == 1


def test_a_huge_integer_split_across_reads(tmp_path: Path) -> None:
    reply = '{"return": ' + "1" * 5000 + ', "id": ID}'
    steps = [*handshake(), Answer(raw_reply(reply), chunk=1000), Hang()]
    result, _ = run_against(tmp_path, steps, "query-status")
    assert result.returncode == 3
    line = one_error_line(result.stderr, "server sent invalid JSON: an integer of more than 4300 digits")
    assert line.startswith("qmpshell: server sent invalid JSON: "), line


def test_a_huge_integer_where_an_object_should_start() -> None:
    with pytest.raises(ConnectionLost, match="invalid JSON: an integer of more than 4300 digits"):
        StreamDecoder().feed(b"1" * 5000 + b"\r\n")


def test_invalid_json_on_one_c_line_starts_with_the_issue_words(tmp_path: Path) -> None:
    """``qmpshell -c``: the line is ``qmpshell: server sent invalid JSON: ...`` (issue 13), exit 3,
    while a command's own failure keeps the batch's ``qmpshell: N:``."""
    bad = '{"return": ' + "9" * 5000 + ', "id": ID}'
    steps = [*handshake(), Answer(raw_reply(bad)), Hang()]
    result, _ = run_against(tmp_path, steps, "query-status")
    assert result.returncode == 3
    assert result.stderr == (
        "qmpshell: server sent invalid JSON: an integer of more than 4300 digits (line 3);"
        " the connection ended during line 1\n"
    )
    refused = '{"error": {"class": "CommandNotFound", "desc": "no such command"}, "id": ID}'
    steps = [*handshake(), Answer(raw_reply(refused))]
    (tmp_path / "again").mkdir()
    result, _ = run_against(tmp_path / "again", steps, "x")
    assert result.returncode == 1
    assert result.stderr.startswith("qmpshell: 1: CommandNotFound: no such command"), result.stderr


def test_a_reader_thread_that_dies_fails_every_waiting_command_at_once(tmp_path: Path) -> None:
    """Whatever ends the reader (here a log that raises), nobody waits forever."""

    class BrokenLog:
        def received(self, message: dict[str, Any]) -> None:
            if message.get("return") == {"status": "running"}:  # not the greeting nor qmp_capabilities
                raise RuntimeError("the log broke")

        def sent(self, message: dict[str, Any], *, source: str = "") -> None:
            pass

    steps = [*handshake(), Answer(OK), Hang()]
    with FakeServer(tmp_path / "fake.sock", steps):
        client = Client(parse_address(str(tmp_path / "fake.sock")), log=BrokenLog())  # type: ignore[arg-type]
        client.connect()
        outcome: list[BaseException] = []
        waiter = threading.Thread(target=lambda: _capture(outcome, client.execute, "query-status"))
        waiter.start()
        waiter.join(timeout=10)
        assert not waiter.is_alive(), "the command waited for a reader that had died"
        client.close()
    assert isinstance(outcome[0], ConnectionLost)
    assert "RuntimeError: the log broke" in str(outcome[0])


def _capture(outcome: list[BaseException], call: Any, *args: Any) -> None:
    try:
        call(*args)
    except BaseException as err:  # noqa: BLE001 - the test looks at it
        outcome.append(err)


# -- control characters from the server ------------------------------------------------------------

HOSTILE = "a\x1b]0;owned\x07b\x9b31mc\x7fd"  # OSC title, BEL, 8-bit CSI, DEL


@pytest.mark.parametrize(
    "options",
    [(), ("-p",), ("--json",), ("-v",), ("--events",)],
    ids=["compact", "pretty", "json", "verbose", "events"],
)
def test_control_characters_from_the_server_are_escaped_in_every_output_mode(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    """C0 was escaped by json already; C1 (8-bit CSI) and DEL reached the terminal raw."""
    event = {"event": "X" + HOSTILE, "data": {"v": HOSTILE}, "timestamp": {"seconds": 1, "microseconds": 0}}
    reply = echo_id({"return": {"name": HOSTILE}})
    steps = [*handshake(), Answer(lambda c: line(event) + reply(c))]
    result, _ = run_against(tmp_path, steps, "query-name", options=options)
    assert result.returncode == 0, result.stderr
    for raw in "\x1b\x07\x9b\x7f":
        assert raw not in result.stdout
    assert "\\u009b" in result.stdout and "\\u007f" in result.stdout and "\\u001b" in result.stdout
    values = documents(result.stdout)
    assert {"name": HOSTILE} in values or {"return": {"name": HOSTILE}} in values  # the same value, escaped


def test_control_characters_from_the_server_are_escaped_in_the_log(tmp_path: Path) -> None:
    """``tail -f qmp.log`` on a terminal: the log is JSON, with C1 and DEL escaped like C0."""
    steps = [*handshake(), Answer(echo_id({"return": {"name": HOSTILE}}))]
    _, records = run_against(tmp_path, steps, "query-name")
    text = (tmp_path / "qmp.log").read_text()
    assert not any(raw in text for raw in "\x1b\x07\x9b\x7f")
    assert "\\u009b" in text
    assert {"return": {"name": HOSTILE}, "id": 1} in [r["message"] for r in records]


@pytest.mark.parametrize(
    "options", [("--format", "human"), ("--format", "table"), ("--format", "human", "-p")]
)
def test_control_characters_from_the_server_are_shown_in_human_views(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    """Views for people (tables, key: value lines, event lines) show controls, never write them."""
    event = {"event": "X" + HOSTILE, "data": {"v": HOSTILE}, "timestamp": {"seconds": 1, "microseconds": 0}}
    reply = echo_id({"return": [{"name": HOSTILE, "n": 1}, {"name": "b", "n": 2}]})
    steps = [*handshake(), Answer(lambda c: line(event) + reply(c))]
    result, _ = run_against(tmp_path, steps, "query-name", options=(*options, "--events", "--color=always"))
    assert result.returncode == 0, result.stderr
    for raw in "\x07\x9b\x7f":
        assert raw not in result.stdout
    assert "\x1b]" not in result.stdout  # colours (ESC [ ... m) only, no OSC from the server
    assert "a^[]0;owned^Gb\\x9b31mc^?d" in result.stdout


def test_control_characters_in_an_error_are_shown_not_obeyed(tmp_path: Path) -> None:
    error = {"error": {"class": "Generic\x9bError", "desc": "no \x1b[2Jway\x07"}}
    steps = [*handshake(), Answer(echo_id(error))]
    result, _ = run_against(tmp_path, steps, "query-status")
    assert result.returncode == 1
    message = one_error_line(result.stderr)
    assert message == "qmpshell: 1: Generic\\x9bError: no ^[[2Jway^G"


def test_control_characters_in_the_server_version_on_a_terminal(tmp_path: Path) -> None:
    """``--version`` writes the greeting's package string for a person: shown, not obeyed."""
    greeting = json.loads(json.dumps(GREETING))
    greeting["QMP"]["version"]["package"] = "evil\x1b[31m\x9b"
    steps = [Send(line(greeting)), Answer()]
    with FakeServer(tmp_path / "fake.sock", steps):
        status, screen = run_on_a_terminal(str(tmp_path / "fake.sock"), "--version", "-c", "query-status")
    assert status == 0, screen
    assert "QEMU 7.2.0 (evil^[[31m\\x9b)" in screen


LONE = "a\ud800b\udfffc"  # lone surrogates: valid JSON escapes, but no UTF-8 can hold them
PASSTHROUGH = ("--hmp-via", "passthrough")  # the fake server answers HMP lines, not query-commands


@pytest.mark.parametrize(
    "options",
    [(), ("-p",), ("--json",), ("-v",), ("--events",), ("--format", "human", "--events")],
    ids=["compact", "pretty", "json", "verbose", "events", "human"],
)
def test_lone_surrogates_from_the_server_are_written_as_escapes(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    """Before: ``internal error: UnicodeEncodeError`` at the first reply holding one, in every mode."""
    event = {"event": "X" + LONE, "data": {"v": LONE}, "timestamp": {"seconds": 1, "microseconds": 0}}
    reply = echo_id({"return": {"name": LONE}})
    steps = [*handshake(), Answer(lambda c: line(event) + reply(c))]
    result, records = run_against(tmp_path, steps, "query-name", options=options)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "a\\ud800b\\udfffc" in result.stdout
    if "human" not in options:
        values = documents(result.stdout)
        assert {"name": LONE} in values or {"return": {"name": LONE}} in values  # the same value, escaped
    assert {"return": {"name": LONE}, "id": 1} in [r["message"] for r in records]


def test_hmp_output_that_is_not_text_prints_as_json(tmp_path: Path) -> None:
    """Before: a server answering human-monitor-command with an object printed Python's repr."""
    steps = [*handshake(), Answer(echo_id({"return": {"a": [1, None, True]}}))]
    result, _ = run_against(tmp_path, steps, "/hmp info x", options=PASSTHROUGH)
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"a": [1, null, true]}\n'


def test_lone_surrogates_in_hmp_text_and_errors(tmp_path: Path) -> None:
    steps = [
        *handshake(),
        Answer(echo_id({"return": LONE + "\r\n"})),
        Answer(echo_id({"error": {"class": "GenericError", "desc": LONE}})),
    ]
    result, _ = run_against(tmp_path, steps, "/hmp info x", "query-status", options=PASSTHROUGH)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "a\\ud800b\\udfffc"  # HMP text, then the error reply as JSON
    assert documents(result.stdout.split("\n", 1)[1]) == [{"error": {"class": "GenericError", "desc": LONE}}]
    assert one_error_line(result.stderr) == "qmpshell: 2: GenericError: a\\ud800b\\udfffc"


def run_on_a_terminal(*args: str) -> tuple[int, str]:
    """qmpshell with stdout and stderr on a pseudo-terminal (stdin a pipe: batch mode)."""
    main, secondary = os.openpty()
    with subprocess.Popen(
        qmpshell_argv(*args), stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary
    ) as process:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        status = process.wait(timeout=30)
    os.close(main)
    return status, b"".join(chunks).decode("utf-8", "replace")


# -- self-referencing schema types -----------------------------------------------------------------

LOOPING_SCHEMA: list[dict[str, Any]] = [
    {"name": "int", "meta-type": "builtin", "json-type": "int"},
    {"name": "str", "meta-type": "builtin", "json-type": "string"},
    {"name": "E", "meta-type": "enum", "values": ["a", "b"]},
    {"name": "A", "meta-type": "array", "element-type": "A"},  # an array of itself
    {"name": "L", "meta-type": "alternate", "members": [{"type": "L"}, {"type": "int"}, {"type": "O"}]},
    {
        "name": "O",  # an object containing itself, its array and its alternate
        "meta-type": "object",
        "members": [
            {"name": "self", "type": "O", "default": None},
            {"name": "list", "type": "A", "default": None},
            {"name": "alt", "type": "L", "default": None},
            {"name": "n", "type": "int", "default": None},
        ],
    },
    {
        "name": "U",  # a union whose variant is itself, and one that points back
        "meta-type": "object",
        "members": [{"name": "kind", "type": "E"}, {"name": "u", "type": "U", "default": None}],
        "tag": "kind",
        "variants": [{"case": "a", "type": "U"}, {"case": "b", "type": "V"}],
    },
    {
        "name": "V",
        "meta-type": "object",
        "members": [{"name": "back", "type": "U"}],
        "tag": "back",
        "variants": [{"case": "x", "type": "U"}],
    },
    {"name": "loop", "meta-type": "command", "arg-type": "O", "ret-type": "A"},
    {"name": "uloop", "meta-type": "command", "arg-type": "U", "ret-type": "L"},
    {"name": "LOOPED", "meta-type": "event", "arg-type": "U"},
]


def test_self_referencing_schema_in_help_signatures_completion_and_typing() -> None:
    """Before: ``/help loop`` and every redraw of the toolbar died of RecursionError."""
    index = SchemaIndex.from_entries(LOOPING_SCHEMA)
    for name in ("loop", "uloop", "LOOPED"):
        assert describe(index, name), name
    assert "when kind is b:" in (describe(index, "uloop", narrow={"kind": "b"}) or "")
    for command, value in [
        ("loop", [[[]], []]),
        ("uloop", {"kind": "a", "u": {"kind": "b", "back": {"kind": "a"}}}),
    ]:
        assert render_reply({"return": value}, command=command, width=80, index=index).text()
    assert "[list=array of A (recursive)]" in signature(index, "loop")
    assert signature(index, "uloop").startswith("uloop kind=enum (a | b)")
    for text in (
        "loop ",
        "loop alt=",
        "loop self.self.",
        "uloop kind=a ",
        "uloop kind=b back.",
        "uloop u.u.",
    ):
        suggest(text, index)
    assert {"self.", "list=", "alt=", "n="} <= {c.insert for c in suggest("loop ", index).candidates}
    assert suggest("uloop kind=", index).texts == {"a", "b"}
    typer = SchemaTyper(index)
    request = parse_statement("loop self.self.n=1 alt=2 list=[[]] self.alt.n=3", typer=typer)
    assert request.message["arguments"] == {  # type: ignore[union-attr]
        "self": {"self": {"n": 1}, "alt": {"n": 3}},
        "alt": 2,
        "list": [[]],
    }
    parse_statement("uloop kind=a u.kind=b u.back=x", typer=typer)


def test_self_referencing_schema_over_the_wire(tmp_path: Path) -> None:
    steps = [*handshake(), Answer(echo_id({"return": []}))]
    with FakeServer(tmp_path / "fake.sock", steps, schema=LOOPING_SCHEMA):
        result = run_qmpshell(
            str(tmp_path / "fake.sock"), "-c", "/help loop", "-c", "/help uloop", "-c", "loop self.n=1"
        )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "list: array of A (recursive), optional" in result.stdout
    assert "when kind is a:" in result.stdout


SELF_UNION_SCHEMA: list[dict[str, Any]] = [
    {"name": "int", "meta-type": "builtin", "json-type": "int"},
    {"name": "E", "meta-type": "enum", "values": ["a", "b"]},
    {"name": "P", "meta-type": "object", "members": [{"name": "n", "type": "int"}]},
    {
        "name": "S",  # a union that is its own variant, with a plain object inside
        "meta-type": "object",
        "members": [{"name": "kind", "type": "E"}, {"name": "plain", "type": "P", "default": None}],
        "tag": "kind",
        "variants": [{"case": "a", "type": "S"}, {"case": "b", "type": "P"}],
    },
    {"name": "sloop", "meta-type": "command", "arg-type": "S", "ret-type": "P"},
]


def test_an_unknown_name_inside_a_union_that_is_its_own_variant() -> None:
    """Before: naming the members beside the mistake walked the union's variants without end."""
    typer = SchemaTyper(SchemaIndex.from_entries(SELF_UNION_SCHEMA))
    with pytest.raises(UsageError, match=r"^unknown argument 'plain.zz' for sloop; did you mean plain.n\?$"):
        parse_statement("sloop kind=a plain.zz=1", typer=typer)


def greeting_with(version: Any) -> Message:
    return {"QMP": {"version": version, "capabilities": []}}


@pytest.mark.parametrize(
    ("version", "shown"),
    [
        ({"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": ["x"]}, "QEMU 7.2.0"),
        ({"qemu": {"major": 7, "minor": 2, "micro": 0}, "package": 5}, "QEMU 7.2.0"),
        ({"qemu": {"major": "7\x1b[2J", "minor": None, "micro": []}, "package": "p"}, "QEMU unknown"),
        ({"qemu": [7, 2, 0], "package": "p"}, "QEMU unknown"),
        ("10.0", "QEMU unknown"),
    ],
)
def test_a_greeting_with_odd_types_never_stops_the_shell(tmp_path: Path, version: Any, shown: str) -> None:
    """Before: a package that was not a string was an internal error, in batch and interactive alike."""
    steps = [Send(line(greeting_with(version))), Answer()]
    with FakeServer(tmp_path / "fake.sock", steps):
        result = run_qmpshell(str(tmp_path / "fake.sock"), "--version", "-c", "query-status")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[1:] == [shown]


# -- duplicate keys and odd error replies ----------------------------------------------------------


def test_duplicate_keys_in_a_reply_the_last_one_wins(tmp_path: Path) -> None:
    """As in QEMU's own JSON parser (and Python's): the later member replaces the earlier."""
    reply = '{"return": {"status": "paused"}, "return": {"status": "running", "a": 1, "a": 2}, "id": ID}'
    steps = [*handshake(), Answer(raw_reply(reply))]
    result, _ = run_against(tmp_path, steps, "query-status")
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [{"return": {"status": "running", "a": 2}}]


def test_a_duplicate_id_routes_by_the_last_one(tmp_path: Path) -> None:
    reply = '{"id": 999, "return": {"status": "running"}, "id": ID}'
    steps = [*handshake(), Answer(raw_reply(reply))]
    result, _ = run_against(tmp_path, steps, "query-status")
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [{"return": {"status": "running"}}]


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ({"class": 42, "desc": ["a", "b"]}, 'qmpshell: 1: 42: ["a", "b"]'),
        ({"class": None, "desc": {"why": "x"}}, 'qmpshell: 1: null: {"why": "x"}'),
        ({"desc": "no class"}, "qmpshell: 1: Error: no class"),
        ("just a string", 'qmpshell: 1: Error: "just a string"'),
        ([1, 2], "qmpshell: 1: Error: [1, 2]"),
    ],
)
def test_an_error_reply_with_odd_types_prints_sensibly(tmp_path: Path, error: Any, shown: str) -> None:
    steps = [*handshake(), Answer(echo_id({"error": error}))]
    result, _ = run_against(tmp_path, steps, "query-status")
    assert result.returncode == 1, result.stderr
    assert one_error_line(result.stderr) == shown
    assert json_lines(result.stdout) == [{"error": error}]


def test_an_odd_error_during_negotiation(tmp_path: Path) -> None:
    steps = [Send(line(GREETING)), Answer(echo_id({"error": ["not", "an", "object"]}))]
    result, _ = run_against(tmp_path, steps, "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, "capabilities negotiation failed", '["not", "an", "object"]')


@pytest.mark.parametrize("output", ["json", "human"])
def test_an_error_not_an_object_reads_the_same_in_every_output_mode(tmp_path: Path, output: str) -> None:
    """Before: ``{"error": ["oops"]}`` read ``Error: ["oops"]`` in JSON mode and ``error: ['oops']`` (a repr)
    in the views; one error summary at the protocol boundary now serves both."""
    steps = [*handshake(), Answer(echo_id({"error": ["oops", None]}))]
    result, _ = run_against(tmp_path, steps, "query-status", options=("--format", output))
    assert result.returncode == 1
    assert one_error_line(result.stderr) == 'qmpshell: 1: Error: ["oops", null]'
    if output == "human":
        assert result.stdout.strip() == 'error: Error: ["oops", null]'


def test_views_describe_an_odd_error_as_json() -> None:
    rendering = render_reply({"error": {"class": 7, "desc": ["a"]}}, command="query-status")
    assert rendering.lines[0][0][1] == 'error: 7: ["a"]'
