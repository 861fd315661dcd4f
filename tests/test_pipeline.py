"""Pipelined scripts (-k, --pipeline): up to 8 commands in flight when QEMU offers oob, every reply
present and in script order, -v lines just before their reply, barriers before /wait; one at a time
without oob.  Against a real QEMU 7.2; the scripted fake server plays a QMP server without oob.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakeserver import Answer, FakeServer, handshake
from tests.qemu_support import Driven, Qemu, json_lines, log_records, run_qmpshell


def directions_and_messages(log: Path) -> list[tuple[str, dict[str, object]]]:
    records = log_records(log)
    return [(r["direction"], r["message"]) for r in records]


def most_in_flight(log: Path) -> int:
    """The most commands the log shows sent and not yet answered at one time."""
    waiting, most = 0, 0
    for direction, message in directions_and_messages(log):
        if direction == "sent":
            waiting += 1
        elif "return" in message or "error" in message:
            waiting -= 1
        most = max(most, waiting)
    return most


def script(count: int) -> str:
    """Lines whose replies say which line they answer: raw JSON keeps its own id."""
    lines = []
    for n in range(count):
        if n % 7 == 3:
            lines.append(f"device_del id=nosuch{n}")  # fails: -k goes on
        elif n % 5 == 1:
            lines.append("query-name")
        else:
            lines.append(f'{{"execute": "query-status", "id": "line-{n}"}}')
    return "\n".join(lines) + "\n"


def test_every_reply_comes_in_script_order_with_eight_in_flight(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    count = 400
    result = run_qmpshell("-k", "-v", "-l", str(log), qemu.socket, input=script(count))
    assert result.returncode == 1  # the device_del lines failed, every other line ran
    out = json_lines(result.stdout)
    assert len(out) == 2 * count  # each command as sent (-v), then its reply
    sent, replies = out[0::2], out[1::2]
    for n, (command, reply) in enumerate(zip(sent, replies, strict=True)):
        if n % 7 == 3:
            assert command["arguments"] == {"id": f"nosuch{n}"}
            assert reply["error"]["class"] == "DeviceNotFound"
        elif n % 5 == 1:
            assert command["execute"] == "query-name" and reply == {"return": {}}
        else:
            assert command["id"] == reply["id"] == f"line-{n}"
            assert reply["return"]["status"] == "running"
    errors = result.stderr.splitlines()
    assert errors == [
        f"qmpshell: {n + 1}: DeviceNotFound: Device 'nosuch{n}' not found" for n in range(3, count, 7)
    ]
    capabilities = directions_and_messages(log)[1][1]
    assert capabilities["arguments"] == {"enable": ["oob"]}
    assert 2 <= most_in_flight(log) <= 8


def test_wait_and_mode_switches_are_barriers(qemu: Qemu) -> None:
    lines = "stop\n/wait STOP timeout=10\nquery-status\ncont\n/wait RESUME timeout=10\n"
    lines += "/hmp\ninfo status\n/qmp\nquery-status\n"
    result = run_qmpshell("--pipeline", qemu.socket, input=lines)
    assert (result.returncode, result.stderr) == (0, "")
    out = result.stdout.splitlines()
    assert json.loads(out[0]) == {"return": {}}
    assert json.loads(out[1])["event"] == "STOP"
    assert json.loads(out[2])["return"]["status"] == "paused"
    assert json.loads(out[3]) == {"return": {}}
    assert json.loads(out[4])["event"] == "RESUME"
    assert out[5] == "VM status: running"
    assert json.loads(out[6])["return"]["status"] == "running"


def test_a_program_driving_it_through_a_pipe_gets_each_reply(qemu: Qemu) -> None:
    """Nothing more on stdin: what is in flight is finished, so the driver is never left waiting."""
    driven = Driven("-k", qemu.socket)
    for _ in range(3):
        driven.send("query-status\n")
        assert driven.reply(timeout=10)["return"]["status"] == "running"
    assert driven.finish() == (0, "")


def test_pipeline_without_keep_going_stops_sending_after_a_failure(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    lines = "query-status\ndevice_del id=nosuch\n" + "query-name\n" * 30
    result = run_qmpshell("--pipeline", "-l", str(log), qemu.socket, input=lines)
    assert result.returncode == 1
    out = json_lines(result.stdout)
    sent = [m for d, m in directions_and_messages(log) if d == "sent" and m.get("execute") == "query-name"]
    assert len(sent) <= 7  # only those already in flight when the failure came back
    assert len(out) == 2 + len(sent)  # and each of them is still shown
    assert out[1]["error"]["class"] == "DeviceNotFound"


def test_without_oob_one_command_at_a_time(tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    answers = [Answer() for _ in range(5)]
    with FakeServer(tmp_path / "fake.sock", [*handshake(), *answers]):
        result = run_qmpshell("-k", "-l", str(log), str(tmp_path / "fake.sock"), input="query-name\n" * 5)
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [{"return": {}}] * 5
    assert most_in_flight(log) == 1
    assert "arguments" not in directions_and_messages(log)[1][1]  # no oob was offered, none was asked for
