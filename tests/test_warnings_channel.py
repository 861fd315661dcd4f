"""One warnings channel: a warning that arises after the welcome line reaches the user in every front-end.

The schema cache is read on a worker thread after the interactive shells print
their welcome line; its warnings used to go to a list nobody read again, so
the full screen and the line mode said nothing where batch mode warned.
"""

from __future__ import annotations

from pathlib import Path

from tests.qemu_support import Qemu, run_qmpshell
from tests.test_line_mode import Recorded
from tests.tmux_support import start_qmpshell

WARNING = "not using the schema cache"


def shared_cache(root: Path) -> Path:
    """The cache directory the shell will use under ``root``'s XDG tree, writable by every user."""
    directory = root / "xdg_cache_home" / "qmpshell"
    directory.mkdir(parents=True)
    directory.chmod(0o777)
    return directory


def test_batch_mode_warns(qemu: Qemu, private_xdg: Path) -> None:
    directory = shared_cache(private_xdg)
    result = run_qmpshell(qemu.socket, "-c", "/help query-status")
    assert f"warning: {WARNING} {directory}: it is writable by other users" in result.stderr


def test_the_full_screen_warns(qemu: Qemu, tmp_path: Path) -> None:
    directory = shared_cache(tmp_path / "xdg")
    tmux = start_qmpshell(tmp_path / "xdg", qemu.socket)
    try:
        tmux.wait_for(WARNING)
        assert list(directory.iterdir()) == []  # the cache was not written either
    finally:
        tmux.close()


def test_the_line_mode_warns(qemu: Qemu, tmp_path: Path) -> None:
    directory = shared_cache(tmp_path / "xdg")
    shell = Recorded(tmp_path, qemu.socket)
    try:
        shell.wait_for("qmp> ")
        shell.wait_for(f"warning: {WARNING} {directory}")
        shell.send("/quit")
        assert shell.process.wait(10) == 0
    finally:
        if shell.process.poll() is None:
            shell.process.kill()
            shell.process.wait(10)
