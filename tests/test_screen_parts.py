"""The screen's pieces without a terminal: status bar by width, event lines, search, help text,
transcript and /save; plus the small batch fixes found the same day (against a real QEMU)."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest

from qmpshell.config import Settings
from qmpshell.errors import UsageError
from qmpshell.outcomes import HmpOutput
from qmpshell.repl.connection import Status
from qmpshell.repl.eventlines import event_line
from qmpshell.repl.panes import EventFeed, OutputLog, plain
from qmpshell.repl.search import OutputSearch, jump_target
from qmpshell.repl.styled import outcome
from qmpshell.repl.transcript import last_lines, save_text
from qmpshell.repl.widgets import output_notice, status_fragments, welcome_text
from qmpshell.schema import help as helptext
from qmpshell.schema.index import SchemaIndex
from tests.qemu_support import Qemu, qemu_banner, run_qmpshell

CAPTURE = Path(__file__).parent / "data" / "qemu-7.2-schema.json"
VERSION = "7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"
ADDRESS = "/run/user/1000/qemu/vm-with-a-name/qmp.sock"


@pytest.fixture(scope="module")
def index() -> SchemaIndex:
    return SchemaIndex.from_entries(json.loads(CAPTURE.read_text()))


def bar(status: Status, width: int, *, busy: bool = False) -> str:
    return "".join(f[1] for f in status_fragments(status, busy=busy, width=width, reconnecting=True))


@pytest.mark.parametrize("width", [120, 80, 60, 40])
def test_the_status_bar_fits_and_never_cuts_the_state_or_the_mode(width: int) -> None:
    up = Status(ADDRESS, VERSION, "running", True, 12, "")
    down = Status(ADDRESS, VERSION, "running", False, 12, "the server closed the connection")
    for text in (bar(up, width), bar(down, width), bar(up, width, busy=True)):
        assert len(text) <= width, text
        assert "Debian" not in text
    assert "HMP" in bar(up, width) and "QMP" in bar(down, width)
    assert "DISCONNECTED (reconnecting)" in bar(down, width)
    assert " ? \u2502" in bar(down, width) and "running" not in bar(down, width)
    assert "waiting for the reply" in bar(up, width, busy=True)


@pytest.mark.parametrize("width", [80, 60])
def test_a_launched_qemu_that_exited_is_not_said_to_be_reconnecting(width: int) -> None:
    down = Status(ADDRESS, VERSION, "running", False, 12, "the server closed the connection")
    fragments = status_fragments(down, busy=False, width=width, reconnecting=True, exited=True)
    text = "".join(f[1] for f in fragments)
    assert "DISCONNECTED (QEMU exited)" in text and "reconnecting" not in text
    assert "QMP" in text and len(text) <= width


def test_the_welcome_is_one_line_with_a_long_address() -> None:
    launched = "/tmp/qmpshell-61fj4_ej/qmp.sock"
    whole = welcome_text(launched, VERSION)
    assert whole == f"QEMU 7.2.22 at {launched} \u2014 /help, Tab completes, Ctrl-D quits"
    assert welcome_text(launched, VERSION, width=120) == whole
    cut = welcome_text(launched, VERSION, width=79)
    assert len(cut) <= 79 and cut.startswith("QEMU 7.2.22 at \u2026") and "/qmp.sock \u2014 " in cut
    assert cut.endswith("/help, Tab completes, Ctrl-D quits")


@pytest.mark.parametrize("width", [120, 80, 60, 40])
def test_the_line_under_the_output_fits_its_pane(width: int) -> None:
    both = output_notice(following=False, searching="find 'hpet': 2 of 5", width=width)
    assert len(both) <= width and both.startswith("find 'hpet'")
    assert both.endswith((")", "scrolled back", "\u2026"))  # a hint is left out whole, or the cut is shown
    if width >= 60:
        assert "\u2193 scrolled back" in both
    wide = output_notice(following=False, searching="find 'hpet': 2 of 5")
    assert "Ctrl-F older, Ctrl-B newer, Esc ends" in wide and "PageDown, Enter: to the end" in wide
    assert output_notice(following=True, searching="", width=width) == ""


def test_the_least_important_fields_go_first() -> None:
    up = Status(ADDRESS, VERSION, "running", False, 12, "")
    assert all(part in bar(up, 120) for part in (ADDRESS, "QEMU 7.2.22", "running", "QMP", "events: 12"))
    narrow = bar(Status(ADDRESS, VERSION, "running", False, 12, "x"), 60)
    assert "events: " not in narrow and "QEMU" not in narrow and "\u2026" in narrow  # address cut left


def event(name: str, **data: object) -> dict[str, object]:
    return {"event": name, "data": data, "timestamp": {"seconds": 0, "microseconds": 0}}


def test_an_event_line_names_its_subject_first_and_ends_in_an_ellipsis_when_cut() -> None:
    done = event("BLOCK_JOB_COMPLETED", len=1048576, offset=1048576, speed=0, type="backup", device="job0")
    whole = plain(event_line(done))
    assert whole.endswith("BLOCK_JOB_COMPLETED device=job0 type=backup len=1048576 offset=1048576 speed=0")
    cut = plain(event_line(done, 50))
    assert len(cut) == 50 and cut.endswith("\u2026") and "COMPLETED device=job0 " in cut


def test_the_feed_marks_a_new_connection_and_show_counts_back() -> None:
    feed = EventFeed()
    feed.add(event("STOP"))
    feed.add_separator("reconnected 12:00:00")
    feed.add(event("RESUME"))
    lines = [plain(line) for line in feed.visible(width=30)]
    assert "reconnected 12:00:00" in lines[1] and len(lines[1]) == 30
    assert [e["event"] for e in feed.events()] == ["STOP", "RESUME"] and feed.kept() == 2


def test_find_steps_through_matches_and_highlights_them() -> None:
    log = OutputLog(limit=100)
    for number in range(30):
        log.add([("", f"qmp> line {number}\n")], mark=number % 10 == 0)
        log.add([("class:x", f"Device {number}\n")])
    search = OutputSearch(log)
    assert search.find("device 2") == "find 'device 2': 11 of 11"  # no capital: case ignored
    assert search.current == 59 and log.following  # the newest line: the view stays at the end
    search.step(older=True)
    assert search.current == 57 and not log.following
    search.step(older=False)
    assert search.current == 59
    decorated = search.decorate(log.lines[59], 59)
    assert ("class:x class:search.current", "Device 2") in decorated
    assert search.find("DEVICE") == "not found: DEVICE"  # a capital: case matters
    assert jump_target(log, None) == 40 and jump_target(log, 40) == 20


def test_help_narrows_to_a_union_branch_and_wraps(index: SchemaIndex) -> None:
    whole = helptext.describe(index, "blockdev-add")
    narrow = helptext.describe(index, "blockdev-add", narrow={"driver": "qcow2"})
    assert whole is not None and narrow is not None
    assert "when driver is qcow2" in narrow and "when driver is file" not in narrow
    assert len(narrow.splitlines()) < len(whole.splitlines()) / 5
    assert all(len(line) <= helptext.WRAP for line in whole.splitlines())
    with pytest.raises(UsageError, match="nosuch is not a union discriminator"):
        helptext.describe(index, "blockdev-add", narrow={"nosuch": "x"})


def test_the_signature_lists_an_enum_once(index: SchemaIndex) -> None:
    text = helptext.signature(index, "blockdev-backup")
    assert text.count("enospc") == 1 and "[on-target-error=enum (as on-source-error)]" in text


def test_hmp_without_output_says_so() -> None:
    assert plain(outcome(HmpOutput("", False))) == "(no output)\n"


def test_transcript_and_save(tmp_path: Path) -> None:
    assert last_lines("a\nb\nc", 2) == "b\nc" and last_lines("a\nb", 0) == ""
    path = tmp_path / "out.txt"
    assert save_text(str(path), "one\ntwo") == 2
    assert path.read_text() == "one\ntwo\n" and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UsageError, match="cannot write"):
        save_text(str(tmp_path / "link"), "x")
    assert not (tmp_path / "elsewhere").exists()


# -- the batch side of the same day's findings, against a real QEMU -----------------------------


def test_help_refuses_extra_words_and_narrows(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-c", "/help query-status query-name")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "qmpshell: 1: usage: /help [COMMAND|EVENT [TAG=VALUE...]] (one name, got 2)"
    )
    narrowed = run_qmpshell(qemu.socket, "-c", "/help blockdev-add driver=qcow2")
    assert narrowed.returncode == 0 and "when driver is qcow2:" in narrowed.stdout
    assert "when driver is raw" not in narrowed.stdout
    listing = run_qmpshell(qemu.socket, "-c", "/help").stdout
    assert (
        "/clear" in listing
        and "/find" in listing
        and "/save" in listing
        and f"server: {qemu_banner()}" in listing
    )


def test_wait_timeout_repeats_the_filter(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-c", "/wait DEVICE_DELETED device=n1 timeout=0.2")
    assert result.returncode == 1
    assert result.stderr.strip() == "qmpshell: 1: no DEVICE_DELETED with device=n1 within 0.2 s"


def test_events_with_wait_prints_each_event_once(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "--events", "-c", "stop", "-c", "/wait STOP")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"event": "STOP"') == 1, result.stdout


def test_a_full_listen_queue_is_reported_as_a_busy_socket(qemu: Qemu) -> None:
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    holder.settimeout(10)
    holder.connect(qemu.socket)
    assert b"QMP" in holder.recv(4096)  # QEMU serves this one and accepts no other meanwhile
    held = [holder]
    try:
        while True:  # the others wait in a short queue until it is full
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                sock.connect(qemu.socket)
            except BlockingIOError:
                sock.close()
                break
            held.append(sock)
            assert len(held) < 100
        result = run_qmpshell(qemu.socket, "--connect-timeout", "1", "-c", "query-status")
    finally:
        for sock in held:
            sock.close()
    assert result.returncode == 3
    assert "listen queue is full; another client may hold the socket" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_default_colours_are_the_terminals_own_palette() -> None:
    from qmpshell.repl.lexer import json_fragments
    from qmpshell.repl.style import build_style

    style = build_style(Settings().theme)
    colours = {
        text: style.get_attrs_for_style_str(kind).color
        for kind, text, *_ in json_fragments('{"a": 1, "b": "x"}')
    }
    assert colours['"a"'] == "ansiblue" and colours["1"] == "ansicyan" and colours['"x"'] == "ansigreen"
    light = build_style("default")  # any pygments style can still be chosen
    assert light.get_attrs_for_style_str("class:pygments.literal.number.integer").color != "ansicyan"


@pytest.mark.parametrize(
    ("settings", "term", "size", "expected"),
    [
        (Settings(), "xterm-256color", (80, 24), False),
        (Settings(), "dumb", (80, 24), True),
        (Settings(), "", (80, 24), True),
        (Settings(line_mode=True), "xterm-256color", (200, 50), True),
        (Settings(), "xterm-256color", (39, 24), True),
        (Settings(), "xterm-256color", (80, 9), True),
    ],
)
def test_when_the_line_mode_is_chosen(
    settings: Settings, term: str, size: tuple[int, int], expected: bool
) -> None:
    from qmpshell.repl.choice import wants_line_mode

    assert wants_line_mode(settings, environ={"TERM": term}, size=os.terminal_size(size)) is expected
