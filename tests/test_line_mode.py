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

from tests.qemu_support import Qemu, sent_messages, wait_until
from tests.tmux_support import shell_env


def logged_shell(tmp_path: Path, qemu: Qemu, log: Path, recorded: list[Recorded]) -> Recorded:
    """qmpshell on a dumb terminal with ``-l LOG``, at its first prompt; stopped after the test."""
    shell = Recorded(tmp_path, qemu.socket, "-l", str(log))
    recorded.append(shell)
    shell.wait_for("qmp> ")
    return shell


class Recorded:
    """qmpshell under ``script -qfec`` with TERM=dumb; lines are fed through a pipe."""

    def __init__(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.recording = tmp_path / "typescript"
        env = {**os.environ, **shell_env(tmp_path / "xdg"), "TERM": "dumb", **(env or {})}
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
        tmux.enter("query-status")
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
    shell = logged_shell(tmp_path, qemu, log, recorded)
    shell.send("query-name")
    ready = shell.wait_for("query-name\r\nthis machine has no name")
    qemu.kill(signal.SIGSTOP)
    try:
        before = len(sent_messages(log, "query-status"))  # the shell asked the run state when it started
        shell.send("query-status")
        # Once the command is sent the shell waits for the reply: ^C (SIGINT from the terminal) stops that.
        wait_until(lambda: len(sent_messages(log, "query-status")) > before, what="query-status sent")
        shell.send_raw(b"\x03")
        stopped = shell.wait_for("stopped waiting", after=ready)
    finally:
        qemu.kill(signal.SIGCONT)
    shell.send("query-name")
    shell.wait_for("has no name", after=stopped)
    shell.send("/quit")
    assert shell.process.wait(10) == 0


def test_line_mode_runs_each_pasted_statement_and_keeps_statements_in_the_history(
    tmp_path: Path, qemu: Qemu
) -> None:
    from qmpshell.repl.history import entries
    from tests.tmux_support import Tmux

    log = tmp_path / "qmp.log"
    argv = [sys.executable, "-m", "qmpshell", "--line", "-l", str(log), qemu.socket]
    tmux = Tmux(argv, env=shell_env(tmp_path / "xdg"))
    try:
        tmux.wait_for("Tab completes")
        tmux.paste("query-kvm\nquery-name\n")  # bracketed: both run, one after the other
        wait_until(lambda: sent_messages(log, "query-name"), what="the second pasted command")
        assert sent_messages(log, "query-kvm")
        tmux.paste("transaction(\n  abort\n)\nquery-uuid\n")
        wait_until(lambda: sent_messages(log, "query-uuid"), what="the command after the transaction")
        assert sent_messages(log, "transaction")[0]["arguments"] == {
            "actions": [{"type": "abort", "data": {}}]
        }
        for line in ("/hmp", "info name", "/qmp"):
            tmux.enter(line)
        tmux.wait_for("QMP mode")
        history = tmp_path / "xdg" / "xdg_state_home" / "qmpshell" / "history"
        assert entries(history.read_bytes())[-7:] == [
            "query-kvm",
            "query-name",
            "transaction(\n  abort\n)",
            "query-uuid",
            "/hmp",
            "/hmp info name",
            "/qmp",
        ]
        tmux.enter("transaction(")
        tmux.wait_for("...>")
        tmux.send("Enter")  # an empty continuation line abandons the statement
        tmux.wait_for("transaction discarded")
        # Keys typed before the prompt is back reach it all the same, but the terminal echoes them first.
        tmux.wait_for(lambda screen: screen.rstrip().endswith("transaction discarded\nqmp>"))
        tmux.send("Up", "Up", "Up", "Up", "Up")  # /qmp, /hmp info name, /hmp, query-uuid, the transaction
        tmux.wait_for(
            lambda screen: screen.rstrip().splitlines()[-3:] == ["qmp> transaction(", "  abort", ")"]
        )
        tmux.send("Enter")
        wait_until(lambda: len(sent_messages(log, "transaction")) == 2, what="the recalled transaction")
    finally:
        tmux.close()


def test_a_dumb_terminal_abandons_a_statement_on_an_empty_continuation_line(
    tmp_path: Path, qemu: Qemu, recorded: list[Recorded]
) -> None:
    log = tmp_path / "qmp.log"
    shell = logged_shell(tmp_path, qemu, log, recorded)
    shell.send("transaction(")
    shell.send("  abort")
    shell.send("")
    after = shell.wait_for("transaction discarded")
    shell.send("query-name")
    shell.wait_for("has no name", after=after)
    assert sent_messages(log, "transaction") == []
    shell.send("/quit")
    assert shell.process.wait(10) == 0


@pytest.mark.parametrize("term", ["xterm-256color", "dumb"])
def test_line_mode_says_a_lost_connection_and_reconnects_in_the_full_screens_words(
    term: str, tmp_path: Path, qemu: Qemu
) -> None:
    """The one connection keeper: the same lines as the full screen, printed between prompts."""
    from tests.tmux_support import Tmux

    env = {**shell_env(tmp_path / "xdg"), "TERM": term}
    tmux = Tmux([sys.executable, "-m", "qmpshell", "--line", qemu.socket], env=env, width=250)  # unwrapped
    again: Qemu | None = None
    try:
        tmux.wait_for("Ctrl-D quits")
        qemu.kill()
        qemu.process.wait(10)
        screen = tmux.wait_for("error: connection lost: ")
        lost = next(line for line in screen.splitlines() if "error: connection lost: " in line)
        assert lost.endswith("; retrying every second (/reconnect tries now)"), lost
        again = Qemu(qemu.directory)
        screen = tmux.wait_for("events sent while disconnected were not received", timeout=20)
        assert f"reconnected to {qemu.socket} (QEMU " in screen
        tmux.enter("query-status")
        tmux.wait_for(lambda text: text.rstrip().endswith("running\nqmp>"))
        tmux.send("C-d")
        tmux.wait_for("EXITED=0")
    finally:
        tmux.close()
        if again is not None:
            again.stop()


def test_help_in_line_mode_wraps_to_the_terminal(
    tmp_path: Path, qemu: Qemu, recorded: list[Recorded]
) -> None:
    """``/help`` fits the terminal it is read on (it wrapped at 76 columns whatever the width)."""
    shell = Recorded(tmp_path, qemu.socket, env={"COLUMNS": "50"})
    recorded.append(shell)
    start = shell.wait_for("qmp> ")
    shell.send("/help")
    end = shell.wait_for("qmp> ", after=shell.wait_for("/wait", after=start))
    text = shell.output()[start:end].decode()
    lines = [line for line in text.replace("\r", "").splitlines() if line.strip()]
    assert len(lines) > 10 and max(map(len, lines)) <= 50, lines


def test_line_mode_one_tab_right_after_blockdev_add_offers_the_new_node(tmp_path: Path, qemu: Qemu) -> None:
    from tests.tmux_support import Tmux

    log = tmp_path / "qmp.log"
    argv = [sys.executable, "-m", "qmpshell", "--line", "-l", str(log), qemu.socket]
    tmux = Tmux(argv, env=shell_env(tmp_path / "xdg"))
    try:
        tmux.wait_for("Tab completes")
        tmux.type("block_resize node-name=")
        tmux.send("Tab")  # no node yet: nothing offered, and that answer kept for a while
        wait_until(lambda: sent_messages(log, "query-named-block-nodes"), what="the nodes asked for")
        tmux.send("C-u")
        tmux.enter("blockdev-add driver=null-co node-name=na")
        tmux.wait_for("\nok")
        tmux.type("block_resize node-name=n")
        tmux.send("Tab")  # asked again: the line before made a node
        tmux.wait_for("qmp> block_resize node-name=na")
    finally:
        tmux.close()
