"""The instant prompt (issue 26): the full screen's first frame, drawn before prompt_toolkit loads,
in a real terminal against a real QEMU.  Typing there loses nothing and means what it means in the
shell; the terminal is restored on every way out.

To type while the frame is up (and not the application), the shell is held there: the program
below is ``qmpshell ARGS`` whose ``instant.shown`` waits, before or after the frame is drawn, until
the test writes to a FIFO; it first writes where it is held (and whether prompt_toolkit is loaded)
to a file, so the test knows.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.qemu_support import Qemu, children, qemu_banner, wait_until
from tests.tmux_support import NO_NAME, Tmux, reply_line, shell_env

HELD = """
import contextlib, sys
from qmpshell.cli import main
from qmpshell.repl import instant

held, release, where = sys.argv[1:4]
shown = instant.shown

def hold(stage):
    with open(held, "w") as note:
        note.write(f"{stage} {'prompt_toolkit' in sys.modules}")
    with open(release) as fifo:
        fifo.read()

@contextlib.contextmanager
def holding(*args, **kwargs):
    if where in ("before", "both"):
        hold("before")
    with shown(*args, **kwargs) as prompt:
        if where in ("after", "both"):
            hold("after")
        yield prompt

instant.shown = holding
sys.exit(main(sys.argv[4:]))
"""


class Held:
    """``qmpshell ARGS`` in a terminal, held before or after its instant frame until ``release``."""

    def __init__(self, root: Path, where: str, *args: str, config: str = "") -> None:
        self.held, self.fifo = root / "held", root / "release"
        os.mkfifo(self.fifo)
        if config:
            directory = root / "xdg" / "xdg_config_home" / "qmpshell"
            directory.mkdir(parents=True)
            (directory / "config.toml").write_text(config)
        argv = [sys.executable, "-c", HELD, str(self.held), str(self.fifo), where, *args]
        self.tmux = Tmux(argv, env=shell_env(root / "xdg"))
        try:
            self.wait_held("before" if where == "both" else where)
        except BaseException:
            self.tmux.close()  # not yet in the fixture's list: nothing else would end it
            raise

    def wait_held(self, stage: str) -> None:
        def there() -> bool:
            try:
                written = self.held.read_text().split()  # empty while the shell is writing it
            except FileNotFoundError:
                return False
            return written[:1] == [stage]

        wait_until(there, timeout=30, what=f"the shell to be held {stage} the frame")

    def release(self) -> None:
        def opened() -> int | None:
            try:
                return os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: the shell does not read it yet
                return None

        fd = wait_until(opened, timeout=10, what="the shell to wait on its FIFO")
        os.close(fd)

    def modes(self) -> str:
        """The terminal's modes as ``stty -a`` says them, space-padded for whole-word checks."""
        shown = subprocess.run(
            ["stty", "-a", "-F", self.tmux.display("#{pane_tty}")], capture_output=True, text=True, timeout=10
        )
        return f" {shown.stdout.replace(chr(10), ' ')} "


@pytest.fixture
def held(tmp_path: Path) -> Iterator[object]:
    """``held(where, *args, config=)``: a held shell (closed after the test)."""
    shells: list[Held] = []

    def run(where: str, *args: str, config: str = "") -> Held:
        shells.append(Held(tmp_path, where, *args, config=config))
        return shells[-1]

    yield run
    for shell in shells:
        shell.tmux.close()


def restored(shell: Held) -> None:
    """The normal screen and the terminal's own modes again: line editing, echo, signals, CR to NL."""
    assert shell.tmux.display("#{alternate_on}") == "0"
    modes = shell.modes()
    for mode in ("icanon", "echo", "isig", "icrnl", "iexten"):
        assert f" {mode} " in modes, modes


def test_a_word_and_enter_typed_at_the_instant_prompt_run_once_the_shell_is_up(held, machine: Qemu) -> None:  # type: ignore[no-untyped-def]
    shell = held("after", machine.socket)
    tmux = shell.tmux
    screen = tmux.screen()
    assert f"{qemu_banner()}" in screen and "events: 0" in screen  # connected, then the frame drawn
    assert "Tab completes" in screen and "events  (F2 hides)" in screen  # as the application's first draw
    assert shell.held.read_text() == "after False"  # drawn before prompt_toolkit was imported
    assert tmux.display("#{alternate_on}") == "1"
    assert tmux.input_line().rstrip() == "qmp>"
    tmux.type("query-status")
    tmux.wait_for(lambda screen: tmux.input_line() == "qmp> query-status")  # echoed at once, held
    tmux.send("Enter")
    shell.release()
    tmux.wait_for(reply_line("running"))
    tmux.wait_for(qemu_banner())


def test_the_frame_has_the_applications_prompt_and_status_bar(held, machine: Qemu) -> None:  # type: ignore[no-untyped-def]
    """Several targets in HMP mode: the frame's prompt is the one the application draws at the same
    place (what is typed stays in line), and its status bar names both targets."""
    shell = held("after", "-H", f"a={machine.socket}", f"b={machine.aux_socket}")
    tmux = shell.tmux
    *_, line, status = tmux.screen().rstrip("\n").splitlines()
    assert "[a] b:" in status and "HMP" in status and "events: 0" in status, status
    assert line.rstrip() == "a hmp>"
    tmux.type("info")
    tmux.wait_for(lambda screen: screen.rstrip("\n").splitlines()[-2] == "a hmp> info")
    shell.release()
    tmux.wait_for("Tab completes")
    tmux.type(" status")
    tmux.wait_for(lambda screen: "a hmp> info status" in [line.rstrip() for line in screen.splitlines()])


