"""/save never blocks and writes the user's file alone: a FIFO refused (C2), a quoted path with
spaces taken (K2), an existing 0644 file left 0600 (K3).  Paths are short, so that the messages
naming them fit on one line of the output pane."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.qemu_support import Qemu
from tests.tmux_support import NO_NAME, Tmux, reply_line, start_qmpshell


@pytest.fixture
def screen(qemu: Qemu, tmp_path: Path) -> Iterator[Tmux]:
    """The full screen, after one reply (something to save)."""
    tmux = start_qmpshell(tmp_path, qemu.socket)
    try:
        tmux.enter("query-status")
        tmux.wait_for(reply_line("running"))
        yield tmux
    finally:
        tmux.close()


def test_save_to_a_fifo_is_refused_at_once(screen: Tmux, short_dir: Path) -> None:
    fifo = short_dir / "fifo"
    os.mkfifo(fifo)
    try:
        screen.enter(f"/save {fifo}")
        screen.wait_for(f"cannot write {fifo}: not a regular file")
        screen.enter("query-name")  # the screen still answers: nothing waits for a reader
        screen.wait_for(reply_line(NO_NAME))
    finally:
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # frees a shell that did wait for a reader


def test_save_takes_a_quoted_path_with_spaces(screen: Tmux, short_dir: Path) -> None:
    spaced = short_dir / "my notes" / "out file.txt"
    spaced.parent.mkdir()
    screen.enter(f'/save "{spaced}"')
    screen.wait_for(f"lines to {spaced}")
    assert "running" in spaced.read_text()
    assert stat.S_IMODE(spaced.stat().st_mode) == 0o600


def test_save_over_an_existing_file_leaves_it_0600(screen: Tmux, short_dir: Path) -> None:
    existing = short_dir / "existing.txt"
    existing.write_text("old text\n")
    existing.chmod(0o644)
    screen.enter(f"/save '{existing}'")
    screen.wait_for(f"lines to {existing}")
    assert "running" in existing.read_text() and "old text" not in existing.read_text()
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
