"""Benchmark: qmpshell in batch mode against QEMU's qmp-shell and a raw socket loop, one QEMU for all.

Run: ``python3 tests/bench/bench_batch.py [--count N] [--rounds R] [--one-shots S] [--dry-run-lines D]``.

- **one-shot**: ``qmpshell SOCK -c query-status`` (schema cache warm) against ``qmp-shell SOCK`` fed
  the same line on stdin, the best of S runs each, taken in turns so that both meet the same load;
  ``python -c pass`` shows the interpreter's own share.
- **scripts**: N ``query-status`` lines piped in: qmpshell one at a time, qmpshell ``-k`` (pipelined:
  up to 8 commands in flight), QEMU's qmp-shell and the raw loop (which waits for each reply, as a
  strict client must).  Every contender is a fresh process; the best of R rounds counts.  The raw loop
  is measured twice: with the bare message, and with ``"id":1`` as qmpshell sends it (QEMU reads its
  socket a byte per system call, so the id alone costs time).
- **--dry-run**: D lines of shorthand turned into JSON without a server.

Modules are byte-compiled first: a pip-installed package (qmp-shell's) is, and a source tree run with
``PYTHONDONTWRITEBYTECODE`` would otherwise compile qmpshell on every start.
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
        raise SystemExit(f"{argv[:4]} answered {replies}/{expected}: {result.stderr.decode()[-500:]}")
    return elapsed


def qmp_shell(python: str) -> str | None:
    """QEMU's qmp-shell (from the qemu.qmp package in the test extras), if installed."""
    found = shutil.which("qmp-shell", path=os.path.dirname(python)) or shutil.which("qmp-shell")
    return found


# -- one-shot --------------------------------------------------------------------------------------


def one_shot(socket_path: str, runs: int) -> None:
    python = sys.executable
    qmpshell = [python, "-m", "qmpshell", socket_path, "-c", "query-status"]
    timed([python, "-m", "qmpshell", socket_path, "-c", "/help query-status"], b"", 0)  # the cache is warm
    cases: dict[str, tuple[list[str], bytes, int]] = {
        "python -c pass": ([python, "-c", "pass"], b"", 0),
        "qmpshell -c query-status": (qmpshell, b"", 1),
    }
    theirs = qmp_shell(python)
    if theirs:
        cases["qmp-shell (stdin)"] = ([python, theirs, socket_path], b"query-status\n", 1)
    best = {name: float("inf") for name in cases}
    for _ in range(runs):
        for name, (argv, script, expected) in cases.items():
            best[name] = min(best[name], timed(argv, script, expected))
    print(f"one-shot, best of {runs} (run in turns):")
    base = best.get("qmp-shell (stdin)")
    for name, seconds in best.items():
        ratio = f"  {seconds / base:.2f}x qmp-shell" if base else ""
        print(f"  {name:26s} {seconds * 1000:6.1f} ms{ratio}")


# -- scripts ---------------------------------------------------------------------------------------


def contenders(socket_path: str) -> dict[str, list[str]]:
    python = sys.executable
    found = {
        "raw loop (no id)": [python, "-c", RAW_LOOP, socket_path, '{"execute":"query-status"}'],
        "raw loop (id 1)": [python, "-c", RAW_LOOP, socket_path, '{"execute":"query-status","id":1}'],
        "qmpshell": [python, "-m", "qmpshell", socket_path],
        "qmpshell -k": [python, "-m", "qmpshell", "-k", socket_path],
    }
    theirs = qmp_shell(python)
    if theirs:
        found["qemu.qmp qmp-shell"] = [python, theirs, socket_path]
    return found


def measure(argv: list[str], count: int, rounds: int) -> tuple[float, float]:
    """Best wall time for ``count`` lines and for ``2 * count`` (the difference is the per-line cost)."""
    one = min(timed(argv, b"query-status\n" * count, count) for _ in range(rounds))
    two = min(timed(argv, b"query-status\n" * (2 * count), 2 * count) for _ in range(rounds))
    return one, two


def scripts(socket_path: str, count: int, rounds: int) -> None:
    best = {name: measure(argv, count, rounds) for name, argv in contenders(socket_path).items()}
    print(f"{count} x query-status, best of rounds; 'per cmd' is (T(2n) - T(n)) / n, start-up excluded")
    raw, raw_id = best["raw loop (no id)"], best["raw loop (id 1)"]
    for name, (one, two) in best.items():
        per_command = (two - one) / count
        print(
            f"  {name:20s} {one * 1000:7.1f} ms total ({one / raw[0]:4.2f}x raw)"
            f"  {per_command * 1e6:6.1f} us/cmd ({per_command / ((raw[1] - raw[0]) / count):4.2f}x raw)"
        )
    mine, piped = best["qmpshell"], best["qmpshell -k"]
    print(f"  qmpshell vs raw loop sending the same bytes (id 1): total {mine[0] / raw_id[0]:.3f}x,"
          f" per command {(mine[1] - mine[0]) / (raw_id[1] - raw_id[0]):.3f}x")  # fmt: skip
    print(f"  qmpshell -k (pipelined) vs the strict raw loop (id 1): total {piped[0] / raw_id[0]:.3f}x,"
          f" per command {(piped[1] - piped[0]) / (raw_id[1] - raw_id[0]):.3f}x")  # fmt: skip
    if "qemu.qmp qmp-shell" in best:
        theirs = best["qemu.qmp qmp-shell"]
        marginal = (theirs[1] - theirs[0]) / (mine[1] - mine[0])
        print(f"  qmp-shell / qmpshell: total {theirs[0] / mine[0]:.2f}x, per command {marginal:.2f}x")


# -- --dry-run -------------------------------------------------------------------------------------

DRY_RUN_LINES = (
    "query-status",
    "blockdev-add driver=null-co node-name=n{i} size=1M read-only=on",
    "human-monitor-command command-line='info status'",
    "device_add driver=virtio-blk-pci id=d{i} drive=n{i} addr=0x5",
    "block_resize node-name=n{i} size=2G",
)


def dry_run(socket_path: str, lines: int, rounds: int) -> None:
    python = sys.executable
    script = "".join(DRY_RUN_LINES[i % len(DRY_RUN_LINES)].format(i=i) + "\n" for i in range(lines))
    print(f"--dry-run on {lines} lines, best of {rounds}:")
    for name, argv in (
        ("no server (guessed)", [python, "-m", "qmpshell", "-n"]),
        ("schema from the cache", [python, "-m", "qmpshell", "-n", socket_path]),
    ):
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            result = subprocess.run(argv, input=script.encode(), capture_output=True, check=False)
            best = min(best, time.perf_counter() - started)
            if result.returncode != 0 or result.stdout.count(b"\n") != lines:
                raise SystemExit(f"--dry-run failed: {result.stderr.decode()[-500:]}")
        print(f"  {name:24s} {best * 1000:7.1f} ms  {best / lines * 1e6:5.1f} us/line")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--one-shots", type=int, default=20)
    parser.add_argument("--dry-run-lines", type=int, default=10000)
    args = parser.parse_args()
    compileall.compile_dir(str(ROOT / "qmpshell"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="qs-bench-") as directory:
        qemu, path = start_qemu(directory)
        try:
            one_shot(path, args.one_shots)
            scripts(path, args.count, args.rounds)
            dry_run(path, args.dry_run_lines, args.rounds)
        finally:
            qemu.kill()
            qemu.wait()


if __name__ == "__main__":
    main()
