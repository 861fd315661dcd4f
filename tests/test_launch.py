"""``--launch`` end to end: what QEMU said, every way of being stopped, and QEMU never outliving the shell.

Processes are found through ``/proc``: the launched QEMU is the shell's child
whose ``-qmp`` socket is in a ``qmpshell-`` temporary directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.qemu_support import QEMU_ARGV, Driven, alive, children, json_lines, run_qmpshell, wait_until
from tests.tmux_support import Tmux, reply_line, shell_env, start_qmpshell

STOP_SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT]


def launched_qemu(shell: int) -> tuple[int, Path]:
    """The pid and temporary directory of the QEMU that the shell with pid ``shell`` launched."""

    def find() -> tuple[int, Path] | None:
        for child in children(shell):
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            for arg in argv:
                if arg.startswith(b"unix:") and b"/qmpshell-" in arg:
                    return child, Path(arg[5:].split(b",")[0].decode()).parent
        return None

    return wait_until(find, what="the launched QEMU")  # type: ignore[no-any-return]


def gone(pid: int) -> bool:
    """The process has ended (a zombie nobody reaped has ended too)."""
    return not alive(pid)


def shell_pid(tmux: Tmux) -> int:
    """qmpshell in the tmux pane: the child of the pane's shell."""
    pane = int(tmux.display("#{pane_pid}"))
    return wait_until(lambda: next(iter(children(pane)), None), what="qmpshell in the pane")  # type: ignore[no-any-return]


@pytest.fixture
def terminals() -> Iterator[list[Tmux]]:
    started: list[Tmux] = []
    yield started
    for tmux in started:
        tmux.close()


def interactive(terminals: list[Tmux], tmp_path: Path, *args: str) -> Tmux:
    tmux = start_qmpshell(tmp_path / "xdg", "--no-transcript", "--launch", *args)
    terminals.append(tmux)
    return tmux


# -- what QEMU said ----------------------------------------------------------------------------


def test_a_qemu_that_exits_at_once_is_quoted() -> None:
    result = run_qmpshell("--launch", "-c", "query-status", "--", *QEMU_ARGV, "-device", "nosuchdev")
    assert result.returncode == 3
    assert result.stderr == (
        "qmpshell: QEMU exited (status 1): "
        "qemu-system-x86_64: -device nosuchdev: 'nosuchdev' is not a valid device model name\n"
    )
    assert result.stdout == ""


def test_a_qemu_that_dies_mid_script_is_quoted() -> None:
    with Driven("--launch") as shell:
        shell.send("query-status\n")
        assert "return" in shell.reply()
        qemu, _ = launched_qemu(shell.process.pid)
        os.kill(qemu, signal.SIGKILL)
        wait_until(lambda: gone(qemu), what="QEMU to die")
        shell.send("query-status\n")
        status, stderr = shell.finish()
    assert status == 3
    assert stderr.splitlines()[-1] == "qmpshell: QEMU exited (killed by SIGKILL)"


def test_qemu_stdout_never_mixes_with_ours() -> None:
    """QEMU's stdout goes to /dev/null: an HMP monitor on stdio prints its banner there."""
    result = run_qmpshell("--launch", "-c", "query-status", "--", *QEMU_ARGV, "-monitor", "stdio")
    assert result.returncode == 0, result.stderr
    assert [list(reply) for reply in json_lines(result.stdout)] == [["return"]]
    assert "monitor" not in result.stdout


# -- every way of being stopped ----------------------------------------------------------------


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda sig: sig.name)
def test_a_stop_signal_in_batch_mode_cleans_up(sig: signal.Signals) -> None:
    with Driven("--launch") as shell:
        shell.send("query-status\n")
        assert "return" in shell.reply()
        qemu, directory = launched_qemu(shell.process.pid)
        shell.process.send_signal(sig)
        status, stderr = shell.finish()
    assert status == 128 + sig
    assert stderr == f"qmpshell: interrupted by {sig.name}\n"
    assert gone(qemu)
    assert not directory.exists()


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda sig: sig.name)
def test_a_stop_signal_leaves_the_interactive_shell_like_ctrl_d(
    sig: signal.Signals, terminals: list[Tmux], tmp_path: Path
) -> None:
    tmux = interactive(terminals, tmp_path)
    shell = shell_pid(tmux)
    qemu, directory = launched_qemu(shell)
    assert tmux.display("#{alternate_on}") == "1"
    os.kill(shell, sig)
    tmux.wait_for(f"EXITED={128 + sig}")
    assert gone(qemu)
    assert not directory.exists()
    assert tmux.display("#{alternate_on}") == "0"
    modes = subprocess.run(["stty", "-a", "-F", tmux.display("#{pane_tty}")], capture_output=True, text=True)
    assert " icanon " in f" {modes.stdout} " and " echo " in f" {modes.stdout} ", modes.stdout


