"""Benchmark: ``--replay`` against ``-f``, and a client through ``--proxy`` against the same client direct.

Run: ``python3 tests/bench/bench_replay.py [--count N] [--rounds R]``.

- **replay**: a qmpshell ``-l`` log of N ``query-status`` commands replayed (``--replay LOG SOCK``: each
  reply compared with the recorded one) against the same N lines run with ``-f``; both fresh processes,
  the best of R rounds each, taken in turns.  Goal: replay within 1.3x of ``-f``.
- **proxy**: a client sending N ``query-status`` one at a time (waiting for each reply), once straight
  to QEMU and once through a headless ``--proxy`` (its traffic lines going to /dev/null).  Two clients:
  a raw socket loop (nothing but the round trips, so the proxy's share shows undiluted) and qmpshell
  ``-f``.  Goal: through the proxy within 1.5x of direct.
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_batch import RAW_LOOP  # noqa: E402

QMPSHELL = [sys.executable, "-m", "qmpshell"]


def start_qemu(directory: str) -> tuple[subprocess.Popen[bytes], str, str]:
    """QEMU with two QMP sockets: a monitor serves one client at a time, and the proxy holds one."""
    paths = [os.path.join(directory, name) for name in ("qmp.sock", "upstream.sock")]
    argv = ["qemu-system-x86_64", "-M", "none", "-nodefaults", "-display", "none"]
    for path in paths:
        argv += ["-qmp", f"unix:{path},server=on,wait=off"]
    proc = subprocess.Popen(argv)
    deadline = time.monotonic() + 10
    while not all(os.path.exists(path) for path in paths):
        if time.monotonic() > deadline:
            raise SystemExit("QEMU did not start")
        time.sleep(0.01)
    return proc, paths[0], paths[1]


def best(argv: list[str], rounds: int, *, stdin: bytes = b"", expect: bytes = b"") -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = subprocess.run(argv, input=stdin, capture_output=True, check=False, cwd=ROOT)
        times.append(time.perf_counter() - started)
        if result.returncode != 0 or expect not in result.stdout:
            raise SystemExit(f"{argv[:6]} failed ({result.returncode}): {result.stderr.decode()[-400:]}")
    return min(times)


def bench_replay(sock: str, directory: str, count: int, rounds: int) -> tuple[float, float]:
    script = os.path.join(directory, "status.qmp")
    log = os.path.join(directory, "status.log")
    Path(script).write_text("query-status\n" * count)
    subprocess.run([*QMPSHELL, "-l", log, "-f", script, sock], check=True, capture_output=True, cwd=ROOT)
    direct = replayed = float("inf")
    for _ in range(rounds):  # in turns, so that both meet the same load
        direct = min(direct, best([*QMPSHELL, "-f", script, sock], 1, expect=b'"return"'))
        summary = f"{count} commands replayed: {count} matched".encode()
        replayed = min(replayed, best([*QMPSHELL, "--replay", log, sock], 1, expect=summary))
    return direct, replayed


def bench_proxy(
    sock: str, upstream: str, directory: str, count: int, rounds: int
) -> dict[str, tuple[float, float]]:
    listen = os.path.join(directory, "proxy.sock")
    proxy = subprocess.Popen(
        [*QMPSHELL, "--proxy", listen, upstream],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 10
    while not os.path.exists(listen):
        if time.monotonic() > deadline or proxy.poll() is not None:
            raise SystemExit("the proxy did not start")
        time.sleep(0.01)
    script = os.path.join(directory, "status.qmp")
    lines = b"query-status\n" * count
    message = '{"execute":"query-status","id":1}'
    results: dict[str, tuple[float, float]] = {}
    try:
        for name, argv, stdin in (
            ("raw socket loop", [sys.executable, "-c", RAW_LOOP, "{}", message], lines),
            ("qmpshell -f", [*QMPSHELL, "-f", script, "{}"], b""),
        ):
            direct = proxied = float("inf")
            for _ in range(rounds):
                there = [sock if a == "{}" else a for a in argv]
                via = [listen if a == "{}" else a for a in argv]
                direct = min(direct, best(there, 1, stdin=stdin, expect=b'"return"'))
                proxied = min(proxied, best(via, 1, stdin=stdin, expect=b'"return"'))
            results[name] = (direct, proxied)
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    compileall.compile_dir(str(ROOT / "qmpshell"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="qs-bench-") as directory:
        qemu, sock, upstream = start_qemu(directory)
        try:
            direct, replayed = bench_replay(sock, directory, args.count, args.rounds)
            print(f"replay of {args.count} query-status: -f {direct:.3f} s, --replay {replayed:.3f} s,")
            print(f"  ratio {replayed / direct:.2f} (goal <= 1.3)")
            for name, (there, via) in bench_proxy(sock, upstream, directory, args.count, args.rounds).items():
                print(f"{name}, {args.count} commands: direct {there:.3f} s, through --proxy {via:.3f} s,")
                print(f"  ratio {via / there:.2f} (goal <= 1.5)")
        finally:
            qemu.kill()
            qemu.wait()


if __name__ == "__main__":
    main()
