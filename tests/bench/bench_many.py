"""Benchmark of one script against many targets (a benchmark, not a test): prints figures.

``qmpshell --parallel 8 -f SCRIPT S1 ... Sn`` with a 200-line script against n QMP sockets
(n = 1, 16, 32, 64; the sockets are monitors of 8 QEMUs, 8 each), as whole processes:
wall time (it should grow linearly with n), peak resident memory and peak thread count,
and what each target adds to them (aim: at most 2 MB and 2 threads each; with
``--parallel 8`` only 8 targets are open at any moment, each with its reader thread).
Sizes alternate in every round; medians and ranges of the rounds are printed, with the load.

Run: ``python tests/bench/bench_many.py [ROUNDS]`` (QEMU: the ``qemu-system-x86_64`` on ``$PATH``).
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.qemu_support import Qemu  # noqa: E402

LINES = 200
PARALLEL = 8
SIZES = (1, 16, 32, 64)
PER_QEMU = 8  # QMP monitors on each QEMU: its socket, its auxiliary one and 6 more


def start_qemus(root: Path, count: int) -> tuple[list[Qemu], list[str]]:
    """``count`` sockets, ``PER_QEMU`` monitors to a QEMU."""
    qemus: list[Qemu] = []
    sockets: list[str] = []
    for number in range((count + PER_QEMU - 1) // PER_QEMU):
        directory = root / f"vm{number}"
        directory.mkdir()
        extra = [str(directory / f"m{n}.sock") for n in range(PER_QEMU - 2)]
        monitors = (arg for path in extra for arg in ("-qmp", f"unix:{path},server=on,wait=off"))
        qemu = Qemu(directory, *monitors)
        qemus.append(qemu)
        sockets += [qemu.socket, qemu.aux_socket, *extra]
    return qemus, sockets[:count]


class Peak:
    """The most threads and resident memory ``pid`` had, sampled from /proc every 2 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.threads, self.rss_kib = pid, 0, 0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        path = f"/proc/{self.pid}/status"
        while True:
            try:
                with open(path) as status:
                    text = status.read()
            except OSError:
                return
            for line in text.splitlines():
                if line.startswith("Threads:"):
                    self.threads = max(self.threads, int(line.split()[1]))
                elif line.startswith("VmHWM:"):
                    self.rss_kib = max(self.rss_kib, int(line.split()[1]))
            if "State:\tZ" in text:
                return
            time.sleep(0.002)

    def join(self) -> None:
        self._thread.join(10)


def run(script: Path, sockets: list[str], root: Path) -> tuple[float, int, int]:
    """One run: wall seconds, peak threads, peak RSS in KiB (the kernel's figure: ru_maxrss)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for variable in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        env[variable] = str(root / variable.lower())
    argv = [sys.executable, "-m", "qmpshell", "--parallel", str(PARALLEL), "-f", str(script), *sockets]
    with open(root / "out.jsonl", "wb") as out:
        start = time.monotonic()
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=env)
        peak = Peak(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    peak.join()
    assert process.stderr is not None
    errors = process.stderr.read().decode()
    process.stderr.close()
    replies = (root / "out.jsonl").read_bytes().count(b"\n")
    if process.returncode != 0 or replies != LINES * len(sockets):
        raise SystemExit(f"run failed: status {process.returncode}, {replies} lines: {errors[:500]}")
    return wall, peak.threads, max(usage.ru_maxrss, peak.rss_kib)


def figures(values: list[float], unit: str, scale: float = 1.0) -> str:
    ordered = sorted(value * scale for value in values)
    return f"{statistics.median(ordered):7.1f} {unit} ({ordered[0]:.1f}-{ordered[-1]:.1f})"


def main(rounds: int) -> None:
    compileall.compile_dir(ROOT / "qmpshell", quiet=1)  # as installed: no start compiles modules
    with tempfile.TemporaryDirectory(prefix="qb-") as name:
        root = Path(name)
        script = root / "script.qmp"
        script.write_text("".join("query-status\n" if n % 2 else "query-name\n" for n in range(LINES)))
        qemus, sockets = start_qemus(root, max(SIZES))
        try:
            run(script, sockets[:2], root)  # the schema cache is not needed; warm the page cache
            print(f"[load {' '.join(f'{v:.2f}' for v in os.getloadavg())}]")
            results: dict[int, list[tuple[float, int, int]]] = {size: [] for size in SIZES}
            for _ in range(rounds):
                for size in SIZES:
                    results[size].append(run(script, sockets[:size], root))
            print(f"[load {' '.join(f'{v:.2f}' for v in os.getloadavg())}]")
        finally:
            for qemu in qemus:
                qemu.stop()
    base = results[SIZES[0]]
    base_rss = statistics.median(rss for _, _, rss in base)
    base_wall = statistics.median(wall for wall, _, _ in base)
    print(f"{LINES} lines (query-status, query-name) per target, --parallel {PARALLEL}, {rounds} rounds")
    for size in SIZES:
        walls = [wall for wall, _, _ in results[size]]
        threads = [float(count) for _, count, _ in results[size]]
        rss = [float(kib) for _, _, kib in results[size]]
        line = (
            f"{size:3d} targets: wall {figures(walls, 's')}, "
            f"{statistics.median(walls) / size * 1000:6.1f} ms a target; "
            f"peak threads {figures(threads, '')}; peak RSS {figures(rss, 'MiB', 1 / 1024)}"
        )
        if size > SIZES[0]:
            extra = size - SIZES[0]
            line += (
                f"; per extra target: {(statistics.median(rss) - base_rss) / extra / 1024:.3f} MiB, "
                f"{(statistics.median(walls) - base_wall) / extra * 1000:.1f} ms"
            )
        print(line)
    print(f"threads per target open at once: (peak threads - 1) / {PARALLEL}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
