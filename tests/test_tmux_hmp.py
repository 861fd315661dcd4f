"""HMP in a real terminal (tmux): argument completion, the toolbar's usage line, the storage daemon."""

from __future__ import annotations

from pathlib import Path

from tests.qemu_support import Qemu
from tests.server_support import storage_daemon_with_a_disk
from tests.tmux_support import Tmux


def tab_until(tmux: Tmux, test: object) -> str:
    """Tab until the screen passes ``test`` (the names are fetched on a worker thread after connecting)."""
    return tmux.wait_for(lambda screen: test(screen) or tmux.send("Tab"))  # type: ignore[operator]


def test_device_del_tab_offers_the_device_id(start, q35: Qemu) -> None:  # type: ignore[no-untyped-def]
    q35.aux.execute("device_add", driver="virtio-net-pci", id="mynic7", bus="rp1")
    tmux = start("-H", q35.socket)
    tmux.type("device_del ")
    tab_until(tmux, lambda screen: "device_del mynic7" in tmux.input_line())


def test_device_add_tab_offers_the_drivers_and_the_usage(start, q35: Qemu) -> None:  # type: ignore[no-untyped-def]
    tmux = start("-H", q35.socket)
    tmux.type("device_add virtio-ne")
    screen = tab_until(tmux, lambda screen: "virtio-net-pci" in screen and "virtio-net-device" in screen)
    assert "device_add driver[,prop=value][,...]" in screen  # the toolbar: HMP's usage line
    tmux.send("C-u")
    tmux.type("device_add virtio-net-pci,id=n1,ma")
    tab_until(tmux, lambda screen: "device_add virtio-net-pci,id=n1,mac=" in tmux.input_line())


def test_hmp_info_from_qmp_mode_completes(start, qemu: Qemu) -> None:  # type: ignore[no-untyped-def]
    tmux = start(qemu.socket)
    tmux.type("/hmp info bl")
    tab_until(tmux, lambda screen: "block-jobs" in screen and "blockstats" in screen)


def test_hmp_mode_on_the_storage_daemon(start, short_dir: Path) -> None:  # type: ignore[no-untyped-def]
    daemon = storage_daemon_with_a_disk(short_dir)
    try:
        tmux = start(daemon.socket)
        tmux.enter("/hmp")
        tmux.wait_for("info subcommands over QMP")
        tmux.type("block_resize ")
        tab_until(tmux, lambda screen: "block_resize f0" in tmux.input_line())
        tmux.send("C-u")  # the menu may still be open: Enter would pick from it
        tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "hmp>")
        tmux.enter("block_resize f0 32M")
        tmux.wait_for(lambda screen: "\nok " in screen or "\nok\n" in screen)
        tmux.enter("info block -n")
        tmux.wait_for("32 MiB")
        tmux.enter("info mtree")
        tmux.wait_for("HMP command 'info mtree' has no QMP equivalent on this server")
    finally:
        daemon.stop()