def test_qemu_ends_when_the_shell_is_killed() -> None:
    """SIGKILL leaves no chance to clean up: QEMU's parent-death signal still ends it."""
    with Driven("--launch") as shell:
        shell.send("query-status\n")
        assert "return" in shell.reply()
        qemu, directory = launched_qemu(shell.process.pid)
        shell.process.kill()
        shell.process.wait(timeout=10)
        try:
            wait_until(lambda: gone(qemu), what="QEMU to end after the shell was killed")
        finally:
            shutil.rmtree(directory, ignore_errors=True)  # nobody was left to remove it


# -- the interactive shell and its QEMU --------------------------------------------------------


def test_quit_leaves_an_interactive_launch_session_with_status_0(
    terminals: list[Tmux], tmp_path: Path
) -> None:
    tmux = interactive(terminals, tmp_path)
    qemu, directory = launched_qemu(shell_pid(tmux))
    tmux.enter("quit")
    screen = tmux.wait_for("EXITED=")
    assert "EXITED=0" in screen
    assert "qmpshell: QEMU exited (status 0)" in screen
    assert "retrying" not in tmux.scrollback()
    assert gone(qemu) and not directory.exists()


def test_a_qemu_that_died_is_quoted_and_can_be_relaunched(terminals: list[Tmux], tmp_path: Path) -> None:
    tmux = interactive(terminals, tmp_path)
    shell = shell_pid(tmux)
    qemu, directory = launched_qemu(shell)
    os.kill(qemu, signal.SIGKILL)
    screen = tmux.wait_for("QEMU exited (killed by SIGKILL)")
    assert "/relaunch" in screen and "retrying" not in screen
    screen = tmux.wait_for("DISCONNECTED (QEMU exited)")  # the status bar: nothing is retried
    assert "reconnecting" not in screen
    tmux.enter("/relaunch")
    tmux.wait_for("reconnected to")
    again, same = launched_qemu(shell)
    assert again != qemu and same == directory
    tmux.enter("query-status")
    tmux.wait_for(reply_line("running"))


def test_what_qemu_writes_while_it_runs_shows_as_notices(terminals: list[Tmux], tmp_path: Path) -> None:
    """With ``-d trace:handle_qmp_command`` QEMU writes a line on stderr for every command it runs."""
    tmux = interactive(terminals, tmp_path, "--", *QEMU_ARGV, "-d", "trace:handle_qmp_command")
    tmux.enter("query-name")
    tmux.wait_for(
        lambda screen: any(
            "handle_qmp_command" in line and "query-name" in line for line in screen.splitlines()
        )
    )


def test_the_terminal_closing_stops_qemu(tmp_path: Path) -> None:
    """The terminal goes away (the kernel's SIGHUP, tmux killed): QEMU is stopped all the same."""
    tmux = start_qmpshell(tmp_path / "xdg", "--launch")
    shell = shell_pid(tmux)
    qemu, directory = launched_qemu(shell)
    tmux.close()
    wait_until(lambda: gone(shell) and gone(qemu), what="the shell and QEMU to end")
    assert not directory.exists()


def test_a_second_hangup_does_not_cut_stopping_qemu_short(tmp_path: Path) -> None:
    """The kernel and tmux may both send SIGHUP: the repeat must not skip removing QEMU's directory."""
    tmux = start_qmpshell(tmp_path / "xdg", "--launch")
    shell = shell_pid(tmux)
    qemu, directory = launched_qemu(shell)

    def hang_up_until_gone() -> bool:
        if gone(shell):
            return True
        os.kill(shell, signal.SIGHUP)  # again and again, into every step of the way out
        return False

    wait_until(hang_up_until_gone, what="the shell to end")
    wait_until(lambda: gone(qemu), what="QEMU to end")
    assert not directory.exists()
    tmux.close()


