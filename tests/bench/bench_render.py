"""Benchmark (not a test): the time to render the largest captured replies for people.

Run from the repository root: ``python -m tests.bench.bench_render``.

For each reply: ``view`` is ``render_reply`` (the view engine: rows of styled
text), ``screen`` adds what the interactive shell does to show them
(``repl.show.reply``: prompt_toolkit fragments, JSON highlighted by pygments).
The baseline, measured in the same run, is what the shell did before the views:
the reply as indented JSON through the same highlighter.  The aim is under
50 ms for every view.  Last, the cost the first reply pays once (importing the
views after the shell's own modules), and a check that starting the shell does not
import them.
"""

from __future__ import annotations

import gzip
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from qmpshell.outcomes import Reply
from qmpshell.output.render import json_text
from qmpshell.output.views import render_reply
from qmpshell.repl import styled
from qmpshell.repl.lexer import _json_fragments_cached, json_fragments
from qmpshell.schema.index import SchemaIndex

DATA = Path(__file__).parent.parent / "data"
AIM_MS = 50.0


def replies() -> list[tuple[str, str, dict[str, Any]]]:
    """(label, command, response): the biggest replies the captures hold."""
    schema = json.loads((DATA / "qemu-7.2-schema.json").read_text())
    with gzip.open(DATA / "qemu-7.2-large.json.gz", "rt", encoding="utf-8") as file:
        large = json.load(file)
    small = {
        entry["name"]: entry for entry in json.loads((DATA / "qemu-7.2-replies.json").read_text())["replies"]
    }
    return [
        ("query-qmp-schema (JSON fallback)", "query-qmp-schema", {"return": schema}),
        ("qom-list-types (table)", "qom-list-types", large["qom-list-types"]["response"]),
        ("query-pci, q35 (tree)", "query-pci", small["query-pci"]["response"]),
        (
            "query-named-block-nodes, 50-deep chain",
            "query-named-block-nodes",
            large["query-named-block-nodes-50"]["response"],
        ),  # fmt: skip
        ("query-commands (columns)", "query-commands", small["query-commands"]["response"]),
        ("query-block, 3-deep chain (tree)", "query-block", small["query-block"]["response"]),
    ]


def median_ms(function: Callable[[], object], runs: int = 15) -> tuple[float, float]:
    """Median and worst of ``runs`` calls, in milliseconds (the highlighter's cache cleared each time)."""
    times = []
    for _ in range(runs):
        _json_fragments_cached.cache_clear()
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def json_before(response: dict[str, Any]) -> object:
    """What the shell showed before the views: indented JSON, highlighted."""
    return json_fragments(json_text(response, pretty=True))


def bench(index: SchemaIndex) -> bool:
    print(
        f"{'reply':42} {'bytes':>8} {'view':>9} {'screen':>9} {'worst':>8} {'JSON before':>12} {'ratio':>6}"
    )
    within = True
    for label, command, response in replies():
        reply = Reply({"execute": command}, response)
        presentation = styled.Presentation("auto", 100, index)
        view, _ = median_ms(partial(render_reply, response, command=command, width=100, index=index))
        screen, worst = median_ms(partial(styled.reply, reply, presentation))
        before, _ = median_ms(partial(json_before, response))
        size = len(json.dumps(response))
        within = within and worst < AIM_MS
        print(
            f"{label:42} {size:>8} {view:>7.2f}ms {screen:>7.2f}ms {worst:>6.1f}ms {before:>10.2f}ms "
            f"{screen / before:>6.2f}"
        )
    return within


def first_use() -> None:
    """Importing the views once the shell's own modules are loaded (paid once, at the first reply),
    and their absence from the shell's start-up imports."""
    code = (
        "import time, qmpshell.cli, qmpshell.repl.app; t = time.perf_counter(); "
        "import qmpshell.output.views; print(time.perf_counter() - t)"
    )
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)
        for _ in range(5)
    ]
    median = statistics.median(runs) * 1000
    print(f"importing the views at the first reply (after the shell's own imports): median {median:.1f} ms")
    check = (
        "import sys, qmpshell.cli, qmpshell.repl.app, qmpshell.batch; "
        "light = {'render', 'safe', 'events', 'rows'}; "
        "print(sorted(m for m in sys.modules if m.startswith('qmpshell.output.') and m[16:] not in light))"
    )
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True).stdout.strip()
    print(f"view modules imported by starting the shell: {loaded} (the views load at the first reply)")


def main() -> None:
    index = SchemaIndex.from_entries(json.loads((DATA / "qemu-7.2-schema.json").read_text()))
    within = bench(index)
    print(f"every view under {AIM_MS:.0f} ms (worst of 15): {'yes' if within else 'NO'}")
    first_use()


if __name__ == "__main__":
    main()