def test_the_frame_is_the_applications_first_screen(held, machine: Qemu) -> None:  # type: ignore[no-untyped-def]
    """The welcome line, the events pane's rule and title, the rule and the prompt: what the frame
    draws is what the application then draws there (all but the status bar's run state, asked later)."""
    shell = held("after", machine.socket)
    frame = shell.tmux.screen().rstrip("\n").splitlines()
    shell.release()
    shell.tmux.wait_for(lambda screen: "running" in screen.rstrip("\n").splitlines()[-1])
    assert shell.tmux.screen().rstrip("\n").splitlines()[:-1] == frame[:-1]


def test_keys_typed_before_the_frame_are_kept(held, machine: Qemu) -> None:  # type: ignore[no-untyped-def]
    """Typed while Python starts, the terminal still in line mode: read with the frame, shown on
    its input line, and the application's first input."""
    shell = held("both", machine.socket)
    shell.tmux.type("query-name")
    shell.tmux.send("Enter")
    shell.release()
    shell.wait_held("after")
    shell.tmux.wait_for(lambda screen: shell.tmux.input_line().rstrip() == "qmp> query-name")
    shell.release()
    shell.tmux.wait_for(reply_line(NO_NAME))


def test_esc_and_a_slash_a_moment_later_at_the_instant_prompt_stay_two_keys(held, machine: Qemu) -> None:  # type: ignore[no-untyped-def]
    """Read together once the application is up, they made one Meta-/ key and the slash was lost:
    the pause typed at the frame is kept (as in the shell: tests/test_tmux_events_daily.py)."""
    shell = held("after", machine.socket)
    shell.tmux.send("Escape")
    pressed = time.monotonic()
    wait_until(lambda: time.monotonic() - pressed > 0.3, what="a person's pause")
    shell.tmux.type("/help")
    shell.release()
    shell.tmux.wait_for(qemu_banner())
    shell.tmux.wait_for(lambda screen: shell.tmux.input_line().rstrip() == "qmp> /help")


def test_the_history_file_is_there_when_the_frame_is(held, machine: Qemu, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """As before the frame existed: a shell that shows itself ready has its history file (0600)."""
    shell = held("after", machine.socket)
    history = tmp_path / "xdg" / "xdg_state_home" / "qmpshell" / "history"
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    shell.release()
    shell.tmux.wait_for(qemu_banner())


def test_ctrl_c_at_the_instant_prompt_drops_the_half_typed_line(held, machine: Qemu) -> None:  # type: ignore[no-untyped-def]
    shell = held("after", machine.socket)
    shell.tmux.type("abc")
    shell.tmux.send("C-c")
    shell.tmux.enter("query-name")
    assert "EXITED" not in shell.tmux.screen()  # no SIGINT: the bytes wait for the application
    shell.release()
    screen = shell.tmux.wait_for(reply_line(NO_NAME))
    assert "abc" not in screen
    assert "EXITED" not in screen


def test_ctrl_d_at_the_instant_prompt_leaves_and_restores_the_terminal(held, machine: Qemu) -> None:  # type: ignore[no-untyped-def]
    shell = held("after", machine.socket)
    shell.tmux.send("C-d")
    shell.release()
    assert "EXITED=0" in shell.tmux.wait_for("EXITED=")
    restored(shell)


def test_a_connection_that_fails_draws_no_frame(tmp_path: Path) -> None:
    """The frame comes once connected: a server that is not there is one line on the normal screen."""
    nobody = str(tmp_path / "nobody.sock")
    tmux = Tmux([sys.executable, "-m", "qmpshell", nobody], env=shell_env(tmp_path / "xdg"))
    try:
        screen = tmux.wait_for("EXITED=")
        assert "EXITED=0" not in screen and "qmpshell: " in screen and nobody in screen
        assert "events: " not in tmux.scrollback()
        assert tmux.display("#{alternate_on}") == "0"
    finally:
        tmux.close()


def test_a_stop_signal_at_the_instant_prompt_restores_the_terminal(held, machine: Qemu) -> None:  # type: ignore[no-untyped-def]
    shell = held("after", machine.socket)
    program = wait_until(lambda: children(int(shell.tmux.display("#{pane_pid}"))), what="its pid")[0]
    os.kill(program, signal.SIGTERM)
    assert f"EXITED={128 + signal.SIGTERM}" in shell.tmux.wait_for("EXITED=")
    restored(shell)


def test_the_instant_prompt_can_be_turned_off(held, machine: Qemu) -> None:  # type: ignore[no-untyped-def]
    shell = held("after", machine.socket, config="[interactive]\ninstant_prompt = false\n")
    assert "events: " not in shell.tmux.screen()
    assert shell.tmux.display("#{alternate_on}") == "0"
    shell.release()
    shell.tmux.wait_for(qemu_banner())
