"""The interactive core: what the full screen and the line mode share, written once.

ptpython runs both of its front-ends through one controller; so do we.  The
core owns the session's output (``OutputLog``), the events feed, the history
file, ``/format``, the front-end commands, and the handling of every outcome:
the welcome line, warnings, failures, a mode switch, ``/quit``.  Its
``ConnectionKeeper`` (``keeper``) keeps the connection: a lost connection,
reconnecting, ``/relaunch`` and a ``--launch``ed QEMU's exit, in one wording.
A front-end only draws and reads keys: it tells the core how wide it is and how
replies look (``Screen``), and the core tells it what to say, that the mode
changed, or to leave; the front-end's ticker (the line mode's events thread)
calls ``keeper.tick``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prompt_toolkit.formatted_text import StyleAndTextTuples

from qmpshell.config import Settings
from qmpshell.errors import QmpShellError, UsageError
from qmpshell.language.prefix import ALL, split_target
from qmpshell.language.redact import line_has_secret, public_statement
from qmpshell.language.statements import Statement
from qmpshell.migration import Side, migrate, parse_migrate
from qmpshell.outcomes import Exit, FrontEndCommand, Info, ModeChanged, Outcome, Reply
from qmpshell.records import NamedTuple, Protocol
from qmpshell.repl import styled
from qmpshell.repl.connection import Link
from qmpshell.repl.fleet import Fleet
from qmpshell.repl.frontend import FrontEndCommands, Handler
from qmpshell.repl.history import make_history
from qmpshell.repl.inputqueue import InputQueue
from qmpshell.repl.keeper import ConnectionKeeper
from qmpshell.repl.panes import EventFeed, OutputLog, watched_text
from qmpshell.repl.relayout import Relayout
from qmpshell.repl.rendered import Rendered, render
from qmpshell.repl.savescript import SessionScript
from qmpshell.repl.search import OutputSearch
from qmpshell.repl.widgets import EventsVisibility, prompt_fragments, welcome_text
from qmpshell.shell import Shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.protocol.launch import LaunchedQemu

MODE_SAID = {
    True: "HMP mode: lines go to the human monitor; /qmp returns to QMP",
    False: "QMP mode",
}


class Screen(Protocol):
    """What the core asks of a front-end."""

    def width(self) -> int: ...

    def presentation(self) -> styled.Presentation: ...

    def mode_changed(self, *, hmp: bool) -> None: ...

    def quit(self) -> None:
        """``/quit``, or a launched QEMU quit (then from the keeper's thread): end the session."""

    def propose(self, line: str) -> None: ...

    def target_changed(self) -> None: ...

    def say(self, lines: list[StyleAndTextTuples]) -> None:
        """The keeper's lines (a lost connection, QEMU's stderr): into the output, shown now."""

    def in_background(self, work: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """``work()`` on a worker, then ``then(result)`` where the output may be touched."""

    def reconnected(self) -> None:
        """The connection is back (or a new QEMU's): learn the server again."""


class Grouped(NamedTuple):
    """``@all LINE``: each target's outcome (or failure), shown under its name."""

    results: list[tuple[str, Outcome | QmpShellError | Rendered | None]]


class InteractiveCore:
    """One interactive session's state and its outcome handling, for either front-end."""

    def __init__(
        self,
        connection: Link,
        feed: EventFeed,
        settings: Settings,
        *,
        screen: Screen,
        events_shown: bool,
        overrides: Mapping[str, Handler] | None = None,
        relayout: bool = False,
        launched: LaunchedQemu | None = None,
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.feed = feed
        self.screen = screen
        self.log = OutputLog()
        self.output_format = settings.output_format  # /format changes it for the session
        self.search = OutputSearch(self.log)
        # The full screen lays replies out again when its pane changes width; the line mode's are printed.
        self.drawn = Relayout(self.log, self.search) if relayout else None
        self.events_view = EventsVisibility(shown=events_shown, min_columns=settings.events_pane_min_columns)
        self.history = make_history(
            settings.history_file,
            is_hmp=lambda: self.shell.hmp,
            size=settings.history_size,
            warn=self.shell.warnings.warn,
        )
        self.script = SessionScript()  # /save script: the statements run, with how each ended
        self.frontend = FrontEndCommands(self, overrides=overrides)
        self.keeper = ConnectionKeeper(  # a lost connection, reconnecting, /relaunch, --launch's QEMU
            connection,
            settings,
            feed=feed,
            launched=launched,
            say=screen.say,
            in_background=screen.in_background,
            leave=screen.quit,
            on_reconnected=screen.reconnected,
        )

    @property
    def shell(self) -> Shell:
        """The current target's shell (``/use`` changes it)."""
        return self.connection.shell

    # -- FrontEnd (what /events, /find, /save, /format act on) --------------------------

    def width(self) -> int:
        return self.screen.width()

    def presentation(self) -> styled.Presentation:
        return self.screen.presentation()

    def presentation_at(self, width: int) -> styled.Presentation:
        """How replies are shown in ``width`` columns: the session's format, the current schema."""
        from qmpshell.schema.index import index_of  # the worker imports it after the first draw

        return styled.Presentation(
            self.output_format, styled.reply_width(width), index_of(self.shell.knowledge)
        )

    def try_reconnect(self) -> None:
        self.keeper.try_reconnect()

    def relaunch(self) -> None:
        self.keeper.relaunch()

    # -- the session ------------------------------------------------------------------

    def transcript(self) -> str:
        """What the exit prints: the output pane's lines (cleared ones too) and, unless
        ``interactive.transcript_events`` is false, the events, all in the order they came."""
        from qmpshell.output.events import event_line
        from qmpshell.repl.transcript import in_time_order

        if not self.settings.transcript_events:
            return self.log.text()
        events = [(t, "".join(text for _, text in event_line(e))) for t, e in self.feed.arrivals()]
        return in_time_order(self.log.timed_lines(), events)

    def welcome(self, *, tab: bool = True) -> None:
        """The first line (what is connected, the keys to know) and the warnings so far."""
        client, status = self.connection.client, self.connection.status()
        address, width = str(self.connection.address), self.width()
        self.log.add(
            styled.info(welcome_text(address, status.version, server=status.server, tab=tab, width=width))
        )
        for warning in client.warnings:
            self.log.add(styled.warning(warning))
        members = self.connection.members()
        if len(members) > 1:
            names = ", ".join(f"{name} ({member.address})" for name, member in members.items())
            self.log.add(
                styled.info(
                    f"targets: {names}; lines go to {self.connection.name} (/use NAME, @NAME LINE, @all LINE)"
                )
            )
        self.show_warnings()

    def show_warnings(self) -> bool:
        """The warnings not shown yet go to the output; whether there were any."""
        warnings = self.shell.warnings.drain()
        for warning in warnings:
            self.log.add(styled.warning(warning))
        return bool(warnings)

    def prompt(self, *, pending: bool) -> StyleAndTextTuples:
        """The prompt: the mode, the current target (with several), ``...>`` in an unfinished statement."""
        return prompt_fragments(self.shell.hmp, pending, target=self.connection.name)

    def echo(self, text: str, *, pending: bool) -> None:
        """A line as entered, after its prompt, into the output; a statement's first line is marked."""
        prompt = "".join(fragment[1] for fragment in self.prompt(pending=pending))
        self.log.add(styled.echo(prompt, text, hmp=self.shell.hmp), mark=not pending)

    def enter_line(
        self, entry: InputQueue, text: str, *, echoed: Callable[[], None] = lambda: None
    ) -> Statement | None:
        """One line entered: on an empty ``...>`` line the unfinished statement is dropped; else the
        line is echoed (then ``echoed()``) and fed to the statement being assembled, which, once
        complete, the history keeps whole and the transcript without its secret, and is returned."""
        if entry.ends_pending(text):
            self.log.add(styled.info(entry.discard_pending()))
            return None
        self.echo(text, pending=entry.assembler.pending)
        echoed()
        statement = entry.feed(text, hmp=self.shell.hmp)
        if statement is not None:
            self.keep_secret_private(statement.text)
        return statement

    def show_watched(self, line: str, as_json: str) -> None:
        """A line of another client's traffic (``--proxy``), in the form ``/format`` asks for."""
        self.log.add(styled.info(watched_text(line, as_json, self.output_format)))

    def show(self, result: Outcome | QmpShellError | Rendered | Grouped) -> None:
        """The one place an outcome (or a failure) becomes output, for both front-ends."""
        self.show_warnings()
        if isinstance(result, QmpShellError):
            self.log.add(styled.failure(result))
        elif isinstance(result, Exit):
            self.screen.quit()
        elif isinstance(result, ModeChanged):
            self.screen.mode_changed(hmp=result.hmp)  # the shell has switched itself
            self.log.add(styled.info(MODE_SAID[result.hmp]))
            if result.note:  # what HMP offers on this server (qmpshell.hmp)
                self.log.add(styled.info(result.note))
        elif isinstance(result, FrontEndCommand):
            self.frontend.run(result.request)
        elif isinstance(result, Grouped) and (table := _side_by_side(result)):
            self.log.add([("", table + "\n")])
        elif isinstance(result, Grouped):
            for name, each in result.results:
                self.log.add([("class:info", f"\u2500\u2500 {name} \u2500\u2500\n")])
                if each is not None:
                    self.show(each)
        elif isinstance(result, Rendered):
            start = self.log.end
            self.log.add(result.fragments, public=result.public)
            if self.drawn is not None:
                self.drawn.add(start, result.outcome, result.presentation, result.public)
            if isinstance(result.outcome, Info) and result.outcome.edit:
                self.screen.propose(result.outcome.edit)  # /example: a line to edit, not run
        else:
            self.show(render(result, self.presentation()))  # laid out here: an outcome not from a worker

    def run(self, text: str) -> Outcome | QmpShellError | Rendered | Grouped | None:
        """Worker thread: parse, run, and lay out what is shown (a big reply costs the worker, not
        the screen); a failure is returned.  ``@NAME LINE`` runs on that target, ``@all LINE`` on
        each in turn (see ``qmpshell.repl.fleet``).

        A line entered before the schema is loaded waits for it (at most ``--connect-timeout``),
        so it is checked and typed like any other rather than sent as typed.
        """
        if not self.connection.schema_ready.is_set():
            self.shell.doing = "loading the schema\u2026"
            self.connection.schema_ready.wait(self.settings.connect_timeout)
            self.shell.doing = ""
        hmp = self.shell.hmp
        result = self._routed(text)
        if isinstance(result, Grouped):
            failed = next((each for _, each in result.results if isinstance(each, QmpShellError)), None)
            self.script.add(text, hmp=hmp, result=failed)
            presentation = self.presentation()
            return Grouped(
                [
                    (name, each if isinstance(each, Rendered) else render(each, presentation))
                    for name, each in result.results
                ]
            )
        self.script.add(text, hmp=hmp, result=result, target=self._unnamed_target(text))
        return result if isinstance(result, QmpShellError) else render(result, self.presentation())

    def _unnamed_target(self, text: str) -> str:
        """The current target's name for a line that names none, in a session of several; else ''."""
        words = text.split(maxsplit=2)
        waits_on_one = words[:1] == ["/wait"] and len(words) > 1 and words[1].startswith("@")
        if len(self.connection.members()) < 2 or split_target(text).target or waits_on_one:
            return ""
        return self.connection.name

    def _routed(self, text: str) -> Outcome | QmpShellError | Grouped | None:
        """The statement run on the target it names (the current one when it names none)."""
        try:
            migration = parse_migrate(text.strip())
        except QmpShellError as err:
            return err
        if migration is not None and len(self.connection.members()) > 1:
            return self._migrate(*migration)
        target, line = split_target(text)
        if not target:
            return _run_on(self.shell, text)
        members = self.connection.members()
        if target == ALL:
            for member in members.values():
                member.shell.begin()
            return Grouped([(name, _run_on(member.shell, line)) for name, member in members.items()])
        named = members.get(target)
        if named is None and len(members) == 1:
            return UsageError(f"@{target}: this session has one target (give several addresses to name them)")
        if named is None:
            return UsageError(f"no target named '{target}' (the targets: {', '.join(members)})")
        named.shell.begin()
        return _run_on(named.shell, line)

    def _migrate(self, src: str, dst: str, uri: str) -> Outcome | QmpShellError:
        """``/migrate SRC DST [URI]`` between two of the session's targets (``qmpshell.migration``)."""
        members = self.connection.members()
        try:
            sides = [Side(name, members[name].shell) for name in (src, dst) if name in members]
            if len(sides) != 2:
                unknown = src if src not in members else dst
                raise UsageError(f"/migrate: no target named '{unknown}' (the targets: {', '.join(members)})")
            for side in sides:
                side.shell.begin()  # Ctrl-C from here on stops the waiting (``migration``)
            return migrate(
                sides[0], sides[1], uri, timeout=self.settings.timeout, progress=self.shell.progress
            )
        except QmpShellError as err:
            return err

    def cancel(self) -> None:
        """Ctrl-C: stop waiting, on whichever target the statement went to."""
        for member in self.connection.members().values():
            member.shell.cancel()

    def use(self, words: tuple[str, ...]) -> None:
        """``/use NAME``: lines without a prefix go to that target from now on."""
        if len(words) != 1:
            raise UsageError("usage: /use NAME")
        if not isinstance(self.connection, Fleet):
            raise UsageError("/use: this session has one target (give several addresses to switch)")
        member = self.connection.use(words[0])
        self.log.add(styled.info(f"lines now go to {member.name} ({member.address})"))
        self.screen.target_changed()

    def targets(self) -> None:
        """``/targets``: each target's kind, version, run state and connection state."""
        if not isinstance(self.connection, Fleet):
            raise UsageError("/targets: this session has one target")
        self.log.add(styled.info(self.connection.table()))

    def learn_server(self) -> None:
        """Worker thread, once per connection: the run state and the schema."""
        if self.settings.probe:  # --quiet-monitor: the run state comes from events only
            self.connection.refresh_run_state()
        self.connection.load_knowledge()

    def keep_secret_private(self, statement: str) -> None:
        """A statement with a secret stays on the screen; the transcript and ``/save`` get it redacted."""
        if line_has_secret(statement, hmp=self.shell.hmp):
            prompt = "hmp> " if self.shell.hmp else "qmp> "
            self.log.keep_private(self.log.last_statement(), f"{prompt}{public_statement(statement)}")

    def remember(self, entry: str) -> None:
        """Keep a statement in the history file, unless it repeats the one before."""
        strings = self.history.get_strings()
        if entry.strip() and (not strings or strings[-1] != entry):
            self.history.append_string(entry)


SIDE_BY_SIDE = frozenset({"query-migrate"})  # @all shows these as one table, a column per target


def _side_by_side(grouped: Grouped) -> str:
    """``@all query-migrate``: one table when every target answered (see ``output.sidebyside``)."""
    outcomes = [
        (name, each.outcome if isinstance(each, Rendered) else each) for name, each in grouped.results
    ]
    replies = [(name, each) for name, each in outcomes if isinstance(each, Reply)]
    if len(replies) != len(grouped.results) or not all(
        reply.ok and not reply.as_json and reply.command in SIDE_BY_SIDE for _, reply in replies
    ):
        return ""
    from qmpshell.output.sidebyside import side_by_side

    return side_by_side([(name, reply.response.get("return")) for name, reply in replies])


def _run_on(shell: Shell, text: str) -> Outcome | QmpShellError | None:
    try:
        request = shell.parse(text)
        return shell.run(request) if request is not None else None
    except QmpShellError as err:
        return err
