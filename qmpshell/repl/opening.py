"""Opening the interactive shell: the line mode, or the full screen with its instant prompt
(``repl.instant``): connected first, then the frame drawn with what the server said, and only
then the full screen's own modules and prompt_toolkit imported.

Nothing here imports prompt_toolkit before the frame is drawn (the link, the status bar's and the
prompt's texts come from modules that do not either: an import-linter contract says so).
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Mapping

from qmpshell.config import Settings
from qmpshell.protocol.privatefile import is_discard, open_append
from qmpshell.repl import instant
from qmpshell.repl.choice import Where, wants_line_mode
from qmpshell.repl.connection import EventRelay, Link
from qmpshell.repl.fleet import open_link
from qmpshell.repl.widgets import (
    EventsVisibility,
    pane_columns,
    prompt_fragments,
    status_fragments,
    welcome_text,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.protocol.launch import LaunchedQemu
    from qmpshell.protocol.logfile import MessageLog


def run_interactive(
    address: Where,
    settings: Settings,
    *,
    log: MessageLog | None,
    launched: LaunchedQemu | None,
    watched: Any = None,
) -> int:
    """The full screen, or the line mode on a dumb or tiny terminal (or with --line); the status."""
    size = os.get_terminal_size(sys.stdout.fileno())
    if wants_line_mode(settings, environ=os.environ, size=size):
        from qmpshell.repl.linemode import run_line_mode

        return run_line_mode(address, settings, log=log, launched=launched, watched=watched)
    arrived: deque[tuple[str, str]] = deque()  # --proxy traffic, kept from now on
    if watched is not None:
        watched.subscribe(lambda line, as_json: arrived.append((line, as_json)))
    relay = EventRelay()  # events wait here until the events pane exists
    link = open_link(address, settings, log=log, on_event=relay)
    try:
        _make_history_file(settings)
        frame = first_frame(link, settings, size, environ=os.environ)
        sys.stdout.flush()  # nothing of ours may come after the frame's escape sequences
        enabled = settings.instant_prompt
        with instant.shown(
            frame, enabled=enabled, stdin=sys.stdin.fileno(), stdout=sys.stdout.fileno()
        ) as shown:
            from qmpshell.repl.start import run_repl

            return run_repl(link, relay, settings, launched=launched, arrived=arrived, instant=shown)
    finally:
        link.close()


def first_frame(
    link: Link, settings: Settings, size: os.terminal_size, *, environ: Mapping[str, str]
) -> instant.Frame:
    """The frame the full screen starts with: its status bar and prompt, as its first draw has them."""
    shown = link.status()
    events = EventsVisibility(shown=settings.events_pane, min_columns=settings.events_pane_min_columns)
    status = status_fragments(shown, busy=False, width=size.columns, reconnecting=settings.reconnect)
    prompt = prompt_fragments(link.shell.hmp, False, target=link.name)
    colour = settings.color == "always" or (settings.color == "auto" and not environ.get("NO_COLOR"))
    return instant.Frame(
        prompt="".join(text for _, text, *_ in prompt),
        status="".join(text for _, text, *_ in status),
        columns=size.columns,
        rows=size.lines,
        colour=colour,
        hmp=link.shell.hmp,
        welcome=welcome_text(str(link.address), shown.version, server=shown.server, width=size.columns),
        events_columns=pane_columns(settings.events_pane_width, size.columns)
        if events.shown(size.columns)
        else 0,
    )


def _make_history_file(settings: Settings) -> None:
    """The history file made (0600, the user's own) before the frame, as before the screen first
    drew: a path refused (a link, another user's file) is said before any screen, and what the
    frame shows ready has its file.  ``repl.history`` opens it again for the session."""
    path = settings.history_file
    if path is None or is_discard(path):
        return
    try:
        os.close(open_append(path, what="history file", warn=lambda text: None))
    except OSError:
        pass  # said once by the history itself, which then keeps this session's lines in memory
