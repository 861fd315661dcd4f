"""C7: a reply of 200,000 rows is laid out off the UI thread and shown bounded: its first rows, then
'first N rows of M; /json or /save reply for all'; /save reply writes all of it; keys still echo."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

from tests.fakeserver import GREETING, line
from tests.tmux_support import start_qmpshell

ROWS = 200_000


class BigServer:
    """Answers ``query-chardev`` with ``ROWS`` rows, everything else with ``{}``."""

    def __init__(self, path: str) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        rows = [
            {"label": f"c{n}", "filename": f"unix:/run/c{n}.sock", "frontend-open": False}
            for n in range(ROWS)
        ]
        self.rows: Any = rows
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
                    conn.sendall(line({**self._answer(command), "id": command.get("id")}))

    def _answer(self, command: dict[str, Any]) -> dict[str, Any]:
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
