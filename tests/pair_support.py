"""Two real QEMUs for migration: a source, and a destination started with ``-incoming defer``."""

from __future__ import annotations

from pathlib import Path

from tests.qemu_support import Qemu, wait_until

DESTINATION = ("-incoming", "defer")


class Pair:
    """``src`` and ``dst``, each with a monitor for qmpshell and one (``aux``) for the test's checks."""

    def __init__(self, src: Qemu, dst: Qemu, directory: Path) -> None:
        self.src, self.dst = src, dst
        self.uri = f"unix:{directory / 'mig.sock'}"

    def named(self) -> list[str]:
        """The two addresses as ``NAME=ADDR``."""
        return [f"src={self.src.socket}", f"dst={self.dst.socket}"]

    def wait_migrated(self) -> None:
        """Both sides report ``completed``, as QEMU's own migration tests check."""
        for side in (self.src, self.dst):
            wait_until(
                lambda side=side: side.aux.execute("query-migrate").get("status") == "completed",
                what="migration completed",
            )

    def stop(self) -> None:
        """Stop whatever QEMUs the pair holds now (a test may have replaced one)."""
        self.dst.stop()
        self.src.stop()

    def final_states(self) -> tuple[str, str, str, str]:
        """query-migrate's status on both sides, then query-status's (read through the second monitors),
        once the source has left ``finish-migrate`` (it says ``completed`` a moment before)."""
        wait_until(
            lambda: self.src.aux.execute("query-status")["status"] != "finish-migrate",
            what="the source past finish-migrate",
        )
        return (
            self.src.aux.execute("query-migrate").get("status"),
            self.dst.aux.execute("query-migrate").get("status"),
            self.src.aux.execute("query-status")["status"],
            self.dst.aux.execute("query-status")["status"],
        )


def start_pair(top: Path) -> Pair:
    """A fresh pair under ``top`` (a short directory: socket paths are limited to 108 bytes)."""
    (top / "s").mkdir()
    (top / "d").mkdir()
    src = Qemu(top / "s")
    try:
        return Pair(src, Qemu(top / "d", *DESTINATION), top)
    except BaseException:
        src.stop()
        raise
