"""Benchmark of the interactive shell (a benchmark, not a test): prints figures.

1. Time from start to the first usable prompt in a real terminal (tmux): the
   status bar drawn and a word typed at once shown on the input line; with the
   schema cache empty (one run), then filled (alternating rounds with a bare
   prompt_toolkit application and the terminal's floor, medians and ranges).
   ``cpu``: the CPU time (every thread) and the wall time from exec at the first draw, against
   the bare application's, alternating: less at the mercy of a busy machine than wall times.
   ``fleet``: the same with 1, 2, 4 and 8 QEMU targets in one session.
2. Keystroke-to-screen latency while a fake server floods 5,000 events/s.
3. Resident memory of the application after 20,000 and after 100,000 events.

Run: ``python tests/bench/bench_repl.py [startup|cpu|fleet|typing|memory ...]``.
"""

from __future__ import annotations

import compileall
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


# A bare prompt_toolkit full-screen application: an output area, the input line and a status bar.
# What any prompt_toolkit shell pays on this machine right now (Python, prompt_toolkit, a first draw).
BARE_PROMPT = """
from prompt_toolkit.application import Application
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.layout import HSplit, Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.widgets import TextArea

keys = KeyBindings()
keys.add("c-d")(lambda event: event.app.exit())
line = TextArea(prompt="qmp> ", multiline=False)
status = Window(FormattedTextControl(" bare | events: 0"), height=1, style="reverse")
screen = HSplit([Window(FormattedTextControl("")), Window(height=1, char="-"), line, status])
Application(layout=Layout(screen, focused_element=line), key_bindings=keys, full_screen=True).run()
"""
TYPED = "ready"  # typed as soon as the program starts: the prompt is usable once it shows


def time_to_prompt(argv: list[str], root: Path) -> float:
    """From starting ``argv`` in a terminal to the screen showing the status bar and the line typed."""
    start = time.monotonic()
    tmux = Tmux(argv, env=env_for(root))
    try:
        tmux.type(TYPED)
        tmux.wait_for(lambda screen: "events: " in screen and f"qmp> {TYPED}" in screen, timeout=30)
        return time.monotonic() - start
    finally:
        tmux.send("C-u", "C-d")
        tmux.wait_for("EXITED=", timeout=10)
        tmux.close()


def load() -> str:
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def spread(values: list[float]) -> str:
    """Median and range, in ms."""
    ms = sorted(value * 1000 for value in values)
    return f"median {statistics.median(ms):5.0f} ms (min {ms[0]:4.0f}, max {ms[-1]:4.0f}, {len(ms)} runs)"


def rounds(argvs: dict[str, list[str]], root: Path, count: int) -> dict[str, list[float]]:
    """Each program started ``count`` times, in alternating rounds (a busy moment hits all alike)."""
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for _ in range(count):
        for name, argv in argvs.items():
            times[name].append(time_to_prompt(argv, root))
    return times


def bench_startup(count: int = 9) -> None:
    """qmpshell's first prompt (schema cached) against a bare prompt_toolkit application and
    the terminal's own floor (tmux starting a program that prints at once, seen by polling)."""
    with tempfile.TemporaryDirectory(prefix="qb-") as name:
        root = Path(name)
        qemu = Qemu(root)
        try:
            cold = time_to_prompt([sys.executable, "-m", "qmpshell", qemu.socket], root)
            print(f"[{load()}]")
            times = rounds(
                {
                    "floor": ["sh", "-c", f"printf 'qmp> {TYPED} events: '"],
                    "bare": [sys.executable, "-c", BARE_PROMPT],
                    "qmpshell": [sys.executable, "-m", "qmpshell", qemu.socket],
                },
                root,
                count,
            )
            print(f"[{load()}]")
        finally:
            qemu.stop()
    print(f"first prompt, no schema cache:  {cold * 1000:5.0f} ms (one run)")
    print(f"first prompt, schema cached:    {spread(times['qmpshell'])}")
    print(f"bare prompt_toolkit app:        {spread(times['bare'])}")
    print(f"terminal floor (tmux, polling): {spread(times['floor'])}")
    ratios = [q / b for q, b in zip(times["qmpshell"], times["bare"], strict=True)]
    beyond = [q - b for q, b in zip(times["qmpshell"], times["bare"], strict=True)]
    print(
        f"qmpshell / bare: median {statistics.median(ratios):.2f} (per round); qmpshell - bare: "
        f"median {statistics.median(beyond) * 1000:.0f} ms; qmpshell - floor: "
        f"{(statistics.median(times['qmpshell']) - statistics.median(times['floor'])) * 1000:.0f} ms"
    )


