"""The line mode for plain terminals, run under ``script`` with TERM=dumb against a real QEMU.

``script`` gives qmpshell a real terminal and records every byte it writes;
nothing in that recording may be a control sequence (a dumb terminal, Emacs'
``M-x shell`` or a CI log would show it as garbage), and an event must appear
while the prompt waits, without a key press.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.qemu_support import Qemu, log_records, wait_until
from tests.tmux_support import shell_env


class Recorded:
    """qmpshell under ``script -qfec`` with TERM=dumb; lines are fed through a pipe."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.recording = tmp_path / "typescript"
        env = {**os.environ, **shell_env(tmp_path / "xdg"), "TERM": "dumb"}
        # exec: without it a $SHELL of dash stays between script and qmpshell, and ^C kills the shell
        command = "exec " + shlex.join([sys.executable, "-m", "qmpshell", *args])
        self.process = subprocess.Popen(
            ["script", "-qfec", command, str(self.recording)], stdin=subprocess.PIPE, env=env
        )

    def output(self) -> bytes:
        return self.recording.read_bytes() if self.recording.exists() else b""

    def wait_for(self, text: str, *, after: int = 0) -> int:
        """Where ``text`` appears in the recording (searching from byte ``after``)."""
        needle = text.encode()
        wait_until(lambda: needle in self.output()[after:], what=f"{text!r} in {self.output()!r}")
        return self.output().index(needle, after)

    def shows(self, text: str, *, after: int = 0, timeout: float) -> bool:
        try:
            wait_until(lambda: text.encode() in self.output()[after:], timeout=timeout)
        except AssertionError:
            return False
        return True

    def send_raw(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[list[Recorded]]:
    runs: list[Recorded] = []
    yield runs
    for run in runs:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait(10)


def test_dumb_terminal_gets_lines_and_events_without_a_key_and_no_escape_sequence(
    tmp_path: Path, qemu: Qemu, recorded: list[Recorded]
) -> None:
    shell = Recorded(tmp_path, qemu.socket)
    recorded.append(shell)
    shell.wait_for("Ctrl-D quits")
    shell.wait_for("qmp> ")
    shell.send("query-status")
    reply = shell.wait_for("query-status\r\nrunning\r\n")
    prompt = shell.wait_for("qmp> ", after=reply)
    qemu.aux.execute("stop")  # nothing is typed: the event must show by itself
    event = shell.wait_for(" STOP", after=prompt)
    shell.wait_for("qmp> ", after=event)  # and the prompt is offered again below it
    shell.send("/hmp")
    shell.send("info status")
    shell.wait_for("VM status: paused")
    shell.send("/quit")
    assert shell.process.wait(10) == 0
    recording = shell.output()
    assert b"\x1b" not in recording, recording  # no CSI, no escape of any kind
    assert b"\r" not in recording.replace(b"\r\n", b"")  # not even carriage-return overwrites


def test_line_option_on_a_capable_terminal_runs_without_the_full_screen(tmp_path: Path, qemu: Qemu) -> None:
    from tests.tmux_support import Tmux, reply_line

    tmux = Tmux([sys.executable, "-m", "qmpshell", "--line", qemu.socket], env=shell_env(tmp_path / "xdg"))
    try:
        tmux.wait_for("Tab completes")
        tmux.type("query-status")
        tmux.send("Enter")
        tmux.wait_for(reply_line("running"))
        qemu.aux.execute("stop")
        tmux.wait_for(" STOP")
        tmux.send("C-d")
        tmux.wait_for("EXITED=0")
        assert "query-status\nrunning" in tmux.scrollback() and "events: " not in tmux.scrollback()
    finally:
        tmux.close()


def test_ctrl_c_in_line_mode_stops_waiting_and_keeps_the_shell(
    tmp_path: Path, qemu: Qemu, recorded: list[Recorded]
) -> None:
    log = tmp_path / "qmp.log"
    shell = Recorded(tmp_path, qemu.socket, "-l", str(log))
    recorded.append(shell)
    shell.wait_for("qmp> ")
    shell.send("query-name")
    ready = shell.wait_for("query-name\r\nok\r\n")
    qemu.kill(signal.SIGSTOP)
    try:
        shell.send("query-status")
        # Once the command is sent the shell waits for the reply: ^C (SIGINT from the terminal) stops that.
        wait_until(
            lambda: log_records(log, still_written=True)[-1]["message"].get("execute") == "query-status",
            what="sent",
        )
        shell.send_raw(b"\x03")
        stopped = shell.wait_for("stopped waiting", after=ready)
    finally:
        qemu.kill(signal.SIGCONT)
    shell.send("query-name")
    shell.wait_for("ok\r\n", after=stopped)
    shell.send("/quit")
    assert shell.process.wait(10) == 0
