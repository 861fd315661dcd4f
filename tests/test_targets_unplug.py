"""``/targets`` marks a device whose unplug is pending until its ``DEVICE_DELETED`` (issue 23 item 4).

A real q35 QEMU without a guest never releases a PCIe device after ``device_del``
(nobody answers the slot's attention button): the unplug stays pending.  A
``system_reset`` ends it (QEMU removes the device as the slot resets) and sends
``DEVICE_DELETED``; a USB device goes at once, so it is never marked.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.qemu_support import Qemu
from tests.server_support import Server
from tests.tmux_support import Tmux, reply_line

Start = Callable[..., Tmux]


def last_targets(screen: str) -> list[str]:
    """The lines the last ``/targets`` printed (up to the prompt line)."""
    after = screen.split("qmp> /targets")[-1].splitlines()[1:]
    return [line.split("\u2502")[0].rstrip() for line in after]  # left of the events pane


def whole(lines: list[str]) -> bool:
    """The table is drawn down to its last target's row (``disk``)."""
    return any(line.split()[:1] == ["disk"] for line in lines)


def targets_until(tmux: Tmux, test: Callable[[list[str]], bool], *, attempts: int = 20) -> list[str]:
    """``/targets`` again until its lines pass ``test`` (events are read by another thread)."""
    for _ in range(attempts):
        tmux.enter("/targets")
        try:
            screen = tmux.wait_for(
                lambda text: whole(last_targets(text)) and test(last_targets(text)), timeout=0.5
            )
        except AssertionError:
            continue
        return last_targets(screen)
    raise AssertionError(f"/targets never showed what was expected:\n{tmux.screen()}")


def test_targets_marks_a_pending_unplug_until_device_deleted(start: Start, q35: Qemu, qsd: Server) -> None:
    tmux = start(f"vm={q35.socket}", f"disk={qsd.socket}")
    tmux.wait_for("vm qmp>")
    tmux.enter("@vm device_add driver=virtio-net-pci id=net0 bus=rp1")
    tmux.wait_for(reply_line("ok"))
    tmux.enter("@vm device_add driver=usb-tablet id=tab0 bus=xhci.0")
    tmux.enter("@vm device_del id=net0")
    tmux.wait_for("DEVICE_DELETED device=net0")  # the note under the reply
    tmux.enter("@vm device_del id=tab0")  # USB: gone at once, DEVICE_DELETED follows

    def net0_pending(lines: list[str]) -> bool:
        return any("unplug pending: net0" in line for line in lines) and not any("tab0" in x for x in lines)

    lines = targets_until(tmux, net0_pending)
    vm = next(n for n, line in enumerate(lines) if line.split()[:2] in (["*", "vm"], ["vm"]))
    assert lines[vm + 1].strip() == "unplug pending: net0"  # under its own target's row
    assert lines[vm + 2].split()[0] == "disk"  # and the daemon, which had no device_del, has none
    assert sum("unplug pending" in line for line in lines) == 1
    q35.aux.execute("system_reset")  # the slot resets: QEMU removes the device, DEVICE_DELETED comes
    lines = targets_until(tmux, lambda lines: not any("unplug pending" in line for line in lines))
    assert any("vm" in line.split()[:2] for line in lines)
    tmux.send("C-d")
    tmux.wait_for("EXITED=0")
