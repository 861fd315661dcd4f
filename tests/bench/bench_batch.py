"""Benchmark: 2000 ``query-status`` lines piped through qmpshell, QEMU's qmp-shell and a raw socket loop.

Run: ``python3 tests/bench/bench_batch.py [--count N] [--rounds R]``.  One QEMU serves every
contender in turn (each connects, runs, disconnects).  Every contender is a fresh Python process
fed the same lines on stdin, so interpreter start-up is in every figure; the best of R rounds
counts.  The raw loop is measured twice: with the bare message, and with ``"id":1`` as qmpshell
sends it (QEMU reads its socket a byte per system call, so the id alone costs time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

RAW_LOOP = r"""
import socket, sys
sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
reader = sock.makefile("rb")
reader.readline()
sock.sendall(b'{"execute":"qmp_capabilities"}\n')
reader.readline()
message = sys.argv[2].encode() + b"\n"
out = sys.stdout.buffer
for line in sys.stdin:
    if line.strip():
        sock.sendall(message)
        out.write(reader.readline())
out.flush()
"""


def start_qemu(directory: str) -> tuple[subprocess.Popen[bytes], str]:
    path = os.path.join(directory, "qmp.sock")
    argv = ["qemu-system-x86_64", "-M", "none", "-nodefaults", "-display", "none"]
    proc = subprocess.Popen([*argv, "-qmp", f"unix:{path},server=on,wait=off"])
    deadline = time.monotonic() + 10
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise SystemExit("QEMU did not start")
        time.sleep(0.01)
    return proc, path


def timed(argv: list[str], script: bytes, expected: int) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, input=script, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    replies = result.stdout.count(b'"return"') + result.stdout.count(b"'return'")
    if replies < expected:
        raise SystemExit(f"{argv[:3]} answered {replies}/{expected}: {result.stderr.decode()[-500:]}")
    return elapsed


def contenders(socket_path: str) -> dict[str, list[str]]:
    python = sys.executable
    found = {
        "raw loop (no id)": [python, "-c", RAW_LOOP, socket_path, '{"execute":"query-status"}'],
        "raw loop (id 1)": [python, "-c", RAW_LOOP, socket_path, '{"execute":"query-status","id":1}'],
        "qmpshell": [python, "-m", "qmpshell", socket_path],
    }
    qmp_shell = shutil.which("qmp-shell")
    if qmp_shell:
        found["qemu.qmp qmp-shell"] = [python, qmp_shell, socket_path]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qs-bench-") as directory:
        qemu, path = start_qemu(directory)
        try:
            best = {name: measure(argv, args.count, args.rounds) for name, argv in contenders(path).items()}
        finally:
            qemu.kill()
            qemu.wait()
    report(best, args.count)


def measure(argv: list[str], count: int, rounds: int) -> tuple[float, float]:
    """Best wall time for ``count`` lines and for ``2 * count`` (the difference is the per-line cost)."""
    one = min(timed(argv, b"query-status\n" * count, count) for _ in range(rounds))
    two = min(timed(argv, b"query-status\n" * (2 * count), 2 * count) for _ in range(rounds))
    return one, two


def report(best: dict[str, tuple[float, float]], count: int) -> None:
    print(f"{count} x query-status, best of rounds; 'per cmd' is (T(2n) - T(n)) / n, start-up excluded")
    raw, raw_id = best["raw loop (no id)"], best["raw loop (id 1)"]
    for name, (one, two) in best.items():
        per_command = (two - one) / count
        print(
            f"  {name:20s} {one * 1000:7.1f} ms total ({one / raw[0]:4.2f}x raw)"
            f"  {per_command * 1e6:6.1f} us/cmd ({per_command / ((raw[1] - raw[0]) / count):4.2f}x raw)"
        )
    mine = best["qmpshell"]
    print(f"  qmpshell vs raw loop sending the same bytes (id 1): total {mine[0] / raw_id[0]:.3f}x,"
          f" per command {(mine[1] - mine[0]) / (raw_id[1] - raw_id[0]):.3f}x")  # fmt: skip
    if "qemu.qmp qmp-shell" in best:
        theirs = best["qemu.qmp qmp-shell"]
        marginal = (theirs[1] - theirs[0]) / (mine[1] - mine[0])
        print(f"  qmp-shell / qmpshell: total {theirs[0] / mine[0]:.2f}x, per command {marginal:.2f}x")


if __name__ == "__main__":
    main()