def test_line_mode_leaves_after_quit_and_stops_retrying_a_dead_qemu(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "qmpshell", "--line", "--launch"]
    first = Tmux(argv, env=shell_env(tmp_path / "a"))
    second = Tmux(argv, env=shell_env(tmp_path / "b"))
    try:
        first.wait_for("Tab completes")
        first.enter("quit")
        screen = first.wait_for("EXITED=")
        assert "EXITED=0" in screen and "QEMU exited (status 0)" in screen
        second.wait_for("Tab completes")
        qemu, _ = launched_qemu(shell_pid(second))
        os.kill(qemu, signal.SIGKILL)
        screen = second.wait_for("QEMU exited (killed by SIGKILL); /relaunch starts it again, Ctrl-D leaves")
        assert "retrying" not in screen
        second.enter("/relaunch")
        second.wait_for("reconnected to")
        wait_until(lambda: launched_qemu(shell_pid(second))[0] != qemu, what="a new QEMU")
        second.enter("query-status")
        second.wait_for(lambda screen: screen.rstrip().endswith("running\nqmp>"))
        second.send("C-d")
        second.wait_for("EXITED=0")
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("term", ["xterm-256color", "dumb"])
def test_line_mode_leaves_when_a_launched_qemu_ends_cleanly_on_its_own(term: str, tmp_path: Path) -> None:
    """SIGTERM ends QEMU with status 0 while the prompt waits (prompt_toolkit's, or a dumb
    terminal's): the line mode leaves as the full screen does, saying why once the prompt is gone."""
    env = {**shell_env(tmp_path), "TERM": term}
    tmux = Tmux([sys.executable, "-m", "qmpshell", "--line", "--launch"], env=env)
    try:
        tmux.wait_for("Ctrl-D quits")
        qemu, directory = launched_qemu(shell_pid(tmux))
        os.kill(qemu, signal.SIGTERM)
        screen = tmux.wait_for("EXITED=")
        assert "EXITED=0" in screen and "qmpshell: QEMU exited (status 0)" in screen
        assert "retrying" not in tmux.scrollback() and "/relaunch" not in tmux.scrollback()
        assert gone(qemu) and not directory.exists()
    finally:
        tmux.close()


def test_a_hangup_while_qemu_is_being_stopped_still_removes_its_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The terminal's SIGHUP can land just as the shell stops QEMU on its own way out: the rest of
    that cleanup still runs, and the shell leaves as hung up once it is done."""
    from qmpshell.errors import Stopped, stop_on_signals
    from qmpshell.protocol import launch

    qemu = launch.LaunchedQemu(QEMU_ARGV)
    qemu.start()
    signal_group = launch._signal_group

    def and_hang_up(pid: int, sig: int) -> None:
        signal_group(pid, sig)
        os.kill(os.getpid(), signal.SIGHUP)  # while the shell waits for QEMU to end

    monkeypatch.setattr(launch, "_signal_group", and_hang_up)
    with pytest.raises(Stopped) as stopped, stop_on_signals():
        qemu.stop()
    assert stopped.value.signum == signal.SIGHUP
    assert qemu.returncode is not None
    assert not Path(qemu.directory).exists()


def test_a_stop_signal_raised_in_an_event_loop_callback_leaves_the_loop() -> None:
    """The line mode reads at prompt_toolkit's prompt, an asyncio loop: a SIGHUP whose handler ran
    inside one of its callbacks went to the loop's exception handler ("Press ENTER") on a terminal
    that was gone, and the shell hung. ``Stopped`` must come out of the loop as it came in."""
    import asyncio

    from qmpshell.errors import Stopped

    def hung_up() -> None:
        raise Stopped(signal.SIGHUP)

    async def prompt() -> None:
        asyncio.get_running_loop().call_soon(hung_up)
        await asyncio.sleep(5)

    with pytest.raises(Stopped) as stopped:
        asyncio.run(asyncio.wait_for(prompt(), timeout=10))
    assert stopped.value.exit_status == 129
