"""Escape sequences that a real QEMU passes on never reach the terminal raw.

A qcow2 image's backing-file name is chosen by whoever made the image; QEMU
quotes it in error messages and replies.  A VM's ``-name`` comes back through
HMP's ``info name``.  Batch output, the line mode (TERM=dumb) and the transcript
printed when the full screen ends all reach a terminal.  Written to one, ``ESC [ 2 J`` clears it, an OSC
sets its title, an 8-bit CSI (U+009B) starts a command on some terminals.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.qemu_support import Qemu, json_lines, run_qmpshell
from tests.test_faults_hostile_server import run_on_a_terminal
from tests.test_line_mode import Recorded
from tests.tmux_support import start_qmpshell

EVIL = "\x1b[31mevil\x9b\x07"  # a colour, an 8-bit CSI, a bell
RAW = ("\x1b", "\x9b", "\x07")


def qcow2_with_backing(directory: Path, backing: str) -> Path:
    image = directory / "top.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", "raw", str(image), "1M"],
        check=True,
        timeout=30,
    )
    return image


def test_a_backing_file_name_with_escapes_on_a_terminal(qemu: Qemu, short_dir: Path) -> None:
    image = qcow2_with_backing(short_dir, EVIL)
    add = f"blockdev-add driver=qcow2 node-name=top file.driver=file file.filename={image}"
    status, screen = run_on_a_terminal(
        qemu.socket, "--color=never", "-k", "-c", add, "-c", add + " backing=null"
    )
    assert status == 1, screen  # the first blockdev-add fails: no such backing file
    for raw in RAW:
        assert raw not in screen
    assert "qmpshell: 1: GenericError: Could not open backing file" in screen
    assert "^[[31mevil\\x9b^G'" in screen  # on stderr: shown the way cat -v shows it
    assert "\\u001b[31mevil\\u009b\\u0007" in screen  # on stdout: JSON escapes, C1 included


def test_a_backing_file_name_with_escapes_in_json(qemu: Qemu, short_dir: Path) -> None:
    """Piped, stdout is JSON with C1 escaped too; the value is the name itself."""
    image = qcow2_with_backing(short_dir, EVIL)
    add = f"blockdev-add driver=qcow2 node-name=top backing=null file.driver=file file.filename={image}"
    result = run_qmpshell(qemu.socket, "-c", add, "-c", "query-named-block-nodes", "--json")
    assert result.returncode == 0, result.stderr
    assert not any(raw in result.stdout for raw in RAW)
    nodes = json_lines(result.stdout)[1]
    top = next(node for node in nodes if node["node-name"] == "top")
    assert top["image"]["backing-filename"] == EVIL


def test_hmp_output_with_escapes_on_a_terminal(tmp_path: Path, short_dir: Path) -> None:
    machine = Qemu(short_dir, "-name", EVIL)
    try:
        status, screen = run_on_a_terminal(machine.socket, "-H", "-c", "info name")
    finally:
        machine.stop()
    assert status == 0, screen
    assert not any(raw in screen for raw in RAW)
    assert "^[[31mevil\\x9b^G" in screen


def test_hmp_output_of_several_targets_on_a_terminal_is_json_with_escapes(short_dir: Path) -> None:
    """Several targets: tagged JSON lines, the text in them escaped as JSON, not shown as ``^[``."""
    machines = []
    try:
        for name in ("a", "b"):
            (short_dir / name).mkdir()
            machines.append(Qemu(short_dir / name, "-name", EVIL))
        status, screen = run_on_a_terminal(
            *(machine.socket for machine in machines), "--color=never", "-H", "-c", "info name"
        )
    finally:
        for machine in machines:
            machine.stop()
    assert status == 0, screen
    assert not any(raw in screen for raw in RAW)
    lines = json_lines(screen)
    assert {line["target"] for line in lines} == {machine.socket for machine in machines}
    assert all(line["text"] == EVIL + "\n" for line in lines), lines


def test_the_line_mode_shows_escapes_from_qemu(tmp_path: Path, short_dir: Path) -> None:
    """TERM=dumb: HMP text from QEMU printed line by line, its controls shown, not obeyed."""
    machine = Qemu(short_dir, "-name", EVIL)
    shell = Recorded(tmp_path, machine.socket)
    try:
        shell.wait_for("qmp> ")
        shell.send("/hmp info name")
        shell.wait_for("evil")
        shell.send("/quit")
        assert shell.process.wait(10) == 0
    finally:
        if shell.process.poll() is None:
            shell.process.kill()
        machine.stop()
    recording = shell.output().decode("utf-8", "replace")
    assert "^[[31mevil\\x9b^G" in recording
    assert not any(raw in recording for raw in RAW)


def test_the_transcript_on_exit_shows_escapes_from_qemu(tmp_path: Path, short_dir: Path) -> None:
    """The full screen showed ``^[``; the transcript printed on the normal screen at exit must too."""
    machine = Qemu(short_dir, "-name", EVIL)
    tmux = start_qmpshell(tmp_path / "xdg", machine.socket)
    try:
        tmux.enter("/hmp info name")
        tmux.wait_for("evil")
        tmux.send("C-d")
        tmux.wait_for("EXITED=0")
        assert "^[[31mevil\\x9b^G" in tmux.scrollback()
    finally:
        tmux.close()
        machine.stop()
