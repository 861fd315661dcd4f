"""C9: ``/wait`` during a burst of other events costs each event once, not the whole record again
at each wake (quadratic: every event of a burst woke the waiter, which read all the kept ones)."""

from __future__ import annotations

import resource
import socket
import threading
import time
from pathlib import Path
from typing import Any

from tests.fakeserver import AnsweringServer, line
from tests.qemu_support import json_lines, run_qmpshell

KEPT = 90_000  # arrive at once: the record /wait keeps grows to this
TRICKLE = 3_000  # then one at a time, a millisecond apart: each wakes the waiter
BURST = KEPT + TRICKLE


def _event(name: str, n: int) -> dict[str, Any]:
    return {"event": name, "data": {"n": n}, "timestamp": {"seconds": n, "microseconds": 0}}


class BurstServer(AnsweringServer):
    """Answers every command; after ``query-status`` sends ``KEPT`` NOISE events at once, ``TRICKLE``
    more one by one, then GO."""

    def on_command(self, conn: socket.socket, command: dict[str, Any]) -> None:
        super().on_command(conn, command)
        if command.get("execute") == "query-status":
            threading.Thread(target=self._burst, args=(conn,), daemon=True).start()

    def _burst(self, conn: socket.socket) -> None:
        self.write(conn, b"".join(line(_event("NOISE", n)) for n in range(KEPT)))
        for n in range(KEPT, BURST):
            self.write(conn, line(_event("NOISE", n)))
            time.sleep(0.001)
        self.write(conn, line(_event("GO", BURST)))


def test_wait_through_a_burst_is_linear(tmp_path: Path) -> None:
    server = BurstServer(str(tmp_path / "burst.sock"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        result = run_qmpshell(
            "-c", "query-status", "-c", "/wait GO timeout=120", str(tmp_path / "burst.sock")
        )
    finally:
        server.listener.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout)[-1]["data"] == {"n": BURST}
    print(f"\n/wait through {KEPT} events, then {TRICKLE} one by one: {cpu:.1f} s of CPU")
    assert cpu < 2.5, f"{cpu:.1f} s of CPU"  # quadratic: 4 s and more
