"""The shell commands only the interactive front-end carries out: ``/events``, ``/reconnect``, ``/clear``."""

from __future__ import annotations

from typing import Protocol

from qmpshell.language.parse import ShellRequest
from qmpshell.repl import show
from qmpshell.repl.panes import EventFeed, OutputLog

EVENTS_USAGE = "usage: /events [on|off|clear|filter PATTERN...]"


class FrontEnd(Protocol):
    """The parts of the application these commands act on."""

    log: OutputLog
    feed: EventFeed
    events_shown: bool

    def try_reconnect(self) -> None: ...


class FrontEndCommands:
    """Dispatches a ``FrontEndCommand`` outcome to the application."""

    def __init__(self, app: FrontEnd) -> None:
        self.app = app

    def run(self, request: ShellRequest) -> None:
        if request.name == "events":
            self.events(request.words)
        elif request.name == "reconnect":
            self.reconnect()
        elif request.name == "clear":
            self.app.log.clear()

    def events(self, words: tuple[str, ...]) -> None:
        """``/events`` toggles; ``on``/``off``; ``clear``; ``filter PATTERN...`` (none: show all)."""
        action, args = (words[0], words[1:]) if words else ("toggle", ())
        if action == "toggle":
            self.app.events_shown = not self.app.events_shown
        elif action in ("on", "off"):
            self.app.events_shown = action == "on"
        elif action == "clear":
            self.app.feed.clear()
        elif action == "filter":
            self.app.feed.set_filter(args)
            shown = " ".join(args) if args else "all events"
            self.app.log.add(show.info(f"events pane shows: {shown}"))
        else:
            self.app.log.add(show.error(EVENTS_USAGE))

    def reconnect(self) -> None:
        self.app.try_reconnect()
