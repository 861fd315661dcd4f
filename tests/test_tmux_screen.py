"""The screen at 80x24 and 120x35 in a real terminal (tmux) against a real QEMU: the status bar,
the events pane, search, and the transcript left in the terminal's scrollback."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.qemu_support import Qemu, qemu_banner
from tests.tmux_support import Tmux, reply_line

Start = Callable[..., Tmux]


def status_line(tmux: Tmux) -> str:
    return tmux.screen().rstrip("\n").splitlines()[-1]


def test_at_80_columns_disconnected_and_the_mode_stay_visible(start: Start, qemu: Qemu) -> None:
    tmux = start(qemu.socket, width=80, height=24)
    screen = tmux.wait_for("\u2502 running \u2502")
    assert "\u2014 /help, Tab completes, Ctrl-D quits" in screen  # the welcome line, on one line
    bar = status_line(tmux)
    assert f"{qemu_banner()}." in bar and "Debian" not in bar and len(bar.rstrip()) <= 80
    assert "events pane" not in screen and "(F2 hides)" not in screen  # narrower than 100: hidden
    qemu.kill()
    qemu.process.wait(10)
    tmux.wait_for(lambda _screen: "DISCONNECTED" in status_line(tmux))
    bar = status_line(tmux)
    assert "\u2502 QMP" in bar and "\u2502 ? \u2502" in bar, bar  # the mode, and no stale run state
    tmux.send("F2")
    tmux.wait_for("(F2 hides)")


def test_a_long_event_wraps_with_an_ellipsis_and_events_show_prints_it_whole(
    start: Start, qemu: Qemu
) -> None:
    tmux = start(qemu.socket, width=120, height=35)
    for line in (
        "blockdev-add driver=null-co node-name=src size=1048576",
        "blockdev-add driver=null-co node-name=dst size=1048576",
        "blockdev-backup job-id=a-job-with-a-long-name device=src target=dst sync=full",
    ):
        tmux.enter(line)
    screen = tmux.wait_for(" BLOCK_JOB_COMPLETED")
    lines = screen.splitlines()
    at = next(index for index, line in enumerate(lines) if " BLOCK_JOB_COMPLETED" in line)
    second = lines[at + 1]  # too long for one line of the pane: it goes on to a second, cut there
    assert second.rstrip().endswith("\u2026")
    assert "\u2502  device=a-job-with-a-long-name type=backup" in second  # id and state first, whole
    tmux.enter("/events filter BLOCK_JOB_COMPLETED")
    tmux.enter("/events show")
    screen = tmux.wait_for("device: a-job-with-a-long-name")  # the data as key: value lines
    assert re.search(r"type: +backup", screen) and re.search(r"len: +1048576", screen)


def test_find_in_a_long_info_qtree(start: Start, short_dir: Path) -> None:
    qemu = Qemu(short_dir, "-M", "pc", "-S")
    try:
        tmux = start(qemu.socket, width=80, height=24)
        tmux.enter("/hmp info qtree")
        tmux.wait_for(lambda screen: "dev: " in screen and "hpet-intcap" not in screen)
        tmux.enter("/find hpet-intcap")
        screen = tmux.wait_for("find 'hpet-intcap': 1 of 1")
        assert "hpet-intcap = 4 (0x4)" in screen
        tmux.enter("/find")
        tmux.wait_for("search ended")
    finally:
        qemu.stop()


def test_after_ctrl_d_the_session_is_in_the_terminals_scrollback(start: Start, qemu: Qemu) -> None:
    tmux = start(qemu.socket, width=80, height=24)
    tmux.enter("query-status")
    tmux.wait_for(reply_line("running"))
    tmux.send("C-d")
    tmux.wait_for("EXITED=0")
    scrollback = tmux.scrollback()
    assert "qmp> query-status\nrunning" in scrollback
    assert "events: " not in scrollback  # the text, without the panes' decoration


def test_no_transcript_leaves_nothing_behind(start: Start, qemu: Qemu) -> None:
    tmux = start(qemu.socket, "--no-transcript", width=80, height=24)
    tmux.enter("query-status")
    tmux.wait_for(reply_line("running"))
    tmux.send("C-d")
    tmux.wait_for("EXITED=0")
    assert "qmp> query-status\nrunning" not in tmux.scrollback()


def test_an_hmp_command_with_no_output_says_so(start: Start, qemu: Qemu) -> None:
    tmux = start(qemu.socket, "--hmp-via", "passthrough", width=80, height=24)
    tmux.enter("/hmp stop")
    tmux.wait_for("(no output)")
    tmux.wait_for("\u2502 paused \u2502")


def test_a_translated_hmp_command_with_an_empty_reply_says_ok(start: Start, qemu: Qemu) -> None:
    tmux = start(qemu.socket, width=80, height=24)
    tmux.enter("/hmp stop")
    tmux.wait_for(reply_line("ok"))
    tmux.wait_for("\u2502 paused \u2502")
