"""The views in a real terminal, on a real q35 QEMU with a few devices and a qcow2 backing chain.

qmpshell runs in tmux (``tests/tmux_support.py``); the machine is
``tests/q35_support.py``'s (paused at start, so its status is ``prelaunch``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.q35_support import boot_firmware, start_q35
from tests.qemu_support import Qemu
from tests.tmux_support import READY, Tmux, reply_line, shell_env


@pytest.fixture
def q35_devices(short_dir: Path) -> Iterator[Qemu]:
    machine = start_q35(short_dir)
    try:
        yield machine
    finally:
        machine.stop()


@pytest.fixture
def tmux(tmp_path: Path, q35_devices: Qemu) -> Iterator[Tmux]:
    session = Tmux(
        [sys.executable, "-m", "qmpshell", q35_devices.socket],
        env=shell_env(tmp_path / "xdg"),
        width=170,
        height=70,
    )
    try:
        session.wait_for(READY)
        yield session
    finally:
        session.close()


def run(tmux: Tmux, line: str) -> None:
    tmux.send("C-l")
    tmux.enter(line)


def test_pci_is_a_tree_with_hex_ids(tmux: Tmux, q35_devices: Qemu) -> None:
    boot_firmware(q35_devices)
    run(tmux, "query-pci")
    screen = tmux.wait_for("00:1f.3  8086:2930  SMBus")
    assert "├─ 00:00.0  8086:29c0  Host bridge" in screen
    assert "00:04.0  1b36:000c  PCI bridge  rp1" in screen
    assert re.search(r"│  └─ 01:00\.0  1af4:1044  Unclassified device  rng0", screen)
    assert '"vendor"' not in screen


def test_block_nodes_show_the_backing_chain_as_a_tree(tmux: Tmux) -> None:
    run(tmux, "query-named-block-nodes")
    screen = tmux.wait_for("repeats the image of its backing node")
    assert re.search(r"^disk0  qcow2  \S+/top\.qcow2  64 MiB", screen, re.M)
    assert re.search(r"^└─ backing: #block\d+  qcow2  \S+/mid\.qcow2  64 MiB  read-only", screen, re.M)
    assert re.search(r"^   └─ backing: #block\d+  qcow2  \S+/base\.qcow2", screen, re.M)
    run(tmux, "query-block")
    screen = tmux.wait_for("(no medium)")
    assert re.search(r"└─ backing: \S+/base\.qcow2  qcow2  64 MiB", screen)


def test_jobs_show_their_progress(tmux: Tmux, q35_devices: Qemu) -> None:
    q35_devices.aux.execute("blockdev-add", driver="null-co", **{"node-name": "target0", "size": 64 << 20})
    q35_devices.aux.execute(
        "blockdev-backup",
        **{"job-id": "backup0", "device": "disk0", "target": "target0"},
        sync="full",
        speed=4096,
    )
    run(tmux, "query-jobs")
    screen = tmux.wait_for("backup0  backup")
    assert re.search(r"backup0  backup  running  \d+/67108864 \d+%", screen)
    run(tmux, "query-block-jobs")
    tmux.wait_for(lambda screen: bool(re.search(r"backup0  backup  running  \d+/67108864 \d+%", screen)))


def test_pipe_json_slash_json_and_format(tmux: Tmux) -> None:
    run(tmux, "query-status")
    tmux.wait_for(reply_line("paused (prelaunch)"))
    run(tmux, "query-status | json")
    screen = tmux.wait_for('"status": "prelaunch"')
    assert '  "return": {' in screen  # indented, the whole reply
    run(tmux, "query-version")
    tmux.wait_for(lambda screen: bool(re.search(r"^QEMU \d+\.\d+\.\d+", screen, re.M)))
    run(tmux, "/json")
    tmux.wait_for('"package": ')
    run(tmux, "/format compact")
    tmux.wait_for("replies: compact (JSON on one line)")
    run(tmux, "query-status")
    tmux.wait_for('{"return": {"status": "prelaunch"')
    run(tmux, "/format auto")
    run(tmux, "query-kvm")
    tmux.wait_for(reply_line("enabled: false"))
