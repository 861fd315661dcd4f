"""Benchmark: QEMU's documentation in /help and in the completion menu, against a real QEMU.

Run: ``python3 tests/bench/bench_docs.py [--rounds R] [--completions N]`` (QEMU: qemu-system-x86_64
on $PATH, or the one $QMPSHELL_TEST_QEMU names).

- **/help blockdev-add driver=qcow2, cold**: a new session with an empty cache: the manual is
  found, read, parsed and cached (budget 300 ms).  The best of R rounds, each with a fresh cache.
- **the same, cache warm**: a new session whose cache holds the parsed manual.
- **the same, warm**: the second /help of a session (budget 20 ms).
- **completion**: the menu for ``blockdev-add driver=qcow2 `` N times with the docs' first sentences
  and N times without, in turns; the docs may add at most 2 ms to the p99.  Measured as the thread's
  CPU time: on a shared machine (2 cores, several test suites) wall-clock p99s are other processes'.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from prompt_toolkit.completion import CompleteEvent  # noqa: E402
from prompt_toolkit.document import Document  # noqa: E402

from qmpshell.language.parse import parse_statement  # noqa: E402
from qmpshell.protocol.address import parse_address  # noqa: E402
from qmpshell.protocol.client import Client  # noqa: E402
from qmpshell.protocol.events import EventLog  # noqa: E402
from qmpshell.repl.completer import ShellCompleter  # noqa: E402
from qmpshell.repl.completion import doc_hints  # noqa: E402
from qmpshell.schema.knowledge import knowledge_for  # noqa: E402
from qmpshell.schema.live import source_for  # noqa: E402
from qmpshell.shell import Shell  # noqa: E402
from tests.qemu_support import Qemu  # noqa: E402

HELP = "/help blockdev-add driver=qcow2"
LINE = "blockdev-add driver=qcow2 "


def help_time(client: Client, *, times: int = 1) -> list[float]:
    """A new session's first (and later) /help, in seconds."""
    shell = Shell(client, EventLog(), knowledge=knowledge_for(client, use_cache=False))
    request = parse_statement(HELP)
    assert request is not None
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        shell.run(request)
        spent.append(time.perf_counter() - start)
    return spent


def settle() -> None:
    """Wait for the thread that parses the rest of the page and caches it (not part of a /help)."""
    for thread in threading.enumerate():
        if thread.name == "qmpshell-docs":
            thread.join()


def bench_help(client: Client, cache: str, rounds: int) -> None:
    cold, cached, warm = [], [], []
    for _ in range(rounds):
        shutil.rmtree(cache, ignore_errors=True)
        cold.append(help_time(client)[0])
        settle()
        first, *later = help_time(client, times=6)
        cached.append(first)
        warm.extend(later)
    report("/help cold (parse and cache)", min(cold), 0.300)
    report("/help first of a session, cache warm", min(cached), None)
    report("/help warm (second of a session)", sorted(warm)[len(warm) // 2], 0.020)


def bench_completion(client: Client, count: int) -> None:
    shell = Shell(client, EventLog(), knowledge=knowledge_for(client, use_cache=False))
    source = source_for(shell.knowledge, client.execute, on_ready=lambda: None)
    with_docs = ShellCompleter(lambda: source, hints=lambda: doc_hints(shell))
    without = ShellCompleter(lambda: source)
    list(with_docs.get_completions(Document(LINE), CompleteEvent()))  # the manual is read once here
    settle()
    spent: dict[str, list[float]] = {"with docs": [], "without docs": []}
    for _ in range(count):  # taken in turns, so that both meet the same load from other processes
        for name, completer in (("without docs", without), ("with docs", with_docs)):
            start = time.thread_time()
            list(completer.get_completions(Document(LINE), CompleteEvent()))
            spent[name].append(time.thread_time() - start)
    results = {name: sorted(times)[int(count * 0.99)] for name, times in spent.items()}
    medians = {name: sorted(times)[count // 2] for name, times in spent.items()}
    print(
        f"completion median: without docs {medians['without docs'] * 1000:.2f} ms, "
        f"with docs {medians['with docs'] * 1000:.2f} ms"
    )
    added = results["with docs"] - results["without docs"]
    print(
        f"completion p99: without docs {results['without docs'] * 1000:.2f} ms, "
        f"with docs {results['with docs'] * 1000:.2f} ms"
    )
    report("completion: p99 added by the docs", added, 0.002)


def report(what: str, seconds: float, budget: float | None) -> None:
    verdict = (
        "" if budget is None else ("  (ok)" if seconds <= budget else f"  (OVER {budget * 1000:.0f} ms)")
    )
    print(f"{what}: {seconds * 1000:.2f} ms{verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--completions", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qs-") as directory:
        os.environ["XDG_CACHE_HOME"] = os.path.join(directory, "cache")
        qemu = Qemu(Path(directory))
        client = Client(parse_address(qemu.socket))
        try:
            client.connect()
            print(f"QEMU {client.server_version}")
            bench_help(client, os.path.join(directory, "cache", "qmpshell-docs"), args.rounds)
            bench_completion(client, args.completions)
        finally:
            settle()
            client.close()
            qemu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
