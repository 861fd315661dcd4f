"""The shell commands only the interactive front-end carries out.

``/events`` (state, on/off, clear, show N, list [N] [PATTERN], filter), ``/find``, ``/save``,
``/format``, ``/reconnect``, ``/relaunch`` and ``/clear``: each acts on the panes, so the
``Shell`` (which has no screen) hands them here as a ``FrontEndCommand``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping

from prompt_toolkit.formatted_text import StyleAndTextTuples

from qmpshell.errors import QmpShellError, UsageError
from qmpshell.language.requests import ShellRequest
from qmpshell.numbers import whole_number
from qmpshell.output.events import event_line
from qmpshell.output.render import event_time, json_text
from qmpshell.output.rows import Line
from qmpshell.output.safe import visible
from qmpshell.records import Protocol
from qmpshell.repl import styled
from qmpshell.repl.lexer import json_fragments
from qmpshell.repl.panes import EventFeed, OutputLog
from qmpshell.repl.savescript import SessionScript
from qmpshell.repl.search import OutputSearch
from qmpshell.repl.transcript import quoted_words, save_text
from qmpshell.repl.widgets import EventsVisibility

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FORMATS_SAID = {
    "auto": "tables, trees and text; /json or '| json' for the JSON",
    "json": "indented JSON",
    "compact": "JSON on one line",
}
EVENTS_USAGE = "usage: /events [on|off|clear|show [N]|list [N] [PATTERN]|filter PATTERN...]"
EVENTS_LISTED = 10  # /events list without N
SAVE_USAGE = "usage: /save [reply|script] FILE"
Handler = Callable[[ShellRequest], None]
ONE_TARGET_MIGRATE = (
    "/migrate SRC DST [URI]: needs two targets (qmpshell SRC-ADDR DST-ADDR, or --launch-pair)"
)


class FrontEnd(Protocol):
    """The parts of the application these commands act on."""

    log: OutputLog
    feed: EventFeed
    events_view: EventsVisibility
    search: OutputSearch
    output_format: str
    script: SessionScript

    def width(self) -> int: ...

    def presentation(self) -> styled.Presentation: ...

    def try_reconnect(self) -> None: ...

    def relaunch(self) -> None: ...

    def use(self, words: tuple[str, ...]) -> None: ...

    def targets(self) -> None: ...


class FrontEndCommands:
    """Carries out a ``FrontEndCommand`` outcome: one handler per front-end command of the table.

    ``overrides`` replaces a handler where a front-end differs (the line mode
    has no pane to scroll, so its ``/find`` prints the matching lines).
    """

    def __init__(self, app: FrontEnd, *, overrides: Mapping[str, Handler] | None = None) -> None:
        self.app = app
        self.handlers: dict[str, Handler] = {
            "events": lambda request: self.events(request.words),
            "reconnect": lambda request: self.app.try_reconnect(),
            "relaunch": lambda request: self.app.relaunch(),
            "clear": lambda request: self.app.log.clear(),
            "find": lambda request: self.find(request.rest),
            "save": lambda request: self.save(quoted_words(request.rest)),
            "format": lambda request: self.set_format(request.words),
            "use": lambda request: self.app.use(request.words),
            "targets": lambda request: self.app.targets(),
            "migrate": lambda request: self.app.log.add(styled.error(ONE_TARGET_MIGRATE)),
            **(overrides or {}),
        }

    def run(self, request: ShellRequest) -> None:
        try:
            self.handlers[request.name](request)
        except QmpShellError as err:
            self.app.log.add(styled.failure(err))

    def set_format(self, words: tuple[str, ...]) -> None:
        """``/format``: what replies look like now; ``/format auto|json|compact`` changes it."""
        if words:
            self.app.output_format = words[0]
        self.app.log.add(
            styled.info(f"replies: {self.app.output_format} ({FORMATS_SAID[self.app.output_format]})")
        )

    def events(self, words: tuple[str, ...]) -> None:
        """``/events``: how the pane is; ``on``/``off``; ``clear``; ``show [N]``; ``filter PATTERN...``."""
        action, args = (words[0], words[1:]) if words else ("", ())
        view = self.app.events_view
        if not action:
            self.app.log.add(styled.info(self._state()))
        elif action in ("on", "off") and not args:
            view.choice = action == "on"
        elif action == "clear" and not args:
            self.app.feed.clear()
        elif action == "show" and len(args) <= 1:
            self.show_event(args[0] if args else "1")
        elif action == "list" and len(args) <= 2:
            self.list_events(args)
        elif action == "filter":
            self.app.feed.set_filter(args)
            shown = " ".join(args) if args else "all events"
            self.app.log.add(styled.info(f"events pane shows: {shown}"))
        else:
            self.app.log.add(styled.error(EVENTS_USAGE))

    def _state(self) -> str:
        feed = self.app.feed
        shown = " ".join(feed.patterns) if feed.patterns else "all events"
        return "\n".join(
            [
                f"events pane: {self.app.events_view.describe(self.app.width())}",
                f"filter: {shown}; {feed.kept()} kept of at most {feed.limit}",
                "/events show [N] prints the N-th newest in full",
            ]
        )

    def show_event(self, which: str) -> None:
        """The N-th newest event the pane shows (1: the newest), pretty-printed into the output."""
        events = self.app.feed.events()
        number = whole_number(which)
        if number is None or number < 1:
            self.app.log.add(styled.error("/events show N: N counts back from the newest event, 1 first"))
            return
        if number > len(events):
            self.app.log.add(styled.info(f"the events pane holds {len(events)} event(s)"))
            return
        self.app.log.add(event_in_full(events[-number], number, self.app.presentation()))

    def list_events(self, args: tuple[str, ...]) -> None:
        """``/events list [N] [PATTERN]``: the last N kept events (matching PATTERN) in full, oldest first."""
        count, pattern = EVENTS_LISTED, "*"
        for arg in args:
            number = whole_number(arg)
            if number is None:
                pattern = arg
            elif number < 1:
                raise UsageError("/events list N: N is how many events, 1 or more")
            else:
                count = number
        kept = [event for _, event in self.app.feed.arrivals()]  # the pane's filter does not apply
        matching = [e for e in kept if fnmatch.fnmatchcase(str(e.get("event", "")), pattern)]
        if not matching:
            self.app.log.add(styled.info(f"no events{'' if pattern == '*' else ' matching ' + pattern} kept"))
            return
        chosen = matching[-count:]
        which = "" if pattern == "*" else f" matching {pattern}"
        lines: list[Line] = [[("header", f"the last {len(chosen)} of {len(matching)} events{which}")]]
        self.app.log.add(styled.view_fragments(lines + [event_line(event) for event in chosen]))

    def find(self, text: str) -> None:
        """``/find TEXT`` shows the newest match; no match, or no TEXT, is said in the output."""
        notice = self.app.search.find(_unquoted(text), before=self.app.log.last_statement())
        if self.app.search.current is None:
            self.app.log.add(styled.info(notice))

    def save(self, words: tuple[str, ...]) -> None:
        """``/save FILE``: the whole output pane; ``/save reply FILE``: the statement before and its reply;
        ``/save script FILE``: the session's statements as a script (``repl.savescript``)."""
        log = self.app.log
        this = log.last_statement()  # the /save line itself
        if len(words) == 2 and words[0] == "script":
            count = self.app.script.save(words[1])
            log.add(styled.info(f"saved {count} statements as a script to {words[1]} (run it with -f)"))
            return
        if len(words) == 2 and words[0] == "reply":
            start, path = log.last_statement(before=this), words[1]
        elif len(words) == 1:
            start, path = 0, words[0]
        else:
            log.add(styled.error(SAVE_USAGE))
            return
        count = save_text(path, log.text(start, this), warn=lambda text: log.add(styled.warning(text)))
        self.app.log.add(styled.info(f"saved {count} lines to {path}"))


def event_in_full(
    event: dict[str, Any], number: int, presentation: styled.Presentation = styled.JSON_PRESENTATION
) -> StyleAndTextTuples:
    """``/events show``: a heading with the time and name, then the data in the view that fits it
    (with ``/format json`` or ``compact``: the whole event as indented JSON)."""
    heading = f"event {number} (newest is 1): {event_time(event)} {visible(str(event.get('event', '?')))}\n"
    fragments: StyleAndTextTuples = [("class:info", heading)]
    if presentation.format == "auto":
        from qmpshell.output.events import render_event

        body = render_event(event, width=presentation.width, index=presentation.index).lines[1:]
        return fragments + styled.view_fragments(body or [[("dim", "  (no data)")]])
    fragments.extend(json_fragments(json_text(event, pretty=True)))
    fragments.append(("", "\n"))
    return fragments


def _unquoted(text: str) -> str:
    """``/find "a b"`` searches for ``a b``; unquoted text is taken as written."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
