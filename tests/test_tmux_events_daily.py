"""Events you can read, Ctrl-L and the transcript, at 80 and 120 columns in a real terminal (tmux)
against a real QEMU (issue 23): the pane keeps a job's id and status, wrapping rather than cutting;
``/events list``; ``events.pane_width`` and ``events.pane_min_columns``; events in the exit transcript
in time order; Ctrl-L and ``/clear`` leave the transcript and ``/save`` whole; ``device_del`` says
that the guest must act."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.qemu_support import Qemu, wait_until
from tests.tmux_support import Tmux, reply_line

Start = Callable[..., Tmux]
JOB_DONE = "status=concluded"


def create_job(qemu: Qemu, job: str) -> None:
    """A blockdev-create on the test's own monitor: JOB_STATUS_CHANGE events reach every monitor."""
    path = qemu.directory / f"{job}.img"
    path.write_bytes(b"")
    qemu.aux.execute("blockdev-add", driver="file", filename=str(path), **{"node-name": f"{job}-file"})
    options = {"driver": "qcow2", "file": f"{job}-file", "size": 1 << 20}
    qemu.aux.execute("blockdev-create", **{"job-id": job}, options=options)


def pane_lines(screen: str, column: int) -> list[str]:
    """The events pane's part of each screen line (right of the separator at ``column``)."""
    return [
        line[column + 1 :] for line in screen.splitlines() if len(line) > column and line[column] == "\u2502"
    ]


@pytest.mark.parametrize("width", [80, 120])
def test_the_pane_keeps_a_jobs_id_and_status(start: Start, machine: Qemu, width: int) -> None:
    tmux = start(machine.socket, width=width, height=30)
    if width < 100:
        assert "(F2 hides)" not in tmux.screen()  # narrower than events.pane_min_columns: hidden
        tmux.send("F2")
        tmux.wait_for("(F2 hides)")
    job = f"j{width}"
    create_job(machine, job)
    screen = tmux.wait_for(JOB_DONE)
    column = width - round(0.4 * width)  # events.pane_width's default: two fifths
    pane = "\n".join(pane_lines(screen, column))
    assert re.search(rf"JOB_STATUS_CHANGE(\n *| )id={job}(\n *| )status=concluded", pane), pane
    assert "\u2026" not in pane  # wrapped, not cut


@pytest.mark.parametrize("width", [80, 120])
def test_events_list_ctrl_l_save_and_the_transcript(
    start: Start, machine: Qemu, width: int, tmp_path: Path
) -> None:
    tmux = start(machine.socket, width=width, height=30)
    tmux.enter("query-status")
    tmux.wait_for(reply_line("running"))
    job = f"k{width}"
    create_job(machine, job)
    tmux.enter(f"/wait JOB_STATUS_CHANGE id={job} status=concluded timeout=10")  # came after query-status
    tmux.wait_for(f"JOB_STATUS_CHANGE id={job} status=concluded")
    tmux.enter("/events list 2 JOB_*")
    screen = tmux.wait_for("matching JOB_*")
    assert re.search(r"the last 2 of \d+ events matching JOB_\*", screen)
    assert f"JOB_STATUS_CHANGE id={job} status=concluded" in screen  # whole, on one output line
    tmux.send("C-l")
    tmux.wait_for(lambda screen: "matching JOB_*" not in screen)
    tmux.enter("query-version")
    tmux.wait_for("qmp> query-version")
    tmux.enter("/clear")
    saved = tmp_path / "session.txt"
    tmux.enter(f"/save {saved}")
    tmux.wait_for(re.compile(r"saved \d+ lines to").search)
    text = saved.read_text()
    assert "qmp> query-status\nrunning" in text and "matching JOB_*" in text and "qmp> query-version" in text
    tmux.send("C-d")
    tmux.wait_for("EXITED=0")
    scrollback = tmux.scrollback()
    order = [
        scrollback.index("qmp> query-status"),
        scrollback.index(f"JOB_STATUS_CHANGE id={job} status=created"),
        scrollback.index("qmp> /events list"),
        scrollback.index("qmp> query-version"),
    ]
    assert order == sorted(order), scrollback  # the events where they came, among the replies


def test_transcript_events_false_leaves_them_out(start: Start, machine: Qemu) -> None:
    tmux = start(machine.socket, width=80, height=30, config="[interactive]\ntranscript_events = false\n")
    tmux.enter("query-status")
    tmux.wait_for(reply_line("running"))
    create_job(machine, "nolist")
    tmux.enter("/wait JOB_STATUS_CHANGE id=nolist status=concluded timeout=10")
    tmux.wait_for("id=nolist status=concluded")
    tmux.enter("/events list 1")
    tmux.wait_for("the last 1 of")
    tmux.send("C-d")
    tmux.wait_for("EXITED=0")
    scrollback = tmux.scrollback()
    assert "qmp> /events list 1" in scrollback
    assert "status=created" not in scrollback  # only what /events list printed, not the events


def test_pane_width_and_min_columns_from_the_config(start: Start, machine: Qemu) -> None:
    config = "[events]\npane_width = 30\npane_min_columns = 70\n"
    tmux = start(machine.socket, width=80, height=30, config=config)
    screen = tmux.wait_for("(F2 hides)")  # 80 >= 70: shown at start
    title = next(line for line in screen.splitlines() if "(F2 hides)" in line)
    assert title.index("\u2502") == 80 - 30
    tmux.send("C-d")  # the monitor serves one client at a time
    tmux.wait_for("EXITED=0")
    wide = start(
        machine.socket, width=120, height=30, config="[events]\npane_width = 0.25\npane_min_columns = 130\n"
    )
    assert "(F2 hides)" not in wide.screen()
    wide.send("F2")
    screen = wide.wait_for("(F2 hides)")
    title = next(line for line in screen.splitlines() if "(F2 hides)" in line)
    assert title.index("\u2502") == 120 - 30