# Runs ARGV (``qmpshell ...``, or the bare application's code with ``--bare``) and writes to REPORT
# the CPU time of the process (all its threads) and the wall time since exec at its first draw,
# then (qmpshell) the same at its instant prompt's frame (``qmpshell.repl.instant``): 0 0 if none.
FIRST_DRAW_COST = """
import os, sys, time

report, argv = sys.argv[1], sys.argv[2:]
frame = [0.0, 0.0]

def watch_first_draw():
    import prompt_toolkit.application.application as application

    redraw = application.Application._redraw

    def first(self, render_as_done=False):
        redraw(self, render_as_done)
        if not render_as_done and not self.is_done:
            with open(report, "w") as out:
                out.write(f"{time.process_time()} {since_exec()} {frame[0]} {frame[1]}")
            application.Application._redraw = redraw
            self.exit()

    application.Application._redraw = first

if argv[0] == "--bare":
    watch_first_draw()
else:  # prompt_toolkit is imported after the instant prompt's frame, as qmpshell does
    from qmpshell.repl import instant
    drawn = instant.InstantPrompt.draw.__func__

    def draw(cls, *args, **kwargs):
        shown = drawn(cls, *args, **kwargs)
        frame[:] = [time.process_time(), since_exec()]
        watch_first_draw()
        return shown

    instant.InstantPrompt.draw = classmethod(draw)

def since_exec():
    with open("/proc/self/stat") as stat:
        started = int(stat.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    with open("/proc/uptime") as uptime:
        return float(uptime.read().split()[0]) - started

if argv[0] == "--bare":
    exec(argv[1])
else:
    from qmpshell.cli import main
    main(argv)
"""


def first_draw_cost(argv: list[str], root: Path) -> tuple[float, float, float, float]:
    """CPU seconds and wall seconds (from exec, so without tmux's own start) at the first draw,
    then at the instant prompt's frame (0, 0 without one)."""
    report = root / "cost.txt"
    report.unlink(missing_ok=True)
    tmux = Tmux([sys.executable, "-c", FIRST_DRAW_COST, str(report), *argv], env=env_for(root))
    try:
        tmux.wait_for("EXITED=", timeout=30)
    finally:
        tmux.close()
    cpu, wall, frame_cpu, frame_wall = report.read_text().split()
    return float(cpu), float(wall), float(frame_cpu), float(frame_wall)


def bench_cpu(count: int = 15) -> None:
    """What the first draw costs in CPU time (less sensitive than wall time to a busy machine):
    qmpshell (schema cached) against the bare prompt_toolkit application, alternating."""
    with tempfile.TemporaryDirectory(prefix="qb-") as name:
        root = Path(name)
        qemu = Qemu(root)
        try:
            shell = [qemu.socket]
            first_draw_cost(shell, root)  # the schema cached
            print(f"[{load()}]")
            costs: dict[str, list[tuple[float, float, float, float]]] = {"qmpshell": [], "bare": []}
            for _ in range(count):
                costs["qmpshell"].append(first_draw_cost(shell, root))
                costs["bare"].append(first_draw_cost(["--bare", BARE_PROMPT], root))
            print(f"[{load()}]")
        finally:
            qemu.stop()
    for what, values in costs.items():
        print(
            f"{what:8s} at its first draw: CPU {spread([cost[0] for cost in values])}; "
            f"wall from exec {spread([cost[1] for cost in values])}"
        )
    frames = costs["qmpshell"]
    if all(cost[2] for cost in frames):
        print(
            f"qmpshell at its instant prompt: CPU {spread([cost[2] for cost in frames])}; "
            f"wall from exec {spread([cost[3] for cost in frames])}"
        )
    extra = [q[0] - b[0] for q, b in zip(costs["qmpshell"], costs["bare"], strict=True)]
    print(f"qmpshell's CPU beyond the bare application: {spread(extra)}")


