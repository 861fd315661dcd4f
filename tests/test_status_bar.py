"""W12: the status bar keeps the run state whatever the server calls it: a long status string is cut,
never dropped (nor written raw)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.fakeserver import AnsweringServer
from tests.tmux_support import start_qmpshell

LONG_STATE = "paused-for-a-reason-this-server-explains-at-great-length-" * 4


class StatusServer(AnsweringServer):
    """Answers ``query-status`` with a very long status string, everything else with ``{}``."""

    def answer(self, command: dict[str, Any]) -> dict[str, Any]:
        if command.get("execute") == "query-status":
            return {"return": {"status": LONG_STATE, "running": False}}
        if command.get("execute") == "query-qmp-schema":
            return {"return": []}
        return {"return": {}}


def test_a_long_status_string_is_cut_not_dropped(short_dir: Path, tmp_path: Path) -> None:
    server = StatusServer(str(short_dir / "status.sock"))
    tmux = start_qmpshell(tmp_path, str(short_dir / "status.sock"))
    try:
        tmux.enter("query-name")
        bar = tmux.wait_for("paused (paused-for").splitlines()[-1]  # as the query-status view says it
        assert "\u2502 paused (paused-for" in bar and "\u2026" in bar, bar
        assert "QMP" in bar and "events: " in bar and "status.sock" in bar
    finally:
        tmux.close()
        server.listener.close()