def test_device_del_says_the_guest_must_act(start: Start, q35: Qemu) -> None:
    tmux = start(q35.socket, width=80, height=30)
    tmux.enter("device_add driver=virtio-net-pci id=nic9 bus=rp1")
    tmux.wait_for(reply_line("ok"))
    tmux.enter("device_del id=nic9")
    screen = tmux.wait_for("DEVICE_DELETED device=nic9")
    assert "the guest must release the device" in " ".join(screen.split())
    tmux.enter("device_add driver=usb-tablet id=nic8 bus=xhci.0")  # another, to make a menu
    tmux.wait_for(lambda screen: screen.count("\nok\n") >= 3)
    tmux.type("qom-list path=/machine/peripheral/nic")
    tmux.send("Tab")  # no guest: nic9 stays, marked until DEVICE_DELETED
    screen = tmux.wait_for("(unplug pending)")
    marked = [line for line in screen.splitlines() if "(unplug pending)" in line]
    assert len(marked) == 1 and "nic9" in marked[0]


def test_the_shell_stays_usable_while_a_wait_runs(start: Start, machine: Qemu) -> None:
    tmux = start(machine.socket, width=120, height=30)
    tmux.enter("/wait STOP timeout=30")
    tmux.wait_for(lambda screen: "waiting for STOP event (Ctrl-C stops waiting)" in screen.splitlines()[-1])
    tmux.enter("query-status")  # runs now, not after the wait
    tmux.wait_for(reply_line("running"))
    machine.aux.execute("stop")
    screen = tmux.wait_for(re.compile(r"^\d\d:\d\d:\d\d\.\d{3} STOP", re.M).search)  # the wait's result
    assert "waiting for STOP" not in screen.splitlines()[-1]
    machine.aux.execute("cont")
    tmux.enter("/wait SHUTDOWN timeout=30")
    tmux.wait_for("waiting for SHUTDOWN event")
    tmux.type("query-ver")
    tmux.send("C-c")  # stops the wait, keeps what is typed
    tmux.wait_for("stopped waiting")
    assert tmux.input_line().rstrip() == "qmp> query-ver"


def test_a_line_typed_at_once_waits_for_the_schema_and_is_checked(start: Start, machine: Qemu) -> None:
    tmux = start(machine.socket, width=80, height=30)  # a fresh cache: the schema is fetched, not read
    tmux.enter("block_resize node-name=d sise=1M")
    screen = tmux.wait_for("sise")
    screen = tmux.wait_for(lambda screen: "did you mean size?" in screen or "error:" in screen)
    assert "unknown argument 'sise' for block_resize; did you mean size?" in " ".join(screen.split())


def test_the_toolbar_shows_the_chosen_branch_first_and_marks_a_cut(start: Start, machine: Qemu) -> None:
    tmux = start(machine.socket, width=80, height=30)
    tmux.type("qom-list ")
    tmux.wait_for("qom-list path=str")  # the schema is loaded
    tmux.send("C-u")
    tmux.type("blockdev-add driver=qcow2 node-name=q0 file.driver=file file.")
    screen = tmux.wait_for("blockdev-add file.: ")
    bar = next(line for line in screen.splitlines() if line.startswith("blockdev-add file.: "))
    assert bar.startswith("blockdev-add file.: filename=str [pr-manager=str] [locking=enum")
    assert bar.rstrip().endswith("\u2026") and len(bar.rstrip()) == 80


def test_after_a_migration_the_status_bar_says_postmigrate(start: Start, short_dir: Path) -> None:
    source = Qemu(short_dir)
    try:
        tmux = start(source.socket, width=120, height=30)
        tmux.wait_for("\u2502 running \u2502")
        source.aux.execute("migrate", uri="exec:cat > /dev/null")
        tmux.wait_for("\u2502 paused (postmigrate) \u2502")  # as query-status shows it, not just "paused"
        tmux.enter("query-status")
        tmux.wait_for(reply_line("paused (postmigrate)"))
    finally:
        source.stop()


def test_escape_then_a_slash_a_moment_later_types_the_slash(start: Start, machine: Qemu) -> None:
    tmux = start(machine.socket, width=80, height=30)
    tmux.send("Escape")
    pressed = time.monotonic()
    # The pause is what is tested: a person's Esc, then "/" a third of a second later (before: 1 s
    # counted as one Meta-/ key, and the "/" was lost).
    wait_until(lambda: time.monotonic() - pressed > 0.3, what="a person's pause")
    tmux.type("/help")
    tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "qmp> /help")


def test_job_fails_loudly_in_the_interactive_shell(start: Start, machine: Qemu) -> None:
    path = machine.directory / "ij.img"
    path.write_bytes(b"")
    machine.aux.execute("blockdev-add", driver="file", filename=str(path), **{"node-name": "ij-file"})
    tmux = start(machine.socket, width=120, height=30)
    create = "/job blockdev-create options.driver=qcow2 options.file=ij-file options.size=1M job-id="
    tmux.enter(create + "ij options.cluster-size=1234")
    screen = tmux.wait_for("job ij failed: ")
    assert re.search(r"^error: job ij failed: .*[Cc]luster size", screen, re.M), screen
    tmux.enter(create + "ij2")
    tmux.wait_for("job ij2 (create) concluded without error, dismissed")
    assert all(job["id"] not in ("ij", "ij2") for job in machine.aux.execute("query-jobs"))
