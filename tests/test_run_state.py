"""The status bar's run state after a state that passes with no event to say so.

After a migration's ``STOP``, QEMU is in ``finish-migrate`` for a moment and then in
``postmigrate``, and no event says when it changed; the status bar asked once and could show
``paused (finish-migrate)`` for good (tests/test_tmux_events_daily.py's migration test, now and
then).  A real QEMU cannot be held in that moment on demand, so a fake server plays it.
"""

from __future__ import annotations

from pathlib import Path

from qmpshell.config import Settings
from qmpshell.protocol.address import parse_address
from qmpshell.qmptypes import Message
from qmpshell.repl.connection import Connection
from tests.fakeserver import AnsweringServer


class MigratedServer(AnsweringServer):
    """``query-status`` says ``finish-migrate`` twice, then ``postmigrate``."""

    def __init__(self, path: str) -> None:
        self.statuses = ["finish-migrate", "finish-migrate", "postmigrate"]
        super().__init__(path)

    def answer(self, command: Message) -> Message:
        if command.get("execute") != "query-status":
            return {"return": {}}
        state = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"return": {"status": state, "running": False, "singlestep": False}}


def test_a_run_state_that_passes_without_an_event_is_asked_again(tmp_path: Path) -> None:
    path = str(tmp_path / "qmp.sock")
    server = MigratedServer(path)
    connection = Connection(parse_address(path), Settings(), log=None, on_event=lambda event: None)
    try:
        connection.refresh_run_state()
        assert connection.run_state == "paused (postmigrate)"
        asked = [message for message in server.received if message.get("execute") == "query-status"]
        assert len(asked) == 3
    finally:
        connection.close()
        server.stop.set()
