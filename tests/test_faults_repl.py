"""Interactive faults, in a real terminal (tmux): Ctrl-C during a stalled command, two shells on
one history file."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.qemu_support import Qemu, qemu_banner, sent_messages, wait_until
from tests.tmux_support import Tmux, reply_line, start_qmpshell


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[list[Tmux]]:
    started: list[Tmux] = []
    yield started
    for tmux in started:
        tmux.close()


def start(sessions: list[Tmux], tmp_path: Path, *args: str) -> Tmux:
    tmux = start_qmpshell(tmp_path / "xdg", *args)
    sessions.append(tmux)
    tmux.wait_for(qemu_banner())
    return tmux


def test_ctrl_c_stops_waiting_for_a_stopped_qemu(sessions: list[Tmux], tmp_path: Path, qemu: Qemu) -> None:
    log = tmp_path / "qmp.log"
    tmux = start(sessions, tmp_path, qemu.socket, "--logfile", str(log))
    tmux.wait_for(qemu_banner())
    qemu.kill(signal.SIGSTOP)
    try:
        tmux.enter("query-name")
        # Sent, not necessarily last: completion may ask QEMU its own questions behind it.
        wait_until(lambda: sent_messages(log, "query-name"), what="query-name to be sent")
        tmux.send("C-c")
        tmux.wait_for(lambda screen: tmux.input_line().strip() in ("qmp>", ""))
    finally:
        qemu.kill(signal.SIGCONT)
    tmux.enter("query-status")
    screen = tmux.wait_for(reply_line("running"))
    assert "Traceback" not in screen
    assert "EXITED=" not in screen  # still in the shell


def test_two_shells_on_one_history_file_keep_both(sessions: list[Tmux], tmp_path: Path, qemu: Qemu) -> None:
    history = tmp_path / "shared-history"
    first = start(sessions, tmp_path, qemu.socket, "--history", str(history))
    second = start(sessions, tmp_path, qemu.aux_socket, "--history", str(history))
    for n in range(3):
        for name, tmux in (("first", first), ("second", second)):
            tmux.enter(f"qom-list path=/{name}/{n}")
            line = f"/{name}/{n}"
            wait_until(lambda line=line: line in history.read_text(), what=f"{line} in the history")
    for tmux in (first, second):
        tmux.enter("/quit")
        tmux.wait_for("EXITED=0")
    text = history.read_text()
    for n in range(3):
        assert f"qom-list path=/first/{n}" in text
        assert f"qom-list path=/second/{n}" in text
