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
    script = b"query-status\n" * args.count
    with tempfile.TemporaryDirectory(prefix="qs-bench-") as directory:
        qemu, path = start_qemu(directory)
        try:
            best = {name: min(timed(argv, script, args.count) for _ in range(args.rounds))
                    for name, argv in contenders(path).items()}  # fmt: skip
        finally:
            qemu.kill()
            qemu.wait()
    report(best, args.count)


def report(best: dict[str, float], count: int) -> None:
    base = best["raw loop (no id)"]
    print(f"{count} x query-status, best of rounds (wall time of the whole process)")
    for name, seconds in best.items():
        per_command = seconds / count * 1e6
        print(f"  {name:22s} {seconds * 1000:8.1f} ms  {per_command:7.1f} us/cmd  {seconds / base:5.2f}x raw")
    mine = best["qmpshell"]
    print(f"  qmpshell / raw loop (id 1): {mine / best['raw loop (id 1)']:.3f}x")
    if "qemu.qmp qmp-shell" in best:
        print(f"  qmp-shell / qmpshell:       {best['qemu.qmp qmp-shell'] / mine:.2f}x (higher is better)")


if __name__ == "__main__":
    main()
