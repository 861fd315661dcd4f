"""Benchmark: qmpshell at QEMU's own pace, against bare clients measured in the same run (issue 26).

Run: ``python3 tests/bench/bench_pace.py [--qemu PATH] [--count N] [--rounds R] [--one-shots S]
[--only ROW]``.

Every row pairs a qmpshell run with a bare Python client doing the same work on the same QEMU, run in
alternating order round after round (so both meet the same load), and prints the median of the
per-round ratios with their spread, the median times and the load average:

- ``-k / bare pipelined``: N ``query-status`` lines piped into ``qmpshell -k``; the bare client
  negotiates ``oob`` when offered, writes all N messages (with ids) at once while a reader thread reads
  the replies: QEMU's own pace.
- ``mixed -k / bare pipelined``: no-argument queries, ``qom-get`` with arguments, a transaction and a
  raw JSON line; the bare client sends the messages ``qmpshell -n`` makes of the same script.
- ``strict / bare strict``: N lines one at a time, against a loop that sends a message and reads its
  reply (the same messages, with ids, as qmpshell sends).
- ``one-shot / bare one-shot``: ``qmpshell SOCK -c query-status`` (schema cache warm) against a bare
  one-shot (connect, greeting, ``qmp_capabilities``, one command, print the reply).
- ``-c qom-get / bare one-shot``: a line with arguments, which needs the schema.
- ``one-shot / qmp-shell``: against QEMU's ``qmp-shell`` reading the line on stdin (if installed).

``--instructions`` runs each side once under valgrind's callgrind and prints the ratio of the
user-space instructions they execute: a figure a busy machine does not move (it leaves out the
kernel's work and, for scripts, the waiting on QEMU, so it is the CPU cost, not the wall time).

Whole processes with the same interpreter; modules are byte-compiled first (a pip-installed package
is). Not collected by pytest (``norecursedirs`` in pyproject.toml).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

# The bare clients take the socket path as argv[1]; the script ones read the messages (one JSON
# object a line, with ids) on stdin and write the raw reply lines to stdout.
HELLO = r"""
import json, socket, sys
sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
reader = sock.makefile("rb")
greeting = json.loads(reader.readline())
"""
BARE_PIPELINED = (
    HELLO
    + r"""
import threading
hello = {"execute": "qmp_capabilities"}
if "oob" in greeting["QMP"].get("capabilities", []):
    hello["arguments"] = {"enable": ["oob"]}
sock.sendall(json.dumps(hello).encode() + b"\n")
reader.readline()
messages = sys.stdin.buffer.read()
count = messages.count(b"\n")
out = sys.stdout.buffer
def read():
    seen = 0
    while seen < count:
        line = reader.readline()
        if not line:
            raise SystemExit("the server went away")
        if not line.startswith(b'{"timestamp"'):  # events are not replies
            out.write(line)
            seen += 1
thread = threading.Thread(target=read)
thread.start()
sock.sendall(messages)
thread.join()
out.flush()
"""
)
BARE_STRICT = (
    HELLO
    + r"""
sock.sendall(b'{"execute":"qmp_capabilities"}\n')
reader.readline()
out = sys.stdout.buffer
for message in sys.stdin.buffer:
    sock.sendall(message)
    line = reader.readline()
    while line.startswith(b'{"timestamp"'):
        line = reader.readline()
    out.write(line)
out.flush()
"""
)
BARE_ONE_SHOT = (
    HELLO
    + r"""
sock.sendall(b'{"execute":"qmp_capabilities"}\n')
reader.readline()
sock.sendall(sys.argv[2].encode() + b"\n")
while True:
    reply = json.loads(reader.readline())
    if "event" not in reply:
        break
