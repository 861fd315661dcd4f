"""Starting the full-screen shell: its link to the servers, its events pane, then ``Repl.run``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qmpshell.config import Settings
from qmpshell.repl.app import Repl
from qmpshell.repl.fleet import Where
from qmpshell.repl.keeper import open_session
from qmpshell.repl.panes import Watched

if TYPE_CHECKING:
    from qmpshell.protocol.launch import LaunchedQemu
    from qmpshell.protocol.logfile import MessageLog


def run_repl(
    address: Where,
    settings: Settings,
    *,
    log: MessageLog | None = None,
    launched: LaunchedQemu | None = None,
    watched: Watched | None = None,
) -> int:
    """Connect, run the full-screen shell until Ctrl-D, /quit or a stop signal; the exit status.

    ``watched``: lines to show in the output as they come (others' traffic through ``--proxy``)."""
    connection, feed = open_session(address, settings, log=log)
    try:
        repl = Repl(connection, feed, settings, launched=launched)
        if watched is not None:
            watched.subscribe(lambda line, as_json: repl.arrived_lines.append((line, as_json)))
        return repl.run()
    finally:
        connection.close()
