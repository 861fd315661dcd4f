"""W12: the status bar keeps the run state whatever the server calls it: a long status string is cut,
never dropped (nor written raw)."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

from tests.fakeserver import GREETING, line
from tests.tmux_support import start_qmpshell

LONG_STATE = "paused-for-a-reason-this-server-explains-at-great-length-" * 4


class StatusServer:
    """Answers ``query-status`` with a very long status string, everything else with ``{}``."""

    def __init__(self, path: str) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.sendall(line(GREETING))
            decoder, pending = json.JSONDecoder(), ""
            while data := conn.recv(65536):
                pending += data.decode()
                while pending.strip():
                    try:
                        command, end = decoder.raw_decode(pending.lstrip())
                    except json.JSONDecodeError:
                        break
                    pending = pending.lstrip()[end:]
                    conn.sendall(line({"return": self._answer(command), "id": command.get("id")}))

    @staticmethod
    def _answer(command: dict[str, Any]) -> Any:
        if command.get("execute") == "query-status":
            return {"status": LONG_STATE, "running": False}
        if command.get("execute") == "query-qmp-schema":
            return []
        return {}


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
