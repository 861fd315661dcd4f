"""C8: the config's whole numbers are range-checked when read, with the range in the message;
``events.pane_size`` takes 100,000 (and a full screen starts with it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.qemu_support import Qemu, run_qmpshell
from tests.tmux_support import READY, Tmux, shell_env

BIGGEST_TOML_INTEGER = 2**63 - 1


def _config(private_xdg: Path, text: str) -> Path:
    path = private_xdg / "xdg_config_home" / "qmpshell" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("table", "key", "dotted"),
    [
        ("events", "pane_size", "events.pane_size"),
        ("history", "size", "history.size"),
        ("interactive", "transcript_lines", "interactive.transcript_lines"),
    ],
)
def test_a_count_beyond_its_range_is_refused_with_the_range(
    private_xdg: Path, table: str, key: str, dotted: str
) -> None:
    path = _config(private_xdg, f"[{table}]\n{key} = {BIGGEST_TOML_INTEGER}\n")
    result = run_qmpshell("--print-config", env=dict(os.environ))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"qmpshell: {path}:2: {dotted}: expected a whole number from 0 to 1,000,000, "
        f"got {BIGGEST_TOML_INTEGER}\n"
    )


def test_an_events_pane_of_100000_is_taken(private_xdg: Path, qemu: Qemu, tmp_path: Path) -> None:
    _config(private_xdg, "[events]\npane_size = 100000\n")
    result = run_qmpshell("--print-config", env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "pane_size = 100000" in result.stdout
    config_home = private_xdg / "xdg_config_home"
    env = {**shell_env(tmp_path), "XDG_CONFIG_HOME": str(config_home)}
    screen = Tmux([sys.executable, "-m", "qmpshell", qemu.socket], env=env)
    try:
        screen.wait_for(READY)
        screen.enter("/events")
        screen.wait_for("kept of at most 100000")
    finally:
        screen.close()
