"""The storage daemon and the guest agent in the full-screen shell: named in the welcome line and
the status bar with the version they report, no run-state field, agent commands completed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.qemu_support import run_qmpshell
from tests.server_support import Server
from tests.tmux_support import Tmux, start_qmpshell

BAR = " \u2502 "


@pytest.fixture
def terminals() -> Iterator[list[Tmux]]:
    opened: list[Tmux] = []
    yield opened
    for tmux in opened:
        tmux.close()


def status_bar(screen: str) -> str:
    return screen.rstrip("\n").splitlines()[-1]


def test_the_storage_daemon_is_named_and_has_no_run_state(
    qsd: Server, tmp_path: Path, terminals: list[Tmux]
) -> None:
    qemu = json.loads(run_qmpshell(qsd.socket, "-c", "query-version").stdout)["return"]["qemu"]
    label = f"qemu-storage-daemon {qemu['major']}.{qemu['minor']}.{qemu['micro']}"
    tmux = start_qmpshell(tmp_path, qsd.socket)
    terminals.append(tmux)
    screen = tmux.wait_for(f"{label} at ")
    bar = status_bar(screen)
    assert f"{BAR}{label}{BAR}QMP{BAR}events: 0" in bar, bar
    assert "?" not in bar and "QEMU" not in bar
    tmux.enter("/hmp")
    tmux.wait_for("info subcommands over QMP")  # its HMP is qmpshell's (issue 19)
    tmux.enter("/qmp")
    tmux.wait_for(lambda screen: tmux.input_line().startswith("qmp>"))
    tmux.enter("/schema")
    screen = tmux.wait_for("key: ")
    assert "schema: from the server (query-qmp-schema)" in screen
    assert f"server: {label} (" in screen


def test_the_guest_agent_is_named_and_completes_its_commands(
    qga: Server, tmp_path: Path, terminals: list[Tmux]
) -> None:
    info = json.loads(run_qmpshell(qga.socket, "-N", "-c", "guest-info").stdout)["return"]
    label = f"qemu-ga {info['version']}"
    tmux = start_qmpshell(tmp_path, qga.socket)
    terminals.append(tmux)
    screen = tmux.wait_for(f"{label} at ")
    bar = status_bar(screen)
    assert f"{BAR}{label}{BAR}QMP{BAR}events: 0" in bar, bar
    assert "?" not in bar
    tmux.type("guest-get-d")
    tmux.send("Tab")
    disabled = [c["name"] for c in info["supported_commands"] if not c["enabled"]]
    menu = tmux.wait_for("guest-get-disks")
    for name in disabled:
        if name.startswith("guest-get-d"):
            (row,) = [text for text in menu.splitlines() if f" {name} " in text]
            assert "disabled" in row
    tmux.send("Escape")
    tmux.send("C-u")
    tmux.enter("/guest-exec echo agent says hi")
    tmux.wait_for("agent says hi")
