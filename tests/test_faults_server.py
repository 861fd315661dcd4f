"""Faults a real QEMU will not produce, played by the scripted server in ``tests.fakeserver``.

Each case states the exit status, the one ``qmpshell:`` line on stderr, and
that every reply received before the fault is on stdout and in the log.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.fakeserver import GREETING, Answer, Close, FakeServer, Hang, Send, Step, echo_id, handshake, line
from tests.qemu_support import json_lines, log_records, run_qmpshell

OK = echo_id({"return": {"status": "running"}})


def run_against(
    tmp: Path,
    steps: list[Step],
    *commands: str,
    options: tuple[str, ...] = (),
    server_commands: list[str] | None = None,
) -> tuple[Any, list[dict[str, Any]]]:
    """Run ``qmpshell -c ...`` against a fake server (whose ``query-commands`` lists
    ``server_commands``); the result and the log's records."""
    log = tmp / "qmp.log"
    argv = ["-c" + c for c in commands]
    with FakeServer(tmp / "fake.sock", steps, commands=server_commands):
        result = run_qmpshell(str(tmp / "fake.sock"), "--logfile", str(log), *options, *argv)
    records = log_records(log)
    return result, records


def one_error_line(stderr: str, *fragments: str) -> str:
    """The single line of stderr, which starts ``qmpshell:`` and says what happened."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("qmpshell: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def received_replies(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Replies in the log, without the greeting and the answers to qmp_capabilities and the schema."""
    messages = [r["message"] for r in records if r["direction"] == "received"]
    replies = [m for m in messages if "QMP" not in m and "event" not in m]
    return [m for m in replies[1:] if m.get("error", {}).get("class") != "CommandNotFound"]


