"""Test support: a real q35 QEMU with a few devices and a qcow2 backing chain.

Used to capture the replies kept in ``tests/data/`` (``tests/data/capture_replies.py``)
and by the terminal test that shows them as tables and trees.  The images are
made with ``qemu-img`` in the given directory: ``base.qcow2 <- mid.qcow2 <-
top.qcow2`` for ``disk0`` (on a virtio-blk-pci device), a separate ``data.qcow2``
for ``disk1``, and a 1 MiB write into the base so that a job has work to do.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.qemu_support import Qemu, RawPeer, wait_until

IMAGE_SIZE = "64M"


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


def make_chain(directory: Path, depth: int, *, prefix: str = "layer") -> Path:
    """``depth`` qcow2 images, each backed by the one before; returns the top one."""
    previous: Path | None = None
    for number in range(depth):
        image = directory / f"{prefix}{number}.qcow2"
        if previous is None:
            qemu_img("create", "-q", "-f", "qcow2", str(image), IMAGE_SIZE)
        else:
            qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(previous), str(image))
        previous = image
    assert previous is not None
    return previous


def make_images(directory: Path) -> None:
    """base <- mid <- top for disk0, with data in base; data.qcow2 for disk1."""
    qemu_img("create", "-q", "-f", "qcow2", str(directory / "base.qcow2"), IMAGE_SIZE)
    subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 1M", str(directory / "base.qcow2")],
        check=True,
        capture_output=True,
    )
    for image, backing in (("mid", "base"), ("top", "mid")):
        qemu_img(
            "create", "-q", "-f", "qcow2", "-F", "qcow2",
            "-b", str(directory / f"{backing}.qcow2"), str(directory / f"{image}.qcow2"),
        )  # fmt: skip
    qemu_img("create", "-q", "-f", "qcow2", str(directory / "data.qcow2"), IMAGE_SIZE)


def q35_argv(directory: Path) -> list[str]:
    """The machine: q35, 2 CPUs, paused (-S), disks, a NIC, a root port with a device, USB."""
    return [
        "-M", "q35", "-m", "256", "-smp", "2", "-S",
        "-blockdev",
        f"driver=qcow2,node-name=disk0,file.driver=file,file.node-name=disk0-file,"
        f"file.filename={directory / 'top.qcow2'}",
        "-blockdev",
        f"driver=qcow2,node-name=disk1,file.driver=file,file.node-name=disk1-file,"
        f"file.filename={directory / 'data.qcow2'}",
        "-device", "virtio-blk-pci,id=vblk0,drive=disk0",
        "-device", "virtio-blk-pci,id=vblk1,drive=disk1",
        "-device", "ide-cd,id=cd0,bus=ide.0",
        "-device", "e1000,id=nic0,mac=52:54:00:12:34:56",
        "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
        "-device", "virtio-rng-pci,id=rng0,bus=rp1",
        "-device", "qemu-xhci,id=usb0",
        "-device", "usb-tablet,id=tablet0,bus=usb0.0",
    ]  # fmt: skip


def start_q35(directory: Path) -> Qemu:
    """Images made, QEMU started with both QMP sockets (see ``tests.qemu_support.Qemu``)."""
    make_images(directory)
    return Qemu(directory, *q35_argv(directory))


def bridges_numbered(peer: RawPeer) -> bool:
    """True once the firmware has given the root port a secondary bus (its devices then show)."""
    devices = peer.execute("query-pci")[0]["devices"]
    return all(d["pci_bridge"]["bus"]["secondary"] for d in devices if "pci_bridge" in d)


def boot_firmware(qemu: Qemu) -> None:
    """Let the firmware run (``cont``) until it has numbered the PCI buses."""
    qemu.aux.execute("cont")
    wait_until(lambda: bridges_numbered(qemu.aux), what="the firmware to number the PCI bridges")