print(json.dumps(reply))
"""
)

MIXED_BLOCK = (
    "query-status",
    "query-name",
    "qom-get path=/machine property=type",
    "transaction( block-dirty-bitmap-add node=disk0 name=bm{i} )",
    "block-dirty-bitmap-remove node=disk0 name=bm{i}",
    '{{"execute":"query-version"}}',
)


class Run:
    """One contender: argv, what it reads on stdin and how many replies it must print."""

    def __init__(self, argv: list[str], stdin: bytes = b"", replies: int = 0) -> None:
        self.argv, self.stdin, self.replies = argv, stdin, replies

    def time(self) -> float:
        started = time.perf_counter()
        result = subprocess.run(self.argv, input=self.stdin, capture_output=True, check=False)
        elapsed = time.perf_counter() - started
        answered = result.stdout.count(b'"return"') + result.stdout.count(b"'return'")
        if result.returncode != 0 or answered < self.replies:
            detail = result.stderr.decode(errors="replace")[-500:]
            counts = f"status {result.returncode}, {answered}/{self.replies} replies"
            raise SystemExit(f"{self.argv[:5]}: {counts}: {detail}")
        return elapsed

    def instructions(self) -> int:
        """User-space instructions the process runs (callgrind): the same on a busy machine."""
        argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *self.argv]
        result = subprocess.run(argv, input=self.stdin, capture_output=True, check=False)
        found = re.search(rb"Collected : (\d+)", result.stderr)
        if result.returncode != 0 or found is None:
            raise SystemExit(f"{argv[:6]}: status {result.returncode}: {result.stderr.decode()[-500:]}")
        return int(found.group(1))


def load() -> str:
    return "load " + " ".join(f"{figure:.2f}" for figure in os.getloadavg())


def compare(name: str, mine: Run, theirs: Run, rounds: int, *, instructions: bool = False) -> None:
    """Alternate the two runs ``rounds`` times; print the median ratio, its spread and the times.
    ``instructions``: once each under callgrind, the ratio of their instructions instead."""
    if instructions:
        ours, bare = mine.instructions(), theirs.instructions()
        print(f"  {name:34s} {ours / bare:5.2f}x  ({ours / 1e6:7.1f} vs {bare / 1e6:7.1f} M instructions)")
        return
    before = load()
    ratios, my_times, their_times = [], [], []
    for round_number in range(rounds):
        order = (mine, theirs) if round_number % 2 == 0 else (theirs, mine)
        times = {id(run): run.time() for run in order}
        my_times.append(times[id(mine)])
        their_times.append(times[id(theirs)])
        ratios.append(my_times[-1] / their_times[-1])
    print(
        f"  {name:34s} {statistics.median(ratios):5.2f}x  (spread {min(ratios):.2f}-{max(ratios):.2f};"
        f" {statistics.median(my_times) * 1000:7.1f} vs {statistics.median(their_times) * 1000:7.1f} ms;"
        f" {rounds} rounds; {before} -> {load().removeprefix('load ')})",
        flush=True,
    )


def qmpshell(*args: str) -> list[str]:
    """The console script a user runs, beside the interpreter (``-m qmpshell`` if absent)."""
    script = Path(PYTHON).parent / "qmpshell"
    return [str(script), *args] if script.exists() else [PYTHON, "-m", "qmpshell", *args]


def with_ids(lines: list[str]) -> bytes:
    """The messages as qmpshell sends them: each with an ``id``, compact separators aside."""
    framed = []
    for number, line in enumerate(lines, start=1):
        message = json.loads(line)
        message["id"] = number
        framed.append(json.dumps(message) + "\n")
    return "".join(framed).encode()


def mixed_script(count: int) -> str:
    blocks = range(count // len(MIXED_BLOCK))
    return "".join("".join(line.format(i=i) + "\n" for line in MIXED_BLOCK) for i in blocks)


def dry_run(socket_path: str, script: str) -> list[str]:
    """The JSON messages qmpshell makes of ``script`` (schema from the cache)."""
    argv = qmpshell("-n", socket_path)
    result = subprocess.run(argv, input=script.encode(), capture_output=True, check=True)
    return result.stdout.decode().splitlines()


def rows(socket_path: str, count: int, *, instructions: bool) -> dict[str, Callable[[int, int], None]]:
    status = ['{"execute": "query-status"}'] * count
    script = b"query-status\n" * count
    mixed = mixed_script(count)
    mixed_messages = dry_run(socket_path, mixed)
    one_shot = Run(qmpshell(socket_path, "-c", "query-status"), replies=1)
    bare_status = Run([PYTHON, "-c", BARE_ONE_SHOT, socket_path, '{"execute":"query-status"}'], replies=1)
    qom_get = '{"execute":"qom-get","arguments":{"path":"/machine","property":"type"}}'
    theirs = shutil.which("qmp-shell", path=os.path.dirname(PYTHON)) or shutil.which("qmp-shell")

    def pipelined(rounds: int, _: int) -> None:
        mine = Run(qmpshell("-k", socket_path), script, count)
        bare = Run([PYTHON, "-c", BARE_PIPELINED, socket_path], with_ids(status), count)
        compare(f"-k / bare pipelined ({count})", mine, bare, rounds, instructions=instructions)

    def mixed_pipelined(rounds: int, _: int) -> None:
        mine = Run(qmpshell("-k", socket_path), mixed.encode(), len(mixed_messages))
        bare = Run([PYTHON, "-c", BARE_PIPELINED, socket_path], with_ids(mixed_messages), len(mixed_messages))
        name = f"mixed -k / bare pipelined ({len(mixed_messages)})"
        compare(name, mine, bare, rounds, instructions=instructions)

    def strict(rounds: int, _: int) -> None:
        mine = Run(qmpshell(socket_path), script, count)
        bare = Run([PYTHON, "-c", BARE_STRICT, socket_path], with_ids(status), count)
        compare(f"strict / bare strict ({count})", mine, bare, rounds, instructions=instructions)

    def one_shots(_: int, runs: int) -> None:
        compare("one-shot / bare one-shot", one_shot, bare_status, runs, instructions=instructions)
        mine = Run(qmpshell(socket_path, "-c", "qom-get path=/machine property=type"), replies=1)
        bare = Run([PYTHON, "-c", BARE_ONE_SHOT, socket_path, qom_get], replies=1)
        compare("-c qom-get / bare one-shot", mine, bare, runs, instructions=instructions)
        if theirs:
            qemus_own = Run([PYTHON, theirs, socket_path], b"query-status\n", 1)
            compare("one-shot / qmp-shell", one_shot, qemus_own, runs, instructions=instructions)
        interpreter = Run([PYTHON, "-c", "pass"])
        compare("python -c pass / bare one-shot", interpreter, bare_status, runs, instructions=instructions)

    return {"pipelined": pipelined, "mixed": mixed_pipelined, "strict": strict, "one-shot": one_shots}


def site_kind() -> str:
    """Whether this Python loads an editable install's import finder at start (pip's default
    editable mode; ``scripts/setup`` uses a plain path): it costs both sides the same milliseconds,
    so it moves every one-shot ratio towards 1."""
    probe = "import sys; print(any(m.startswith('__editable__') for m in sys.modules))"
    loaded = subprocess.run([PYTHON, "-c", probe], capture_output=True, text=True).stdout.strip()
    return "editable finder at start" if loaded == "True" else "no import finder at start"


def start_qemu(binary: str, directory: str) -> tuple[subprocess.Popen[bytes], str]:
    """QEMU ``-M none`` with a null block node (``disk0``) for the transaction's bitmaps."""
    path = os.path.join(directory, "qmp.sock")
    argv = [binary, "-M", "none", "-nodefaults", "-display", "none"]
    argv += ["-blockdev", "driver=null-co,node-name=disk0", "-qmp", f"unix:{path},server=on,wait=off"]
    proc = subprocess.Popen(argv)
    deadline = time.monotonic() + 10
    while not os.path.exists(path):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("QEMU did not start")
        time.sleep(0.01)
    return proc, path


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--qemu", default=os.environ.get("QMPSHELL_TEST_QEMU", "qemu-system-x86_64"))
    parser.add_argument("--count", type=int, default=2000, help="lines of each script (default 2000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of each script row (default 7)")
    parser.add_argument("--one-shots", type=int, default=21, help="rounds of each one-shot row (default 21)")
    parser.add_argument("--only", action="append", choices=["pipelined", "mixed", "strict", "one-shot"])
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions (valgrind) instead of timing"
    )
    args = parser.parse_args()
    compileall.compile_dir(str(ROOT / "qmpshell"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="qs-pace-") as directory:
        qemu, path = start_qemu(args.qemu, directory)
        try:
            Run(qmpshell(path, "-c", "qom-get path=/machine property=type"), replies=1).time()  # warm cache
            version = subprocess.run([args.qemu, "--version"], capture_output=True, text=True).stdout
            print(f"{version.splitlines()[0]}; {os.cpu_count()} CPUs; {site_kind()}; qmpshell / baseline:")
            table = rows(path, args.count, instructions=args.instructions)
            for name in args.only or list(table):
                table[name](args.rounds, args.one_shots)
        finally:
            qemu.kill()
            qemu.wait()


if __name__ == "__main__":
    main()