def test_garbage_line_loses_the_connection_but_not_the_replies_before(tmp_path: Path) -> None:
    steps = [*handshake(), Answer(OK), Answer(lambda c: b"this is not json\r\n"), Hang()]
    result, records = run_against(tmp_path, steps, "query-status", "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, "2: ", "non-JSON data", "this is not json")
    assert json_lines(result.stdout) == [{"return": {"status": "running"}}]
    assert len(received_replies(records)) == 1


def test_json_that_is_not_an_object(tmp_path: Path) -> None:
    steps = [*handshake(), Answer(OK), Answer(lambda c: b"[1, 2, 3]\r\n"), Hang()]
    result, records = run_against(tmp_path, steps, "query-status", "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, "2: ", "a JSON list, not an object")
    assert json_lines(result.stdout) == [{"return": {"status": "running"}}]
    assert len(received_replies(records)) == 1


def test_invalid_utf8(tmp_path: Path) -> None:
    bad = b'{"return": "\xc3\x28", "id": 2}\r\n'
    steps = [*handshake(), Answer(OK), Answer(lambda c: bad), Hang()]
    result, _ = run_against(tmp_path, steps, "query-status", "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, "2: ", "invalid UTF-8")
    assert json_lines(result.stdout) == [{"return": {"status": "running"}}]


def test_a_100_mb_reply_arrives_whole(tmp_path: Path) -> None:
    blob = "x" * (100 * 1024 * 1024)
    steps = [*handshake(), Answer(echo_id({"return": {"blob": blob}})), Answer(OK)]
    result, records = run_against(tmp_path, steps, "big", "query-status")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    first, second = result.stdout.splitlines()
    assert len(json.loads(first)["return"]["blob"]) == len(blob)
    assert json.loads(second) == {"return": {"status": "running"}}
    assert len(received_replies(records)) == 2


def test_a_reply_split_byte_by_byte(tmp_path: Path) -> None:
    stop = {"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}
    steps = [Send(line(GREETING), chunk=1), Answer(chunk=1), Answer(lambda c: line(stop) + OK(c), chunk=1)]
    result, _ = run_against(tmp_path, steps, "query-status", options=("--events",))
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [stop, {"return": {"status": "running"}}]


def test_a_last_line_without_newline_then_eof(tmp_path: Path) -> None:
    steps = [*handshake(), Answer(lambda c: json.dumps({"return": {}, "id": c["id"]}).encode()), Close()]
    result, records = run_against(tmp_path, steps, "query-status")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json_lines(result.stdout) == [{"return": {}}]
    assert received_replies(records) == [{"return": {}, "id": 1}]


def test_a_last_line_without_newline_then_eof_with_more_to_do(tmp_path: Path) -> None:
    steps = [*handshake(), Answer(lambda c: json.dumps({"return": {}, "id": c["id"]}).encode()), Close()]
    result, _ = run_against(tmp_path, steps, "query-status", "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, "2: ", "closed the connection")
    assert json_lines(result.stdout) == [{"return": {}}]


def test_a_reply_cut_off_by_eof(tmp_path: Path) -> None:
    steps = [*handshake(), Answer(OK), Answer(lambda c: OK(c)[:-12]), Close()]
    result, records = run_against(tmp_path, steps, "query-status", "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, "2: the server closed the connection in the middle of a message")
    assert json_lines(result.stdout) == [{"return": {"status": "running"}}]
    assert len(received_replies(records)) == 1


def test_a_reply_with_an_unknown_id_is_dropped(tmp_path: Path) -> None:
    stale = line({"return": "stale", "id": 999})
    steps = [*handshake(), Answer(lambda c: stale + OK(c)), Answer(OK)]
    result, records = run_against(tmp_path, steps, "query-status", "query-status")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json_lines(result.stdout) == [{"return": {"status": "running"}}] * 2
    assert {"return": "stale", "id": 999} in received_replies(records)


def test_an_error_without_id_answers_the_waiting_command(tmp_path: Path) -> None:
    error = {"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword"}}
    steps = [*handshake(), Answer(OK), Answer(lambda c: line(error))]
    result, _ = run_against(tmp_path, steps, "query-status", "query-status")
    assert result.returncode == 1
    one_error_line(result.stderr, "2: GenericError: JSON parse error")
    assert json_lines(result.stdout) == [{"return": {"status": "running"}}, error]


def test_events_before_the_greeting_are_events(tmp_path: Path) -> None:
    early = {"event": "RESUME", "timestamp": {"seconds": 1, "microseconds": 0}}
    steps = [Send(line(early)), *handshake(), Answer(OK)]
    result, _ = run_against(tmp_path, steps, "query-status", options=("--events",))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json_lines(result.stdout) == [early, {"return": {"status": "running"}}]


def test_a_server_without_qmp_capabilities_is_used_with_a_warning(tmp_path: Path) -> None:
    missing = echo_id({"error": {"class": "CommandNotFound", "desc": "The command qmp_capabilities..."}})
    steps = [Send(line(GREETING)), Answer(missing), Answer(OK)]
    result, _ = run_against(tmp_path, steps, "query-status")
    assert result.returncode == 0
    one_error_line(result.stderr, "warning: server has no qmp_capabilities command")
    assert json_lines(result.stdout) == [{"return": {"status": "running"}}]


def test_qemu_ga_sync_delimiter(tmp_path: Path) -> None:
    """qemu-ga: no greeting (-N), and 0xFF before the reply to guest-sync-delimited."""

    def sync(command: dict[str, Any]) -> bytes:
        return b"\xff" + line({"return": command["arguments"]["id"], "id": command["id"]})

    steps = [Answer(sync), Answer(echo_id({"return": {"version": "7.2.0"}}))]
    result, _ = run_against(tmp_path, steps, "guest-sync-delimited id=4242", "guest-info", options=("-N",))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json_lines(result.stdout) == [{"return": 4242}, {"return": {"version": "7.2.0"}}]


def test_a_hung_server_times_out_the_command(tmp_path: Path) -> None:
    steps = [*handshake(), Answer(OK), Hang()]
    result, _ = run_against(tmp_path, steps, "query-status", "query-status", options=("--timeout", "1"))
    assert result.returncode == 1
    one_error_line(result.stderr, "2: no reply to query-status within 1 s")
    assert json_lines(result.stdout) == [{"return": {"status": "running"}}]


def test_a_server_that_never_greets(tmp_path: Path) -> None:
    result, _ = run_against(tmp_path, [Hang()], "query-status", options=("--connect-timeout", "1"))
    assert result.returncode == 3
    one_error_line(result.stderr, "no QMP greeting", "within 1 s")
    assert result.stdout == ""


def test_a_greeting_that_is_not_qmp(tmp_path: Path) -> None:
    result, _ = run_against(tmp_path, [Send(line({"hello": "world"})), Hang()], "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, "did not send a QMP greeting")


def test_explaining_an_error_waits_for_the_schema_no_longer_than_timeout(tmp_path: Path) -> None:
    """An error reply makes the shell read the schema to explain it; a server that then stops
    answering holds the run for ``--timeout`` (here 1 s), not the schema's own 30 s."""
    failed = echo_id({"error": {"class": "GenericError", "desc": "no such thing"}})
    steps = [*handshake(), Answer(failed), Hang()]
    started = time.monotonic()
    result, records = run_against(tmp_path, steps, "stop", options=("--timeout", "1"))
    elapsed = time.monotonic() - started
    assert result.returncode == 1
    assert "GenericError: no such thing" in result.stderr
    sent = [r["message"].get("execute") for r in records if r["direction"] == "sent"]
    assert sent == ["qmp_capabilities", "stop", "query-commands"]  # the schema cache key was asked for, late
    assert elapsed < 15, f"the schema wait took {elapsed:.1f} s"
