"""Benchmark (not a test): index build, completion latency, and startup with and without the cache.

Run from the repository root: ``python -m tests.bench.bench_schema``.  The
schema is the QEMU 7.2 capture in ``tests/data``; the startup figures use a
real ``qemu-system-x86_64 -M none`` and a private ``XDG_CACHE_HOME``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from qmpshell import commands
from qmpshell.schema.index import SchemaIndex
from qmpshell.schema.suggest import suggest
from tests.qemu_support import Qemu

CAPTURE = Path(__file__).parent.parent / "data" / "qemu-7.2-schema.json"
LINES = [
    "blockdev-add driver=qcow2 node-name=disk0 file.driver=file file.filename=/var/lib/images/a.qcow2 "
    "cache.direct=on read-only=off discard=unmap",
    "object-add qom-type=memory-backend-ram id=mem0 size=1G share=on prealloc=off",
    "device_add driver=virtio-blk-pci id=vd0 drive=disk0 bus=pci.0",
    "block_resize node-name=disk0 size=2G",
    "migrate-set-capabilities capabilities=[]",
    "set-action shutdown=pause reboot=shutdown panic=none",
    "qom-set path=/machine/peripheral/vd0 property=serial value=abc",
    "human-monitor-command command-line='info block'",
    "transaction(\n  abort\n  block-dirty-bitmap-add node=disk0 name=b0 granularity=64K\n)",
    "/wait BLOCK_JOB_COMPLETED device=job0 timeout=30",
    "/help blockdev-add",
    "query-status",
]


def prefixes() -> list[str]:
    """Every prefix of every realistic line: what the completer sees while typing."""
    return [line[:cut] for line in LINES for cut in range(len(line) + 1)]


def timed(function: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def bench_index(entries: list[Any]) -> SchemaIndex:
    runs = [timed(SchemaIndex.from_entries, entries) for _ in range(20)]
    print(f"index build: median {statistics.median(r[0] for r in runs) * 1000:.2f} ms over 20 runs")
    return runs[0][1]  # type: ignore[no-any-return]


def bench_completion(index: SchemaIndex) -> None:
    texts = prefixes() * 3
    shell = commands.names()
    latencies = sorted(timed(lambda t: suggest(t, index, shell_commands=shell), text)[0] for text in texts)
    p99 = latencies[int(len(latencies) * 0.99)]
    print(
        f"completion: {len(texts)} prefixes, median {statistics.median(latencies) * 1000:.3f} ms, "
        f"p99 {p99 * 1000:.3f} ms, max {latencies[-1] * 1000:.3f} ms"
    )


def run_once(argv: list[str], env: dict[str, str]) -> None:
    subprocess.run(argv, env=env, capture_output=True, check=True)


def bench_startup() -> None:
    with tempfile.TemporaryDirectory(prefix="qs-") as directory:
        qemu = Qemu(Path(directory))
        env = {**os.environ, "XDG_CACHE_HOME": os.path.join(directory, "cache")}
        argv = [sys.executable, "-m", "qmpshell", qemu.socket, "-c", "query-status"]
        try:
            runs = [timed(run_once, argv, env)[0] for _ in range(6)]
        finally:
            qemu.stop()
    print(
        f"startup + one command: first run (fetch schema) {runs[0] * 1000:.0f} ms, "
        f"with cache median {statistics.median(runs[1:]) * 1000:.0f} ms over 5 runs"
    )


def main() -> None:
    entries = json.loads(CAPTURE.read_text())
    index = bench_index(entries)
    bench_completion(index)
    bench_startup()


if __name__ == "__main__":
    main()
