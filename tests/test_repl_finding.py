"""Finding things in the full-screen shell, driven through a pipe input against a real QEMU:
Ctrl-F and /find, F4 to the last statement, /save, /events and its state."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from qmpshell.config import Settings
from tests.qemu_support import Qemu, wait_until
from tests.test_repl_app import Running, running_shell

CTRL_F, CTRL_B, F3, F4 = "\x06", "\x02", "\x1bOR", "\x1bOS"


@pytest.fixture
def shell(qemu: Qemu) -> Iterator[Running]:
    with running_shell(qemu, Settings(history_file=None, transcript=False)) as running:
        yield running


def fill(shell: Running) -> None:
    shell.type("query-status\r")
    shell.wait_output("query-status\nrunning")
    shell.idle()
    shell.type("query-version\r")
    shell.wait_output("query-version\nQEMU ")
    shell.idle()
    for number in range(200):
        shell.repl.log.add([("", f"filler {number}\n")])


def test_ctrl_f_starts_a_search_and_steps_through_matches(shell: Running) -> None:
    fill(shell)
    shell.type(CTRL_F)
    wait_until(lambda: shell.repl.input.buffer.text == "/find ", what="/find typed by Ctrl-F")
    shell.type("query-\r")
    search = shell.repl.search
    wait_until(lambda: search.current is not None, what="a match")
    newest = search.current
    assert search.describe() == "find 'query-': 2 of 2" and not shell.repl.log.following
    shell.type(CTRL_F)
    wait_until(lambda: search.current is not None and search.current < newest, what="the older match")
    shell.type(CTRL_B)
    wait_until(lambda: search.current == newest, what="the newer match again")
    shell.type(F3)
    wait_until(lambda: search.current != newest, what="F3: the older match")
    shell.type("/find\r")
    shell.wait_output("search ended")
    assert not search.active


def test_search_finds_the_first_command_of_a_whole_query_qmp_schema(shell: Running) -> None:
    shell.type("query-qmp-schema\r")
    shell.idle()
    log = shell.repl.log
    wait_until(lambda: log.text().rstrip().endswith("]"), what="the end of the schema")
    assert log.dropped == 0 and len(log.lines) > 20_000  # the whole reply is kept
    shell.type('/find "query-status"\r')
    search = shell.repl.search
    wait_until(lambda: search.current is not None, what="the match near the reply's start")
    assert search.describe() == "find 'query-status': 1 of 1"
    assert '"name": "query-status"' in log.text(search.current, search.current + 1)


def test_escape_on_an_empty_line_ends_the_search(shell: Running) -> None:
    fill(shell)
    shell.type("/find filler 1\r")
    search = shell.repl.search
    wait_until(lambda: search.current is not None, what="a match")
    shell.type("\x1b")  # alone: prompt_toolkit takes it as Escape once no other key follows
    wait_until(lambda: not search.active, what="Esc ends the search", timeout=10)
    assert search.describe() == "" and shell.repl.input.buffer.text == ""


def test_f4_jumps_to_the_last_statement_then_the_one_before(shell: Running) -> None:
    fill(shell)
    marks = list(shell.repl.log.marks)
    shell.type(F4)
    wait_until(lambda: shell.repl.log.cursor_line(len(shell.repl.log.lines)) == marks[-1], what="F4")
    shell.type(F4)
    wait_until(lambda: shell.repl.log.cursor_line(len(shell.repl.log.lines)) == marks[-2], what="F4 again")
    shell.type("\r")
    wait_until(lambda: shell.repl.log.following, what="Enter follows the end again")


def test_save_writes_the_pane_or_the_last_reply(shell: Running, tmp_path: Path) -> None:
    shell.type("query-name\r")
    shell.wait_output("query-name\nthis machine has no name")
    shell.idle()
    whole, reply = tmp_path / "whole.txt", tmp_path / "reply.txt"
    shell.type(f"/save {whole}\r")
    shell.wait_output(f"to {whole}")
    shell.type("query-status\r")
    shell.wait_output("query-status\nrunning")
    shell.idle()
    shell.type(f"/save reply {reply}\r")
    shell.wait_output(f"to {reply}")
    assert "qmp> query-name" in whole.read_text()
    text = reply.read_text()
    assert text.startswith("qmp> query-status") and "query-name" not in text
    assert stat.S_IMODE(os.stat(reply).st_mode) == 0o600
    shell.type("/save\r")
    shell.wait_output("usage: /save [reply|script] FILE")


def test_events_alone_says_how_the_pane_is_and_show_prints_one_whole(shell: Running, qemu: Qemu) -> None:
    qemu.aux.execute("stop")
    wait_until(lambda: shell.repl.feed.names() == ["STOP"], what="STOP")
    shell.type("/events\r")
    shell.wait_output("events pane: ")
    assert "filter: all events; 1 kept of at most 500" in shell.output()
    shell.type("/events show\r")
    shell.wait_output("event 1 (newest is 1): ")
    shell.wait_output("STOP\n  (no data)")  # STOP has no data: the view says so
    shell.type("/events show 2\r")
    shell.wait_output("the events pane holds 1 event(s)")
