"""End to end: ``python -m qmpshell SOCKET`` in a real terminal (tmux) against a real QEMU."""

from __future__ import annotations

import os
from pathlib import Path

from tests.qemu_support import Qemu, qemu_banner
from tests.tmux_support import NO_NAME, reply_line


def test_a_reply_is_shown(start, qemu: Qemu) -> None:  # type: ignore[no-untyped-def]
    tmux = start(qemu.socket)
    tmux.wait_for(qemu_banner())
    tmux.enter("query-status")
    tmux.wait_for(reply_line("running"))


def test_an_event_appears_in_the_side_pane_without_a_key(start, qemu: Qemu) -> None:  # type: ignore[no-untyped-def]
    tmux = start(qemu.socket)
    tmux.wait_for("\u2502 running \u2502")
    qemu.aux.execute("stop")
    screen = tmux.wait_for(" STOP")
    assert "events: 1" in screen
    tmux.wait_for("\u2502 paused \u2502")


def test_tab_completes_a_command_and_an_argument(start, qemu: Qemu) -> None:  # type: ignore[no-untyped-def]
    tmux = start(qemu.socket)
    tmux.type("query-statu")
    # The schema is read on a worker thread after the prompt appears: Tab again until it is there.
    tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "qmp> query-status" or tmux.send("Tab"))
    tmux.send("C-u")
    tmux.type("human-monitor-command command-l")
    tmux.send("Tab")
    tmux.wait_for(lambda screen: "command-line=" in tmux.input_line())


def test_ctrl_c_on_a_half_typed_line_keeps_the_shell(start, qemu: Qemu) -> None:  # type: ignore[no-untyped-def]
    tmux = start(qemu.socket)
    tmux.type("query-sta")
    tmux.wait_for(lambda screen: "query-sta" in tmux.input_line())
    tmux.send("C-c")
    tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "qmp>")
    tmux.enter("query-name")
    tmux.wait_for(reply_line(NO_NAME))
    tmux.send("C-d")
    tmux.wait_for("EXITED=0")


def test_history_survives_a_restart_and_holds_no_secret(start, qemu: Qemu, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tmux = start(qemu.socket)
    tmux.enter("object-add qom-type=secret id=s0 data=hunter2")
    tmux.enter("query-name")
    tmux.wait_for(reply_line(NO_NAME))
    tmux.send("C-d")
    tmux.wait_for("EXITED=0")
    history = tmp_path / "xdg" / "xdg_state_home" / "qmpshell" / "history"
    text = history.read_text()
    assert "query-name" in text and "hunter2" not in text
    assert os.stat(history).st_mode & 0o777 == 0o600
    again = start(qemu.socket)
    again.send("C-r")
    again.type("name")
    again.wait_for(lambda screen: again.input_line().rstrip() == "qmp> query-name")
    again.send("Enter", "Enter")
    again.wait_for(reply_line(NO_NAME))
    again.send("Up", "Up")
    again.wait_for(lambda screen: again.input_line().rstrip() == "qmp> query-name")


def test_hmp_mode_info_status(start, qemu: Qemu) -> None:  # type: ignore[no-untyped-def]
    tmux = start(qemu.socket)
    tmux.enter("/hmp")
    tmux.wait_for(lambda screen: tmux.input_line().startswith("hmp>"))
    tmux.enter("info status")
    tmux.wait_for("VM status: running")


def test_killing_qemu_then_starting_another_reconnects(start, qemu: Qemu) -> None:  # type: ignore[no-untyped-def]
    tmux = start(qemu.socket)
    tmux.wait_for("\u2502 running \u2502")
    qemu.kill()
    qemu.process.wait(10)
    tmux.wait_for("DISCONNECTED")
    tmux.type("query-sta")
    again = Qemu(qemu.directory)
    try:
        tmux.wait_for("events sent while disconnected were not received")
        assert "query-sta" in tmux.input_line()
        tmux.enter("tus")
        tmux.wait_for(reply_line("running"))
    finally:
        again.stop()
