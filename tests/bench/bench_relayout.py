"""Benchmark (not a test): what F2 costs after a long session, now that replies are laid out again.

Run from the repository root: ``python -m tests.bench.bench_relayout [--replies N]``.

N replies captured from QEMU 10.0 (``tests/data``; tables, trees and columns of names, a few
hundred lines each at most) are added to an output log as the full screen adds them, at the width
of a 120-column terminal with the events pane shown.  Then the pane is drawn at the width the events
pane leaves when hidden and shown again, as F2 does: ``fit`` is the time ``Relayout.fit`` adds to
that drawing (the replies in view laid out again and spliced into the log).  ``all`` is what laying
out every reply again would cost, the baseline the lazy relayout avoids; ``idle`` is ``fit`` when the
width has not changed (every redraw pays it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from qmpshell.outcomes import Reply
from qmpshell.repl import styled
from qmpshell.repl.panes import OutputLog
from qmpshell.repl.relayout import Relayout
from qmpshell.repl.rendered import render
from qmpshell.repl.search import OutputSearch

CAPTURE = Path(__file__).parent.parent / "data" / "qemu-10.0-replies.json"
NARROW, WIDE, HEIGHT = 72, 120, 30  # the output pane beside the events pane, and alone


def session(count: int) -> tuple[OutputLog, Relayout, list[Reply]]:
    items = json.loads(CAPTURE.read_text())["replies"]
    replies = [Reply({"execute": item["execute"], "id": 1}, item["response"]) for item in items]
    log = OutputLog()
    drawn = Relayout(log, OutputSearch(log))
    for number in range(count):
        reply = replies[number % len(replies)]
        log.add(styled.echo("qmp> ", reply.command, hmp=False), mark=True)
        rendered = render(reply, styled.Presentation("auto", NARROW - 1))
        start = log.end
        log.add(rendered.fragments)
        drawn.add(start, reply, styled.Presentation("auto", NARROW - 1), None)
    drawn.fit(NARROW, HEIGHT)
    return log, drawn, [replies[number % len(replies)] for number in range(count)]


def milliseconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=2_000)
    count = parser.parse_args().replies
    log, drawn, replies = session(count)
    toggles = [milliseconds(lambda w=width: drawn.fit(w, HEIGHT)) for width in (WIDE, NARROW) * 5]
    idle = [milliseconds(lambda: drawn.fit(NARROW, HEIGHT)) for _ in range(100)]
    everything = milliseconds(
        lambda: [render(reply, styled.Presentation("auto", WIDE - 1)) for reply in replies]
    )
    print(f"{count} replies, {len(log.lines):,} lines kept ({log.dropped:,} fell off the top)")
    print(f"fit on F2: median {statistics.median(toggles):.1f} ms, worst {max(toggles):.1f} ms")
    print(f"fit when nothing changed: median {statistics.median(idle) * 1000:.1f} us")
    print(f"all replies laid out again (the baseline avoided): {everything:.0f} ms")


if __name__ == "__main__":
    main()
