"""Capture the real QEMU replies the view tests and the benchmark read (run by hand, not by pytest).

    .venv/bin/python -m tests.data.capture_replies
    PATH=.venv/qemu-backports/bin:$PATH .venv/bin/python -m tests.data.capture_replies --replies-only

writes ``tests/data/qemu-X.Y-replies.json`` for the ``qemu-system-x86_64`` first on
``$PATH`` (every reply a view is tested on, and the events seen meanwhile) and,
unless ``--replies-only``, ``tests/data/qemu-X.Y-large.json.gz`` (the big ones for
``tests/bench/bench_render.py``: ``qom-list-types`` and ``query-named-block-nodes``
with a 50-deep backing chain).  7.2 is Debian 12's QEMU; 10.0 comes from backports.  The machine is
``tests.q35_support``'s q35 with a few devices and a qcow2 backing chain.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.q35_support import bridges_numbered, make_chain, start_q35
from tests.qemu_support import Qemu, RawPeer

HERE = Path(__file__).parent
Message = dict[str, Any]

# (name in the file, command, arguments)
QUERIES: list[tuple[str, str, Message]] = [
    ("query-status", "query-status", {}),
    ("query-version", "query-version", {}),
    ("query-name", "query-name", {}),
    ("query-kvm", "query-kvm", {}),
    ("query-uuid", "query-uuid", {}),
    ("query-block", "query-block", {}),
    ("query-named-block-nodes", "query-named-block-nodes", {}),
    ("query-cpus-fast", "query-cpus-fast", {}),
    ("qom-list", "qom-list", {"path": "/machine/peripheral/vblk0"}),
    ("qom-list-machine", "qom-list", {"path": "/machine"}),
    ("query-commands", "query-commands", {}),
    ("query-events", "query-events", {}),
    ("query-machines", "query-machines", {}),
    ("query-chardev", "query-chardev", {}),
    ("query-hotpluggable-cpus", "query-hotpluggable-cpus", {}),
    ("query-cpu-definitions", "query-cpu-definitions", {}),
    ("query-target", "query-target", {}),
    ("query-iothreads", "query-iothreads", {}),
    ("query-memdev", "query-memdev", {}),
    ("query-migrate-none", "query-migrate", {}),
    ("x-query-irq", "x-query-irq", {}),
    ("x-query-ramblock", "x-query-ramblock", {}),
    ("qom-list-types-abstract", "qom-list-types", {"implements": "pci-device", "abstract": True}),
    ("device_del-error", "device_del", {"id": "nosuch"}),
    ("qom-get", "qom-get", {"path": "/machine", "property": "type"}),
    ("query-tpm-types", "query-tpm-types", {}),
    ("query-blockstats", "query-blockstats", {}),
    ("human-monitor-command", "human-monitor-command", {"command-line": "info status"}),
    ("stop", "stop", {}),
]


def ask(peer: RawPeer, command: str, arguments: Message) -> Message:
    return peer.request(command, **arguments)


def record(replies: list[Message], name: str, command: str, arguments: Message, response: Message) -> None:
    entry: Message = {"name": name, "execute": command}
    if arguments:
        entry["arguments"] = arguments
    entry["response"] = response
    replies.append(entry)


def capture_jobs(peer: RawPeer, replies: list[Message]) -> None:
    """Two slow jobs (speed-limited) so that query-jobs and query-block-jobs list them running."""
    for target in ("target0", "target1"):
        peer.execute("blockdev-add", driver="null-co", **{"node-name": target, "size": 64 << 20})
    peer.execute("blockdev-backup", **{"job-id": "backup0", "device": "disk0", "target": "target0"},
                 sync="full", speed=65536)  # fmt: skip
    peer.execute("blockdev-mirror", **{"job-id": "mirror1", "device": "disk1", "target": "target1"},
                 sync="full", speed=65536)  # fmt: skip
    time.sleep(0.3)  # let the jobs make some progress, so offset is not 0 (not a test: a capture)
    for name, command in (
        ("query-jobs", "query-jobs"),
        ("query-block-jobs", "query-block-jobs"),
        ("query-named-block-nodes-jobs", "query-named-block-nodes"),
    ):
        record(replies, name, command, {}, ask(peer, command, {}))
    for job in ("backup0", "mirror1"):
        peer.execute("job-cancel", id=job)
    wait_for(lambda: not peer.execute("query-jobs"), "the jobs to end")


def capture_migration(peer: RawPeer, replies: list[Message]) -> None:
    peer.execute("migrate-set-parameters", **{"max-bandwidth": 4096})
    peer.execute("migrate", uri="exec:cat >/dev/null")
    wait_for(lambda: peer.execute("query-migrate").get("status") == "active", "an active migration")
    time.sleep(0.5)  # a few seconds' worth of pages sent (not a test: a capture)
    record(replies, "query-migrate-active", "query-migrate", {}, ask(peer, "query-migrate", {}))
    peer.execute("migrate-set-parameters", **{"max-bandwidth": 1 << 30})
    wait_for(lambda: peer.execute("query-migrate").get("status") == "completed", "the migration")
    record(replies, "query-migrate", "query-migrate", {}, ask(peer, "query-migrate", {}))


def deleted(peer: RawPeer) -> bool:
    peer.request("query-status")  # reads the events that came meanwhile
    return any(event["event"] == "DEVICE_DELETED" for event in peer.events)


def wait_for(predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def capture_small(directory: Path) -> Message:
    qemu = start_q35(directory)
    try:
        peer = qemu.aux
        replies: list[Message] = []
        for name, command, arguments in QUERIES:
            record(replies, name, command, arguments, ask(peer, command, arguments))
        peer.execute("cont")
        record(replies, "query-status-running", "query-status", {}, ask(peer, "query-status", {}))
        wait_for(lambda: bridges_numbered(peer), "the firmware to number the PCI bridges")
        record(replies, "query-pci", "query-pci", {}, ask(peer, "query-pci", {}))
        peer.execute("stop")
        record(replies, "query-status-paused", "query-status", {}, ask(peer, "query-status", {}))
        capture_jobs(peer, replies)
        peer.execute("device_del", id="tablet0")
        wait_for(lambda: deleted(peer), "DEVICE_DELETED")
        capture_migration(peer, replies)
        version = peer.greeting["QMP"]["version"]
        return {
            "qemu": f"{version['qemu']['major']}.{version['qemu']['minor']}.{version['qemu']['micro']} "
            f"{version['package'].strip()}",
            "machine": "tests/q35_support.py q35_argv (q35, 2 CPUs, disk0 on a 3-deep qcow2 chain)",
            "replies": replies,
            "events": peer.events,
        }
    finally:
        qemu.stop()


def capture_large(directory: Path) -> Message:
    top = make_chain(directory, 50)
    qemu = Qemu(directory, "-blockdev", f"driver=qcow2,node-name=top,file.driver=file,file.filename={top}")
    try:
        peer = qemu.aux
        large: Message = {}
        for name, command, arguments in (
            ("qom-list-types", "qom-list-types", {}),
            ("query-named-block-nodes-50", "query-named-block-nodes", {}),
        ):
            response = ask(peer, command, arguments)
            large[name] = {"execute": command, "arguments": arguments, "response": response}
        return large
    finally:
        qemu.stop()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="qs-cap-") as name:
        small = capture_small(Path(name))
    version = ".".join(small["qemu"].split(".")[:2])
    (HERE / f"qemu-{version}-replies.json").write_text(json.dumps(small, indent=1, ensure_ascii=False) + "\n")
    if "--replies-only" in sys.argv:
        return
    with tempfile.TemporaryDirectory(prefix="qs-cap-") as name:
        large = capture_large(Path(name))
    with gzip.open(HERE / f"qemu-{version}-large.json.gz", "wt", encoding="utf-8") as file:
        json.dump(large, file, ensure_ascii=False)
    subprocess.run(["ls", "-l", str(HERE)], check=False)


if __name__ == "__main__":
    main()
