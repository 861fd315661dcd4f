"""Ids (W3, W4, W5): on the wire every id is the shell's own, counting up, never reused; a user's
raw-JSON id goes back into its reply; a reply that comes after its command was given up is dropped
with a note, never taken as another command's answer."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fakeserver import Answer, FakeServer, handshake, line
from tests.qemu_support import Qemu, json_lines, qmpshell_argv, run_qmpshell, status_return, wait_until
from tests.tmux_support import NO_NAME, reply_line, start_qmpshell


@pytest.mark.parametrize("options", [[], ["-k"], ["--pipeline"], ["-k", "--pipeline"]])
def test_a_raw_json_id_equal_to_an_automatic_one_is_answered(
    qemu: Qemu, tmp_path: Path, options: list[str]
) -> None:
    script = (
        tmp_path / "script.qmp"
    )  # a file: pipelining has every line at hand, so ids 2 and 3 are in flight
    lines = [
        "query-status",
        "query-status",
        '{"execute": "query-name", "id": 2}',
        '{"execute": "query-name", "id": 3}',
    ]
    script.write_text("\n".join(lines) + "\n")
    result = run_qmpshell(*options, "-f", str(script), qemu.socket)
    assert (result.returncode, result.stderr) == (0, "")
    running = {"return": status_return("running", running=True)}
    expected = [running, running, {"return": {}, "id": 2}, {"return": {}, "id": 3}]
    assert json_lines(result.stdout) == expected


def test_a_late_reply_after_a_timeout_answers_no_later_command(qemu: Qemu, tmp_path: Path) -> None:
    errors = tmp_path / "stderr"
    with open(errors, "w") as stderr:
        shell = subprocess.Popen(
            qmpshell_argv("-k", "--timeout", "1", qemu.socket),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
        )  # fmt: skip
    assert shell.stdin is not None and shell.stdout is not None
    try:
        shell.stdin.write("query-name\n")  # connected, and QEMU answers
        shell.stdin.flush()
        assert json_lines(shell.stdout.readline()) == [{"return": {}}]
        qemu.kill(signal.SIGSTOP)
        shell.stdin.write("query-status\n")
        shell.stdin.flush()
        wait_until(lambda: "no reply" in errors.read_text(), what=f"the timeout; {errors.read_text()!r}")
        qemu.kill(signal.SIGCONT)  # QEMU answers query-status now: too late
        shell.stdin.write('{"execute": "query-name", "id": 1}\n')
        shell.stdin.close()
        out = shell.stdout.read()
        assert shell.wait(30) == 1
    finally:
        qemu.kill(signal.SIGCONT)
        shell.kill()
    assert json_lines(out) == [{"return": {}, "id": 1}]
    notes = [text for text in errors.read_text().splitlines() if "given up" in text]
    assert len(notes) == 1 and notes[0].startswith(
        "qmpshell: 3: warning: a reply came after its command was given up, dropped: "
    )
    assert '"status": "running"' in notes[0]


def test_a_duplicated_reply_answers_no_later_command(tmp_path: Path) -> None:
    first: Any = {"return": {"first": True}}

    def duplicate_then_answer(command: dict[str, Any]) -> bytes:
        return line({**first, "id": 1}) + line({"return": {"second": True}, "id": command["id"]})

    steps = [
        *handshake(),
        Answer(lambda command: line({**first, "id": command["id"]})),
        Answer(duplicate_then_answer),
    ]
    with FakeServer(tmp_path / "dup.sock", steps):
        result = run_qmpshell("-c", "query-status", "-c", "query-name", str(tmp_path / "dup.sock"))
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [first, {"return": {"second": True}}]


def test_a_late_reply_is_noted_in_the_output_pane(qemu: Qemu, tmp_path: Path) -> None:
    tmux = start_qmpshell(tmp_path, "--timeout", "1", qemu.socket)
    try:
        tmux.enter("query-name")
        tmux.wait_for(reply_line(NO_NAME))
        qemu.kill(signal.SIGSTOP)
        tmux.enter("query-status")
        tmux.wait_for("no reply to query-status within 1 s")
        qemu.kill(signal.SIGCONT)
        tmux.enter("query-name")
        tmux.wait_for("a reply came after its command was given up, dropped")
        screen = tmux.wait_for(lambda text: text.count(f"\n{NO_NAME}") >= 2)
        after = screen[screen.rindex("qmp> query-name") :].splitlines()[1:]
        assert not any(row.startswith("running") for row in after), screen  # no late status as a reply
    finally:
        qemu.kill(signal.SIGCONT)
        tmux.close()
