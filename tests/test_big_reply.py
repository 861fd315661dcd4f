"""C7: a reply of 200,000 rows is laid out off the UI thread and shown bounded: its first rows, then
'first N rows of M; /json or /save reply for all'; /save reply writes all of it; keys still echo."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.fakeserver import AnsweringServer
from tests.qemu_support import run_qmpshell
from tests.tmux_support import start_qmpshell

ROWS = 200_000


class BigServer(AnsweringServer):
    """Answers ``query-chardev`` with ``ROWS`` rows, everything else with ``{}``."""

    def __init__(self, path: str) -> None:
        rows = [
            {"label": f"c{n}", "filename": f"unix:/run/c{n}.sock", "frontend-open": False}
            for n in range(ROWS)
        ]
        self.rows: Any = rows
        super().__init__(path)

    def answer(self, command: dict[str, Any]) -> dict[str, Any]:
        name = command.get("execute")
        if name == "query-qmp-schema":  # none, like qemu-ga: the shell then sends what is typed
            return {"error": {"class": "CommandNotFound", "desc": "no schema here"}}
        return {"return": self.rows if name == "query-chardev" else {}}


def test_two_hundred_thousand_rows_are_shown_bounded_and_saved_whole(short_dir: Path, tmp_path: Path) -> None:
    server = BigServer(str(short_dir / "big.sock"))
    saved = short_dir / "all.json"
    tmux = start_qmpshell(tmp_path, str(short_dir / "big.sock"))
    try:
        started = time.monotonic()
        tmux.enter("query-chardev")
        tmux.type("typed while it renders")
        tmux.wait_for("first 2,000 rows of 200,000; /json or /save reply for all", timeout=30)
        shown = time.monotonic() - started
        assert "typed while it renders" in tmux.input_line()
        tmux.send("C-u")
        tmux.enter(f"/save reply {saved}")
        tmux.wait_for(f"lines to {saved}", timeout=30)
        print(f"\n{ROWS} rows shown (bounded) {shown:.1f} s after Enter")
    finally:
        tmux.close()
        server.listener.close()
    text = saved.read_text()
    body = text[text.index("{") :]
    assert json.loads(body)["return"] == server.rows


def test_batch_human_format_shows_the_first_rows_and_says_how_to_get_all(short_dir: Path) -> None:
    """Batch ``--format human`` of a huge reply: before, every row was laid out (1M rows: 28 s, 1.5 GB)."""
    server = BigServer(str(short_dir / "big.sock"))
    try:
        started = time.monotonic()
        result = run_qmpshell(str(short_dir / "big.sock"), "--format", "human", "-c", "query-chardev")
        took = time.monotonic() - started
    finally:
        server.listener.close()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == f"(first 2,000 rows of {ROWS:,}; --format json prints them all)"
    assert len(lines) < 2_100 and "c1999" in result.stdout and "c2000 " not in result.stdout
    assert took < 30, took