def bench_fleet(count: int = 5, sizes: tuple[int, ...] = (1, 2, 4, 8)) -> None:
    """The first prompt of a session with 1, 2, 4, 8 QEMU targets (``qmpshell A=S1 B=S2 ...``):
    each extra target should add at most 20 ms (the connections are made at once)."""
    with tempfile.TemporaryDirectory(prefix="qb-") as name:
        root = Path(name)
        qemus = []
        try:
            for number in range(max(sizes)):
                directory = root / f"vm{number}"
                directory.mkdir()
                qemus.append(Qemu(directory))
            argvs = {
                size: [sys.executable, "-m", "qmpshell", *(f"vm{n}={qemus[n].socket}" for n in range(size))]
                for size in sizes
            }
            for argv in argvs.values():  # every schema cached
                time_to_prompt(argv, root)
            print(f"[{load()}]")
            prompts = rounds({str(size): argv for size, argv in argvs.items()}, root, count)
            drawn: dict[int, list[float]] = {size: [] for size in sizes}
            framed: dict[int, list[float]] = {size: [] for size in sizes}
            for _ in range(count * 2):
                for size, argv in argvs.items():
                    cost = first_draw_cost(argv[3:], root)
                    drawn[size].append(cost[1])
                    framed[size].append(cost[3])
            opening = {size: opening_times(qemus[:size], count * 4) for size in sizes}
            print(f"[{load()}]")
        finally:
            for qemu in qemus:
                qemu.stop()
    first = {size: prompts[str(size)] for size in sizes}
    for label, figures in (
        ("first prompt (tmux)", first),
        ("instant frame, wall from exec", framed),
        ("first draw, wall from exec", drawn),
        ("connecting (Fleet.open, in process)", opening),
    ):
        one = statistics.median(figures[sizes[0]])
        for size in sizes:
            values = figures[size]
            extra = statistics.median(values) - one
            per = f"; {extra * 1000 / (size - sizes[0]):5.1f} ms per extra target" if size > sizes[0] else ""
            print(f"{size} target(s), {label}: {spread(values)}{per}")


def opening_times(qemus: list[Qemu], count: int) -> list[float]:
    """How long connecting to every one of ``qemus`` takes (greeting, capabilities, which server)."""
    from qmpshell.repl.fleet import Fleet

    settings = Settings(history_file=None)
    targets = [(f"vm{n}", parse_address(qemu.socket)) for n, qemu in enumerate(qemus)]
    times = []
    for _ in range(count):
        start = time.monotonic()
        fleet = Fleet.open(targets, settings, log=None, on_event=lambda event: None)
        times.append(time.monotonic() - start)
        fleet.close()
    return times


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


def compile_package() -> None:
    """Byte-compile qmpshell first, as installing it does: with ``PYTHONDONTWRITEBYTECODE`` set and
    no ``__pycache__`` (a fresh checkout), every start would compile ~80 modules (150+ ms)."""
    compileall.compile_dir(Path(__file__).resolve().parents[2] / "qmpshell", quiet=1)


if __name__ == "__main__":
    compile_package()
    parts = sys.argv[1:] or ["startup", "cpu", "fleet", "typing", "memory"]
    for part in parts:
        {
            "startup": bench_startup,
            "fleet": bench_fleet,
            "cpu": bench_cpu,
            "typing": bench_typing_latency,
            "memory": bench_memory,
        }[part]()
