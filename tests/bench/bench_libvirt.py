"""Benchmark: QMP through libvirt, and one script against many targets.

Run: ``python tests/bench/bench_libvirt.py [--count N] [--rounds R]`` (it starts libvirtd
when none runs, as the tests do, and defines its own TCG domains).

1. ``--count`` (1000) ``query-status`` through ``qmpshell libvirt:DOMAIN`` (lines on stdin), against
   a bare libvirt-python loop doing the same calls and printing each reply, and against a loop of
   ``virsh qemu-monitor-command`` processes (one per command, as people script it today).  Each
   contender is a fresh process, so start-up is in every figure; best of ``--rounds``.  Aim:
   qmpshell within 1.3x the bare loop.
2. 10 targets x 200 ``query-status`` with ``--parallel 4`` against ``--parallel 1`` (one after
   another), for 10 libvirt domains and for 10 QEMU sockets.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.libvirt_support import LibvirtHost  # noqa: E402
from tests.qemu_support import QEMU_ARGV, wait_until  # noqa: E402

BARE_LOOP = r"""
import json, sys, libvirt, libvirt_qemu
libvirt.registerErrorHandler(lambda c, e: None, None)
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(sys.argv[1])
dom = conn.lookupByName(sys.argv[2])
out = sys.stdout
for line in sys.stdin:
    if line.strip():
        reply = json.loads(libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-status"}', 0))
        reply.pop("id", None)
        out.write(json.dumps(reply) + "\n")
out.flush()
"""


def timed(argv: list[str], script: bytes, expected: int, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, input=script, capture_output=True, check=False, env=env)
    elapsed = time.perf_counter() - started
    replies = result.stdout.count(b'"return"')
    if replies < expected:
        raise SystemExit(f"{argv[:4]} answered {replies}/{expected}: {result.stderr.decode()[-500:]}")
    return elapsed


def virsh_loop(host: LibvirtHost, domain: str, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        host.virsh("qemu-monitor-command", domain, '{"execute":"query-status"}')
    return time.perf_counter() - started


def one_domain(host: LibvirtHost, count: int, rounds: int) -> None:
    domain = host.define("bench")
    script = b"query-status\n" * count
    python = sys.executable
    contenders = {
        "bare libvirt-python loop": [python, "-c", BARE_LOOP, host.uri, domain],
        "qmpshell libvirt:DOMAIN": [python, "-m", "qmpshell", "--libvirt-uri", host.uri, f"libvirt:{domain}"],
    }
    timed(contenders["qmpshell libvirt:DOMAIN"], script, count)  # the schema cache, warm as in daily use
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):  # interleaved, so that a busy moment of the machine hits both
        for name, argv in contenders.items():
            times[name].append(timed(argv, script, count))
    best = {name: min(seconds) for name, seconds in times.items()}
    best["virsh qemu-monitor-command loop"] = virsh_loop(host, domain, count)
    base = best["bare libvirt-python loop"]
    print(f"\n{count} x query-status, one domain (best of {rounds}, interleaved; virsh once):")
    for name, seconds in best.items():
        per = seconds / count * 1000
        print(f"  {name:34} {seconds:7.3f} s  {seconds / base:5.2f}x bare  {per:6.2f} ms/command")


def many_targets(label: str, addresses: list[str], extra: list[str], per_target: int) -> None:
    script = b"query-status\n" * per_target
    expected = per_target * len(addresses)
    argv = [sys.executable, "-m", "qmpshell", *extra, *addresses]
    timed([*argv, "--parallel", "4"], script, expected)  # warm the schema cache
    serial, parallel = float("inf"), float("inf")
    for _ in range(3):
        serial = min(serial, timed([*argv, "--parallel", "1"], script, expected))
        parallel = min(parallel, timed([*argv, "--parallel", "4"], script, expected))
    print(f"\n{len(addresses)} targets x {per_target} query-status, {label} (best of 3):")
    print(f"  --parallel 1 (one after another) {serial:7.3f} s")
    print(f"  --parallel 4                     {parallel:7.3f} s  {serial / parallel:5.2f}x faster")


def socket_targets(directory: str, count: int) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    machines, paths = [], []
    for number in range(count):
        path = os.path.join(directory, f"q{number}.sock")
        machines.append(subprocess.Popen([*QEMU_ARGV, "-qmp", f"unix:{path},server=on,wait=off"]))
        paths.append(path)
    wait_until(lambda: all(os.path.exists(path) for path in paths), what="the QEMU sockets")
    return machines, paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--targets", type=int, default=10)
    parser.add_argument("--per-target", type=int, default=200)
    args = parser.parse_args()
    host = LibvirtHost()
    host.start()
    with tempfile.TemporaryDirectory(prefix="qs-bench-") as directory:
        os.environ["XDG_CACHE_HOME"] = directory  # a private schema cache
        machines: list[subprocess.Popen[bytes]] = []
        try:
            one_domain(host, args.count, args.rounds)
            domains = [host.define(f"many{n}") for n in range(args.targets)]
            many_targets(
                "libvirt domains",
                [f"libvirt:{d}" for d in domains],
                ["--libvirt-uri", host.uri],
                args.per_target,
            )
            machines, paths = socket_targets(directory, args.targets)
            many_targets("QEMU sockets", paths, [], args.per_target)
        finally:
            for machine in machines:
                machine.kill()
                machine.wait()
            host.remove_all()
            host.stop()


if __name__ == "__main__":
    main()
