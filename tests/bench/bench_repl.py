"""Benchmark of the interactive shell (a benchmark, not a test): prints figures.

1. Time from start to the first usable prompt in a real terminal (tmux), with
   the schema cache empty and then filled, against a real QEMU.
2. Keystroke-to-screen latency while a fake server floods 5,000 events/s.
3. Resident memory of the application after 20,000 and after 100,000 events.

Run: ``python tests/bench/bench_repl.py``.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from prompt_toolkit.input import create_pipe_input  # noqa: E402
from prompt_toolkit.output import DummyOutput  # noqa: E402

from qmpshell.config import Settings  # noqa: E402
from qmpshell.protocol.address import parse_address  # noqa: E402
from qmpshell.repl.app import Repl  # noqa: E402
from qmpshell.repl.connection import Connection  # noqa: E402
from qmpshell.repl.panes import EventFeed  # noqa: E402
from tests.qemu_support import Qemu, wait_until  # noqa: E402
from tests.tmux_support import Tmux  # noqa: E402

GREETING = {
    "QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "bench"}, "capabilities": []}
}


class FloodServer:
    """Answers every command with an empty return and sends ``rate`` events a second (or ``total``)."""

    def __init__(self, path: str, *, rate: float = 0, total: int = 0) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.rate, self.total, self.sent = rate, total, 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _send(self, conn: socket.socket, message: dict[str, object]) -> None:
        with self.lock:
            conn.sendall(json.dumps(message).encode() + b"\r\n")

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        self._send(conn, GREETING)
        pending = ""
        while not self.stop.is_set():
            data = conn.recv(65536)
            if not data:
                return
            messages, pending = split_objects(pending + data.decode())
            for message in messages:
                command = message.get("execute")
                reply = (
                    ""
                    if command == "human-monitor-command"
                    else ([] if command == "query-qmp-schema" else {})
                )
                self._send(conn, {"return": reply, "id": message.get("id")})
                if command == "qmp_capabilities":  # QEMU sends events only after negotiation
                    threading.Thread(target=self._events, args=(conn,), daemon=True).start()

    def _events(self, conn: socket.socket) -> None:
        start = time.monotonic()
        while not self.stop.is_set() and (not self.total or self.sent < self.total):
            if self.rate and self.sent > (time.monotonic() - start) * self.rate:
                time.sleep(0.001)
                continue
            now = time.time()
            stamp = {"seconds": int(now), "microseconds": int(now % 1 * 1e6)}
            try:
                self._send(conn, {"event": "BENCH", "data": {"n": self.sent}, "timestamp": stamp})
            except OSError:
                return
            self.sent += 1


def split_objects(text: str) -> tuple[list[dict[str, object]], str]:
    """The complete JSON objects at the start of ``text`` (clients send no newline), and the rest."""
    decoder, found, position = json.JSONDecoder(), [], 0
    while True:
        text = text[position:].lstrip()
        try:
            message, position = decoder.raw_decode(text)
        except json.JSONDecodeError:
            return found, text
        found.append(message)


def env_for(root: Path) -> dict[str, str]:
    env = {name: str(root / name.lower()) for name in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def time_to_prompt(socket_path: str, root: Path) -> float:
    start = time.monotonic()
    tmux = Tmux([sys.executable, "-m", "qmpshell", socket_path], env=env_for(root))
    try:
        tmux.wait_for("events: ", timeout=30)
        return time.monotonic() - start
    finally:
        tmux.send("C-d")
        tmux.wait_for("EXITED=", timeout=10)
        tmux.close()


def bench_startup() -> None:
    with tempfile.TemporaryDirectory(prefix="qb-") as name:
        qemu = Qemu(Path(name))
        try:
            cold = time_to_prompt(qemu.socket, Path(name))
            warm = [time_to_prompt(qemu.socket, Path(name)) for _ in range(3)]
        finally:
            qemu.stop()
    print(f"first prompt, no schema cache:   {cold * 1000:6.0f} ms")
    print(f"first prompt, schema cached:     {min(warm) * 1000:6.0f} ms (best of 3; includes tmux start)")


def bench_typing_latency() -> None:
    with tempfile.TemporaryDirectory(prefix="qb-") as name:
        path = os.path.join(name, "flood.sock")
        server = FloodServer(path, rate=5000)
        tmux = Tmux([sys.executable, "-m", "qmpshell", path], env=env_for(Path(name)))
        try:
            tmux.wait_for("events: ", timeout=30)
            wait_until(lambda: server.sent > 5000, timeout=30, what="the flood")
            latencies = []
            typed = ""
            for char in "query-status-abcdefghijklmnop":
                typed += char
                start = time.monotonic()
                tmux.type(char)
                tmux.wait_for(lambda s, t=typed: ("qmp> " + t) in s, timeout=10)
                latencies.append(time.monotonic() - start)
            rate = server.sent / 1.0
        finally:
            server.stop.set()
            tmux.close()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"keystroke to screen, 5,000 events/s: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms over {len(latencies)} keys "
        f"(tmux capture-pane polling included; {rate:.0f} events sent)"
    )


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def bench_memory() -> None:
    with tempfile.TemporaryDirectory(prefix="qb-") as name, create_pipe_input() as keys:
        path = os.path.join(name, "flood.sock")
        server = FloodServer(path, total=100_000)
        settings = Settings(history_file=None, transcript=False)
        feed = EventFeed(limit=settings.events_pane_size)
        connection = Connection(parse_address(path), settings, log=None, on_event=feed.add)
        repl = Repl(connection, feed, settings, input=keys, output=DummyOutput())
        thread = threading.Thread(target=lambda: repl.run(main_thread=False), daemon=True)
        thread.start()
        wait_until(lambda: connection.events.total >= 20_000, timeout=120, what="20,000 events")
        at_20k = rss_kib()
        wait_until(lambda: connection.events.total >= 100_000, timeout=300, what="100,000 events")
        at_100k = rss_kib()
        assert repl._loop is not None
        repl._loop.call_soon_threadsafe(repl.quit)
        thread.join(10)
        connection.close()
        server.stop.set()
    print(
        f"memory (RSS): {at_20k / 1024:.1f} MiB after 20,000 events, {at_100k / 1024:.1f} MiB after 100,000 "
        f"(events pane keeps {settings.events_pane_size}; /wait keeps up to 10,000 since the last "
        "command)"
    )


if __name__ == "__main__":
    parts = sys.argv[1:] or ["startup", "typing", "memory"]
    for part in parts:
        {"startup": bench_startup, "typing": bench_typing_latency, "memory": bench_memory}[part]()
