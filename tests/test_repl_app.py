"""The full-screen application driven through a pipe input against a real QEMU.

prompt_toolkit reads keys from ``create_pipe_input()`` and draws to a
``DummyOutput``; the tests assert on the application's state (output lines,
events pane, buffer, mode), waiting with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from qmpshell.config import Settings
from qmpshell.protocol.address import parse_address
from qmpshell.repl.app import Repl
from qmpshell.repl.connection import Connection
from qmpshell.repl.panes import EventFeed
from tests.qemu_support import Qemu, wait_until

CTRL_C, CTRL_D, CTRL_L, F2, PAGE_UP, PAGE_DOWN = "\x03", "\x04", "\x0c", "\x1bOQ", "\x1b[5~", "\x1b[6~"


@dataclass
class Running:
    repl: Repl
    keys: PipeInput
    thread: threading.Thread
    status: list[int] = field(default_factory=list)

    def type(self, text: str) -> None:
        self.keys.send_text(text)

    def output(self) -> str:
        return self.repl.log.text()

    def wait_output(self, text: str, timeout: float = 10.0) -> None:
        wait_until(lambda: text in self.output(), timeout=timeout, what=f"{text!r} in:\n{self.output()}")

    def idle(self) -> None:
        wait_until(lambda: not self.repl.busy and not self.repl.entry.queue, what="the command to finish")

    def exit_status(self) -> int:
        self.thread.join(10)
        assert not self.thread.is_alive(), "the application did not exit"
        return self.status[0]


def start(qemu: Qemu, keys: PipeInput, settings: Settings) -> Running:
    feed = EventFeed.for_settings(settings)
    connection = Connection(parse_address(qemu.socket), settings, log=None, on_event=feed.add)
    repl = Repl(connection, feed, settings, input=keys, output=DummyOutput())
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(repl.run(main_thread=False)), daemon=True)
    running = Running(repl, keys, thread, status)
    thread.start()
    wait_until(lambda: repl.app.is_running and repl._loop is not None, what="the application to start")
    return running


@pytest.fixture
def history_file(tmp_path: Path) -> Path:
    return tmp_path / "state" / "qmpshell" / "history"


@contextmanager
def running_shell(qemu: Qemu, settings: Settings) -> Iterator[Running]:
    """The application running on a thread over a pipe input; made to quit and disconnected after."""
    with create_pipe_input() as keys:
        running = start(qemu, keys, settings)
        yield running
        if running.thread.is_alive():
            loop = running.repl._loop
            assert loop is not None
            loop.call_soon_threadsafe(running.repl.quit)
            running.thread.join(10)
        running.repl.connection.close()
        # Its workers end with the connection: none may outlive the test and write into a descriptor
        # the next test's socket reuses (a fresh QEMU once got stray bytes before qmp_capabilities).
        wait_until(lambda: not shell_threads(), what=f"the shell's threads to end: {shell_threads()}")


def shell_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("qmpshell-") and t.is_alive()]


@pytest.fixture
def shell(qemu: Qemu, history_file: Path) -> Iterator[Running]:
    with running_shell(qemu, Settings(history_file=str(history_file))) as running:
        yield running


def test_a_reply_is_shown_as_its_view_and_slash_json_shows_the_json(shell: Running) -> None:
    shell.type("query-status\r")
    shell.wait_output("qmp> query-status\nrunning")
    shell.type("/json\r")
    shell.wait_output('"status": "running"')
    shell.type("/format json\r")
    shell.wait_output("replies: json (indented JSON)")
    shell.type("query-kvm\r")
    shell.wait_output('"enabled": false')


def test_an_event_reaches_the_pane_and_the_run_state_without_a_key(shell: Running, qemu: Qemu) -> None:
    wait_until(lambda: shell.repl.connection.run_state == "running", what="run state from query-status")
    qemu.aux.execute("stop")
    wait_until(lambda: "STOP" in shell.repl.feed.names(), what="STOP in the events pane")
    assert shell.repl.connection.run_state == "paused"
    assert shell.repl.connection.status().events == 1
    line = "".join(text for _, text, *_ in shell.repl.feed.visible()[-1])
    assert " STOP" in line


def test_ctrl_c_clears_a_half_typed_line_and_the_shell_stays(shell: Running) -> None:
    shell.type("query-sta")
    wait_until(lambda: shell.repl.input.buffer.text == "query-sta", what="typed text")
    shell.type(CTRL_C)
    wait_until(lambda: shell.repl.input.buffer.text == "", what="the line cleared")
    shell.type("query-name\r")
    shell.wait_output("\nthis machine has no name")
    assert shell.thread.is_alive()


def test_ctrl_c_while_waiting_stops_waiting(shell: Running) -> None:
    shell.type("/wait NO_SUCH_EVENT_*\r")
    wait_until(lambda: shell.repl.waits.active, what="the wait to start (beside: the shell is not busy)")
    shell.type(CTRL_C)
    shell.wait_output("stopped waiting")
    shell.idle()
    shell.type("query-status\r")
    shell.wait_output("query-status\nrunning")


def test_ctrl_d_on_an_empty_line_exits_0(shell: Running) -> None:
    shell.type("x" + CTRL_D)
    wait_until(lambda: shell.repl.input.buffer.text == "x", what="typed text")
    assert shell.thread.is_alive()
    shell.type("\x7f" + CTRL_D)
    assert shell.exit_status() == 0


def test_quit_command_exits_0(shell: Running) -> None:
    shell.type("/quit\r")
    assert shell.exit_status() == 0


def test_unfinished_json_continues_on_the_next_line(shell: Running) -> None:
    shell.type('{"execute":\r')
    wait_until(lambda: shell.repl.assembler.pending, what="a pending statement")
    assert "...> " in shell.output() or shell.repl.assembler.pending
    shell.type('"query-kvm"}\r')
    shell.wait_output("enabled: ")


def test_ctrl_l_clears_output_and_f2_toggles_events(shell: Running) -> None:
    shell.type("query-name\r")
    shell.wait_output("\nthis machine has no name")
    shell.idle()
    shell.type(CTRL_L)
    wait_until(lambda: not shell.repl.log.lines, what="output cleared")
    assert "this machine has no name" in shell.output()  # gone from the screen, kept for the transcript
    shown = shell.repl.events_shown
    shell.type(F2)
    wait_until(lambda: shell.repl.events_shown is not shown, what="the pane toggled")


def test_events_filter_and_clear(shell: Running, qemu: Qemu) -> None:
    shell.type("/events filter RES*\r")
    shell.wait_output("events pane shows: RES*")
    qemu.aux.execute("stop")
    qemu.aux.execute("cont")
    wait_until(lambda: len(shell.repl.feed.names()) == 2, what="two events")
    visible = ["".join(f[1] for f in line) for line in shell.repl.feed.visible()]
    assert len(visible) == 1 and "RESUME" in visible[0]
    shell.type("/events clear\r")
    wait_until(lambda: shell.repl.feed.names() == [], what="the pane cleared")


def test_page_up_scrolls_and_page_down_follows_again(shell: Running) -> None:
    for number in range(100):
        shell.repl.log.add([("", f"line {number}\n")])
    shell.type(PAGE_UP)
    wait_until(lambda: not shell.repl.log.following, what="scrolled up")
    for _ in range(20):
        shell.type(PAGE_DOWN)
    wait_until(lambda: shell.repl.log.following, what="back at the bottom")


def test_hmp_mode_runs_hmp_and_shows_its_error_text(shell: Running) -> None:
    shell.type("/hmp\r")
    wait_until(lambda: shell.repl.shell.hmp, what="HMP mode")
    shell.type("info status\r")
    shell.wait_output("VM status: running")
    shell.type("no-such-command\r")
    shell.wait_output("unknown command")
    styles = [line[0][0] for line in shell.repl.log.lines if line and "unknown command" in line[0][1]]
    assert styles == ["class:error"]
    shell.type("/qmp\r")
    wait_until(lambda: not shell.repl.shell.hmp, what="QMP mode")


def test_hmp_names_are_fetched_from_the_server_once_hmp_mode_starts(shell: Running) -> None:
    wait_until(lambda: shell.repl.completions.source is not None, what="completion after connecting")
    assert shell.repl.completions.hmp_names.commands == {}  # QMP mode: no HMP table, no 'help' asked
    shell.type("/hmp\r")
    wait_until(lambda: shell.repl.completions.hmp_names.info, what="HMP names")
    assert "status" in shell.repl.completions.hmp_names.info
    assert "info" in shell.repl.completions.hmp_names.commands


def test_an_hmp_line_in_qmp_mode_completes_from_names_asked_at_its_tab(shell: Running) -> None:
    wait_until(lambda: shell.repl.completions.source is not None, what="completion after connecting")
    shell.type("/hmp system_pow\t")
    wait_until(lambda: shell.repl.input.buffer.text == "/hmp system_powerdown", what="the HMP name")


def test_history_is_private_and_holds_no_secret(shell: Running, history_file: Path) -> None:
    shell.type("object-add qom-type=secret id=s0 data=hunter2\r")
    shell.wait_output("\nok")
    shell.type("query-name\r")
    shell.wait_output("query-name")
    wait_until(lambda: "query-name" in history_file.read_text(), what="history written")
    assert "hunter2" not in history_file.read_text()
    assert stat.S_IMODE(os.stat(history_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(history_file.parent).st_mode) == 0o700


def test_parse_error_is_shown_and_nothing_sent(shell: Running) -> None:
    shell.type("query-status 'open\r")
    shell.wait_output("error: ")
    assert "^" in shell.output()
    assert not shell.repl.busy


def test_reconnects_to_a_new_qemu_on_the_same_socket(shell: Running, qemu: Qemu) -> None:
    qemu.kill()
    qemu.process.wait(10)
    wait_until(lambda: shell.repl.connection.lost, what="the connection to be seen lost")
    shell.wait_output("connection lost")
    shell.type("query-sta")
    again = Qemu(qemu.directory)
    try:
        shell.wait_output("events sent while disconnected were not received")
        assert shell.repl.input.buffer.text == "query-sta"
        shell.type("tus\r")
        shell.wait_output("query-status\nrunning")
    finally:
        again.stop()


def test_toolbar_shows_the_signature_of_the_command_being_typed(shell: Running) -> None:
    wait_until(lambda: shell.repl.connection.shell.knowledge is not None, what="the schema to load")
    shell.type("block_resize node-name=n0 ")
    wait_until(lambda: "size" in shell.repl._signature(), what="the signature of block_resize")
    assert shell.repl._signature().startswith("block_resize")
    shell.type(CTRL_C)
    wait_until(lambda: shell.repl._signature() == "", what="no signature on an empty line")


def test_a_tab_typed_ahead_behind_blockdev_add_offers_the_node_it_makes(
    shell: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CI flake of test_tmux_daily's one-Tab test: its Tab came in the same burst as the Enter of
    ``blockdev-add`` and, on a busy machine, asked QEMU for the nodes before the worker had sent the
    command; that empty list was kept as current, so the Tab showed nothing and nothing redid it."""
    repl, buffer = shell.repl, shell.repl.input.buffer
    wait_until(lambda: repl.completions.source is not None, what="completion after connecting")
    may_run, run = threading.Event(), repl.core.run

    def slow_worker(text: str) -> object:  # the worker gets to the statement late, as under load
        may_run.wait(10)
        return run(text)

    monkeypatch.setattr(repl.core, "run", slow_worker)
    shell.type("blockdev-add driver=null-co node-name=na\r")
    wait_until(lambda: repl.busy, what="the statement to start")
    shell.type("block_resize node-name=n\t")
    wait_until(
        lambda: repl.completions.asked_text == "block_resize node-name=n" and buffer.complete_state is None,
        what="the Tab's completion to end while the statement waits",
    )
    may_run.set()
    wait_until(lambda: buffer.text == "block_resize node-name=na", what="the new node inserted whole")
