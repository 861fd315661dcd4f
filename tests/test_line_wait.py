"""The line mode stays usable while ``/wait`` runs (issue 23, point 2), in a real terminal against a
real QEMU: the prompt comes back at once, a command typed meanwhile runs and prints, the wait's
result prints when another client stops the machine, and Ctrl-C stops the wait and keeps what is
typed (prompt_toolkit's prompt under tmux; the terminal's own line editing under ``script``)."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from qmpshell.config import Settings
from qmpshell.protocol.address import parse_address
from qmpshell.repl.keeper import open_session
from qmpshell.repl.linemode import LineSession
from tests.qemu_support import Qemu, wait_until
from tests.test_line_mode import Recorded
from tests.tmux_support import Tmux, reply_line, shell_env

STOP_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} STOP", re.M)  # the wait's result: the event


@pytest.fixture
def line_shell(tmp_path: Path, machine: Qemu) -> Iterator[Tmux]:
    """``qmpshell --line`` in tmux (prompt_toolkit's prompt), at its first prompt; the machine runs."""
    argv = [sys.executable, "-m", "qmpshell", "--line", machine.socket]
    tmux = Tmux(argv, env=shell_env(tmp_path / "xdg"), width=100, height=30)
    try:
        tmux.wait_for("Tab completes")
        yield tmux
    finally:
        tmux.close()
        if machine.aux.execute("query-status")["status"] != "running":
            machine.aux.execute("cont")


def test_commands_run_while_a_wait_runs_and_its_result_prints_when_it_ends(
    line_shell: Tmux, machine: Qemu
) -> None:
    tmux = line_shell
    tmux.enter("/wait STOP timeout=30")
    tmux.wait_for("waiting for STOP event (Ctrl-C stops waiting)")  # the prompt's toolbar
    tmux.enter("query-status")  # runs now, not after the wait
    tmux.wait_for(reply_line("running"))
    assert not STOP_LINE.search(tmux.screen())
    machine.aux.execute("stop")  # another client stops the machine: the wait ends
    screen = tmux.wait_for(STOP_LINE.search)
    tmux.wait_for(lambda screen: "waiting for STOP" not in screen)  # the toolbar has gone
    lines = screen.splitlines()
    assert lines.index("qmp> query-status") < next(n for n, line in enumerate(lines) if STOP_LINE.match(line))
    tmux.enter("query-status")
    tmux.wait_for(reply_line("paused"))


def test_ctrl_c_stops_the_wait_and_keeps_the_typed_text(line_shell: Tmux) -> None:
    tmux = line_shell
    tmux.enter("/wait SHUTDOWN timeout=30")
    tmux.wait_for("waiting for SHUTDOWN event")
    tmux.type("query-ver")
    tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "qmp> query-ver")
    tmux.send("C-c")  # stops the wait; the half-typed line stays
    tmux.wait_for("stopped waiting")
    tmux.wait_for(lambda screen: "waiting for SHUTDOWN" not in screen)
    # the prompt is drawn again below the wait's line: the typed text comes back with it
    tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "qmp> query-ver")
    tmux.type("sion")
    tmux.send("Enter")
    tmux.wait_for(re.compile(r"^qmp> query-version\nQEMU \d", re.M).search)  # the typed line was whole
    tmux.send("C-c")  # no wait now: Ctrl-C drops the line, as before
    tmux.wait_for("qmp>")


@pytest.fixture
def dumb_shell(tmp_path: Path, machine: Qemu) -> Iterator[Recorded]:
    """``qmpshell`` on a dumb terminal (``script``, TERM=dumb), its input a pipe; the machine runs."""
    shell = Recorded(tmp_path, machine.socket)
    try:
        yield shell
    finally:
        if shell.process.poll() is None:
            shell.process.kill()
            shell.process.wait(10)
        if machine.aux.execute("query-status")["status"] != "running":
            machine.aux.execute("cont")


def test_a_dumb_terminal_also_keeps_its_prompt_while_waiting(dumb_shell: Recorded, machine: Qemu) -> None:
    shell = dumb_shell
    start = shell.wait_for("qmp> ")
    shell.send("/wait STOP timeout=30")
    waiting = shell.wait_for("qmp> ", after=shell.wait_for("STOP timeout=30\r\n", after=start))  # at once
    shell.send("query-status")
    ran = shell.wait_for("running\r\n", after=waiting)
    machine.aux.execute("stop")
    ended = shell.wait_for(" STOP", after=ran)
    shell.wait_for("qmp> ", after=ended)  # the prompt again, below the wait's result
    machine.aux.execute("cont")
    shell.send("/wait SHUTDOWN timeout=30")
    shell.wait_for("qmp> ", after=shell.wait_for("SHUTDOWN timeout=30\r\n", after=ended))  # it runs
    shell.send_raw(b"\x03")  # ^C: the terminal sends SIGINT
    stopped = shell.wait_for("stopped waiting", after=ended)
    shell.send("query-name")
    shell.wait_for("has no name", after=stopped)
    shell.send("/quit")
    assert shell.process.wait(10) == 0


def test_ctrl_c_while_a_wait_line_is_still_being_taken_in_stops_that_wait(
    machine: Qemu, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CI's case: Enter on ``/wait``, then Ctrl-C while the line waits for the output lock
    (an event's lines being printed).  The Ctrl-C is for the wait that line starts."""
    session: LineSession | None = None
    connection, feed = open_session(parse_address(machine.socket), Settings(), log=None)
    session = LineSession(connection, feed, Settings())
    lines = iter(["/wait SHUTDOWN timeout=30"])

    def hold_output_and_interrupt() -> None:
        assert session is not None
        with session.lock:  # the line cannot start its wait before this lets go
            wait_until(lambda: session.taking, what="the line taken in")
            os.kill(os.getpid(), signal.SIGINT)
            wait_until(lambda: session.early_interrupt, what="the Ctrl-C noted")

    def read() -> str | None:
        assert session is not None
        line = next(lines, None)
        if line is not None:
            threading.Thread(target=hold_output_and_interrupt, daemon=True).start()
            return line
        wait_until(lambda: not session.wait.active, what="the wait ended")
        return None

    try:
        assert session.run(read=read) == 0
    finally:
        connection.close()
    assert "error: stopped waiting" in capsys.readouterr().out
