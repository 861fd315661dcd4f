"""Benchmark: an HMP ``info`` line translated to QMP against the same line through ``human-monitor-command``.

Run: ``python3 tests/bench/bench_hmp.py [--count N] [--rounds R] [LINE...]`` (default lines:
``info status``, ``info cpus``, ``info block``, ``info pci``).

One q35 QEMU (the one on $PATH, or $QMPSHELL_TEST_QEMU) serves both.  In one process a ``Shell`` runs
each line N times with ``--hmp-via qmp`` and N times with ``--hmp-via passthrough``, in turns, the best
of R rounds counted; the time covers parsing the line, the round trip and making the text shown.
Printed: the time per line of each and the ratio translated / passthrough (the goal is at most 1.2).
Then the same lines as one-shots (``qmpshell -H -c LINE SOCK``, a fresh process each, the best of S
runs, taken in turns): what a script pays, imports and the ``query-commands`` of the first line included.
The package is byte-compiled first (``PYTHONDONTWRITEBYTECODE`` would otherwise compile it every start).
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from qmpshell.outcomes import HmpOutput  # noqa: E402
from qmpshell.protocol.address import parse_address  # noqa: E402
from qmpshell.protocol.events import EventLog  # noqa: E402
from qmpshell.protocol.session import make_client  # noqa: E402
from qmpshell.shell import Shell  # noqa: E402
from tests.q35_support import start_q35  # noqa: E402


def per_line(shell: Shell, line: str, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        outcome = shell.run(shell.parse(line))  # type: ignore[arg-type]
        assert isinstance(outcome, HmpOutput) and not outcome.error, outcome
    return (time.perf_counter() - start) / count


def one_shots(socket: str, line: str, count: int) -> tuple[float, float]:
    """The best time of ``qmpshell -H -c LINE`` translated and passed through, run in turns."""
    best = {"qmp": 1e9, "passthrough": 1e9}
    for _ in range(count):
        for via in best:
            start = time.perf_counter()
            argv = [sys.executable, "-m", "qmpshell", "-H", "--hmp-via", via, "-c", line, socket]
            subprocess.run(argv, capture_output=True, check=True, cwd=ROOT)
            best[via] = min(best[via], time.perf_counter() - start)
    return best["qmp"], best["passthrough"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--one-shots", type=int, default=15)
    parser.add_argument("lines", nargs="*", default=["info status", "info cpus", "info block", "info pci"])
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "qmpshell", quiet=1)  # as an installed package is, for the one-shots
    if os.environ.get("QMPSHELL_TEST_QEMU"):
        link_dir = Path(tempfile.mkdtemp())
        (link_dir / "qemu-system-x86_64").symlink_to(os.environ["QMPSHELL_TEST_QEMU"])
        os.environ["PATH"] = f"{link_dir}:{os.environ['PATH']}"
    directory = Path(tempfile.mkdtemp(prefix="bench", dir="/tmp"))
    qemu = start_q35(directory)
    try:
        client = make_client(parse_address(qemu.socket))
        client.connect()
        shells = {via: Shell(client, EventLog(), hmp=True, hmp_via=via) for via in ("qmp", "passthrough")}
        for shell in shells.values():
            per_line(shell, args.lines[0], 5)  # warm: query-commands once, modules imported
        print(f"{'line':<14} {'translated':>11} {'passthrough':>12} {'ratio':>6}")
        for line in args.lines:
            best = {
                via: min(per_line(shells[via], line, args.count) for _ in range(args.rounds))
                for via in shells
            }
            ratio = best["qmp"] / best["passthrough"]
            print(
                f"{line:<14} {best['qmp'] * 1e6:>9.0f}us {best['passthrough'] * 1e6:>10.0f}us {ratio:>6.2f}"
            )
        client.close()
        print(f"\none-shots, best of {args.one_shots}")
        for line in args.lines:
            ours, theirs = one_shots(qemu.socket, line, args.one_shots)
            print(f"{line:<14} {ours * 1e3:>9.1f}ms {theirs * 1e3:>10.1f}ms {ours / theirs:>6.2f}")
    finally:
        qemu.stop()
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
