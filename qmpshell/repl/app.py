"""The interactive shell: a full-screen prompt_toolkit application over one ``Shell``.

Statements run on a worker thread so the screen stays live; their outcome is
handed back to the event loop with ``call_soon_threadsafe``.  Events arrive on
the client's reader thread and only touch the ``EventFeed``; a ticker on the
event loop redraws when it is dirty (at most every ``REDRAW_INTERVAL``) and,
once a second, tries to reconnect a lost connection.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable

from prompt_toolkit.buffer import Buffer
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import merge_key_bindings
from prompt_toolkit.output import Output
from prompt_toolkit.widgets import SearchToolbar

from qmpshell.config import Settings
from qmpshell.errors import EXIT_OK, QmpShellError
from qmpshell.language.prefix import split_target
from qmpshell.language.statements import Assembler
from qmpshell.outcomes import Outcome
from qmpshell.repl import styled
from qmpshell.repl.background import Background, call_result
from qmpshell.repl.besidewait import BesideWait
from qmpshell.repl.completion import (
    Completions,
    completion_in_flight,
    doc_hints,
    enter_in_menu,
    enter_when_answered,
    refresh_menu,
)
from qmpshell.repl.connection import Link
from qmpshell.repl.core import InteractiveCore
from qmpshell.repl.hmpcomplete import HmpNames, fetch_hmp_names
from qmpshell.repl.inputqueue import InputQueue
from qmpshell.repl.keys import build_key_bindings
from qmpshell.repl.layout import build_screen, full_screen_application, input_area
from qmpshell.repl.lexer import InputLexer
from qmpshell.repl.panekeys import PaneKeys
from qmpshell.repl.panes import EventFeed
from qmpshell.repl.rendered import Rendered
from qmpshell.repl.search import output_key_bindings
from qmpshell.repl.stopsignals import StopSignals
from qmpshell.repl.toolbar import signature_line
from qmpshell.repl.transcript import print_transcript
from qmpshell.repl.widgets import output_notice, pane_columns, status_fragments
from qmpshell.shell import Shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.protocol.launch import LaunchedQemu

REDRAW_INTERVAL = 0.05  # seconds: events show within this, and a flood costs at most 20 redraws a second

Result = Callable[[], None]


class Repl:
    """The application state: panes, input, the command in flight and the reconnect ticker."""

    def __init__(
        self,
        connection: Link,
        feed: EventFeed,
        settings: Settings,
        *,
        input: Input | None = None,
        output: Output | None = None,
        launched: LaunchedQemu | None = None,
        arrived_lines: deque[tuple[str, str]] | None = None,
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.feed = feed
        self.background = Background(lambda: self.app.invalidate())
        self.in_background = self.background.run  # work on a thread, its result on the event loop
        shown = settings.events_pane
        self.core = InteractiveCore(
            connection, feed, settings, screen=self, events_shown=shown, relayout=True, launched=launched
        )
        self.log, self.search, self.events_view = self.core.log, self.core.search, self.core.events_view
        # --proxy traffic (line, as JSON), from before the start too (an empty deque is still theirs)
        self.arrived_lines = arrived_lines if arrived_lines is not None else deque()
        self.entry = InputQueue(self.core.remember, hmp=self.shell.hmp)
        self.busy = False
        self.waits = BesideWait(self.core, self.in_background)
        self._doing_shown = ""  # the status bar's last "waiting for ..." (Shell.doing)
        self.completions = Completions(is_hmp=lambda: self.shell.hmp, hints=lambda: doc_hints(self.shell))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drawn = False  # the first prompt is on the screen
        self._stop_signals = StopSignals(self._leave_with)
        search = SearchToolbar()
        self.input = input_area(
            prompt=self._prompt,
            lexer=InputLexer(lambda: self.shell.hmp),
            completer=self.completions.completer(),
            history=self.core.history,
            accept=self.accept,
            search=search,
        )
        self.screen = build_screen(
            log=self.log,
            feed=feed,
            events_shown=lambda: self.events_shown,
            events_columns=lambda: pane_columns(settings.events_pane_width, self.width()),
            input_line=self.input,
            search=search,
            status=self._status,
            signature=self._signature,
            decorate=self.search.decorate,
            output_notice=lambda width: output_notice(
                following=self.log.following, searching=self.search.describe(), width=width
            ),
            queued=self.entry.queued_fragments,
            fit=self.core.drawn.fit if self.core.drawn is not None else None,
        )
        self.pane = PaneKeys.for_screen(self.core, self.screen, self.input, width=self.width)
        bindings = merge_key_bindings([build_key_bindings(self, self.pane), output_key_bindings(self.pane)])
        self.app = full_screen_application(self.screen.layout, bindings, settings, input=input, output=output)

    @property
    def shell(self) -> Shell:
        """The current target's shell (``/use`` changes it)."""
        return self.connection.shell

    def _prompt(self) -> StyleAndTextTuples:
        return self.core.prompt(pending=self.assembler.pending)

    def target_changed(self) -> None:
        """``/use``: completion and the toolbar follow the new current target."""
        self.in_background(self._learn_server, call_result)

    @property
    def assembler(self) -> Assembler:
        return self.entry.assembler

    def width(self) -> int:
        """The terminal's width in columns."""
        return self.app.output.get_size().columns

    def presentation(self) -> styled.Presentation:
        """How replies are shown now: the session's format, the output pane's width, the schema."""
        info = self.screen.output_window.render_info
        width = info.window_width if info is not None else self.width() * (3 if self.events_shown else 5) // 5
        return self.core.presentation_at(width)

    @property
    def events_shown(self) -> bool:
        return self.events_view.shown(self.width())

    def _status(self) -> StyleAndTextTuples:
        status = self.connection.status()
        reconnecting = self.settings.reconnect  # it keeps trying, once a second
        exited = self.core.keeper.qemu_exited
        width = self.width()
        busy, awaited = self.busy or self.waits.active, self.shell.doing
        return status_fragments(
            status, busy=busy, width=width, reconnecting=reconnecting, exited=exited, awaited=awaited
        )

    def _signature(self) -> str:
        """The toolbar: what the command on the input line takes (``toolbar.signature_line``), from
        the schema of the target the line names (``@dst migrate-incoming``), else the current one's."""
        text = self.input.buffer.document.text_before_cursor
        target, line = split_target(text)
        named = self.connection.members().get(target) if target else None
        if named is not None:
            return signature_line(named.shell, line, redraw=self.app.invalidate)
        return signature_line(self.shell, text, redraw=self.app.invalidate)

    # -- running -----------------------------------------------------------------------

    def run(self, *, main_thread: bool = True, screen_gone: Callable[[], None] = lambda: None) -> int:
        """Until Ctrl-D or /quit; ``main_thread`` false in tests (no signals, errors raised).

        SIGTERM, SIGHUP and SIGQUIT leave like Ctrl-D (status 128 + the signal): prompt_toolkit
        restores the terminal, then ``screen_gone`` the instant prompt's modes, before the caller
        stops a launched QEMU."""
        self.core.welcome()
        try:
            result = self.app.run(
                pre_run=lambda: self._started(signals=main_thread),
                handle_sigint=main_thread,
                set_exception_handler=main_thread,
            )
        finally:
            screen_gone()
            self._stop_signals.restore()
            self.completions.close()
            if self.settings.transcript:
                print_transcript(self.core.transcript(), sys.stdout, limit=self.settings.transcript_lines)
        self.core.keeper.goodbye()
        return EXIT_OK if result is None else result

    def _started(self, *, signals: bool = False) -> None:
        self._loop = self.background.loop = asyncio.get_running_loop()
        if signals:
            self._stop_signals.install(self._loop)
        self.app.create_background_task(self._ticker())
        self.app.after_render += self._learn_once_drawn

    def _learn_once_drawn(self, _app: object) -> None:
        """After the first draw: the worker's imports and schema loading would hold the GIL
        while the first prompt is being drawn (issue 26: a usable prompt first)."""
        if not self._drawn:
            self._drawn = True
            self.in_background(self._learn_server, call_result)

    def _leave_with(self, status: int) -> None:
        if not self.app.is_done:
            self.app.exit(result=status)

    def _learn_server(self) -> Result:
        """Worker thread: run state, schema knowledge and HMP names; once per connection."""
        self.completions.prepare()  # the completer's modules, here rather than on the first Tab
        self.core.learn_server()
        client = self.connection.client
        # The guest agent has no HMP; the storage daemon has one over QMP (qmpshell.hmp).
        timeout, probe = self.settings.connect_timeout, self.settings.probe
        fetch = None if client.agent else lambda: fetch_hmp_names(client, timeout=timeout, probe=probe)
        names = fetch() if fetch is not None and self.shell.hmp else None  # else on an HMP line's Tab
        if probe:  # --quiet-monitor: a cached schema that fits is not asked for again
            self.in_background(self._confirm_schema, call_result)  # a cached schema: asked again

        def learnt() -> None:
            self.completions.refresh_link(
                self.connection, names or HmpNames({}, {}), on_ready=self._live_values_ready
            )
            self.completions.hmp_later(fetch if names is None else None)

        return learnt

    def _confirm_schema(self) -> Result:
        """Worker thread: a cached schema that is not the server's is replaced, and completion with it."""
        if not self.connection.confirm_schema():
            return lambda: None
        client = self.connection.client

        def replaced() -> None:
            self.core.show_warnings()
            self.completions.refresh(self.shell, client, HmpNames({}, {}), on_ready=self._live_values_ready)

        return replaced

    def _live_values_ready(self) -> None:
        """Worker thread: a live answer arrived; a Tab that found nothing yet shows it at once."""
        loop, buffer = self._loop, self.input.buffer
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(refresh_menu, loop, buffer, self.completions, self.app.invalidate)

    async def _ticker(self) -> None:
        """Coalesced redraws for events; connection watch and reconnect attempts (``keeper``)."""
        while True:
            await asyncio.sleep(REDRAW_INTERVAL)
            if self.feed.dirty or self.shell.doing != self._doing_shown:  # events; a /job's progress
                self.feed.dirty, self._doing_shown = False, self.shell.doing
                self.app.invalidate()
            if self.arrived_lines:
                while self.arrived_lines:
                    line, as_json = self.arrived_lines.popleft()
                    self.core.show_watched(line, as_json)
                self.app.invalidate()
            if not self.busy and self.core.show_warnings():  # between statements (the schema cache's)
                self.app.invalidate()
            self.core.keeper.tick()

    def say(self, lines: list[StyleAndTextTuples]) -> None:
        """What the keeper says (a lost connection, QEMU's stderr): into the output pane."""
        for line in lines:
            self.log.add(line)
        self.app.invalidate()

    def reconnected(self) -> None:
        self.in_background(self._learn_server, call_result)

    # -- input ---------------------------------------------------------------------------

    def accept(self, buffer: Buffer) -> bool:
        """Enter: each line held runs now, or after the command in flight (type-ahead).

        The buffer is emptied here, so prompt_toolkit adds nothing to the
        history: ``InputQueue`` adds each statement whole once it is complete.
        """
        self.entry.add(buffer.text)
        buffer.reset()
        self.log.follow()
        if not self.busy:
            self._next_line()
        return False

    def paste(self, data: str) -> None:
        """Bracketed paste: the text goes in the input (which grows); a final newline runs it.

        Every pasted line then runs as if typed and entered, so
        ``query-status⏎query-name⏎`` is two commands, as in QEMU's monitor.
        """
        buffer = self.input.buffer
        buffer.insert_text(data.replace("\r\n", "\n").replace("\r", "\n"))
        if buffer.text.endswith("\n") and buffer.cursor_position == len(buffer.text):
            buffer.validate_and_handle()

    def _next_line(self) -> None:
        """Feed waiting lines to the assembler until one starts a command on the worker."""
        while not self.busy and (text := self.entry.take()) is not None:
            statement = self.core.enter_line(self.entry, text)
            if statement is not None:
                self._reload_history()
                self.submit(statement.text)

    def _reload_history(self) -> None:
        """Up finds the statement just remembered, even one that ran from the queue (text kept)."""
        buffer = self.input.buffer
        if buffer.complete_state is None:
            buffer.reset(document=buffer.document)

    def submit(self, text: str) -> None:
        """Parse and run on a worker thread: parsing may ask QEMU (a device's properties).

        ``begin`` comes first, on the event loop, so that a Ctrl-C in the same
        key burst as Enter stops this statement whenever the worker gets to it.
        """
        self.shell.help_width = self.presentation().width  # /help wraps to the pane as it is now
        if self.waits.takes(text):  # a /wait runs beside: the lines typed meanwhile run
            self.waits.start(text)
            return
        self.busy = True
        self.shell.begin()
        self.completions.hold()  # what it makes is offered by a Tab typed meanwhile, once it has run
        self.in_background(lambda: self.core.run(text), self._finished)

    def _finished(self, result: Outcome | QmpShellError | Rendered | None) -> None:
        self.busy = False
        self.completions.ended(self.shell, self.connection.client, on_ready=self._live_values_ready)
        if result is not None:
            self.core.show(result)
        self._next_line()

    def propose(self, line: str) -> None:
        """``/example``: a line to edit on the input line, not run (unless something is typed there)."""
        if not self.input.buffer.text:
            self.input.buffer.text = line
            self.input.buffer.cursor_position = len(line)

    def mode_changed(self, *, hmp: bool) -> None:
        """The shell switched its mode: the input line follows (prompt, lexer, continuation); the
        server's HMP names are asked for now, before the first Tab needs them."""
        self.assembler.hmp = hmp
        if hmp:
            self.in_background(self._ask_hmp_names, call_result)

    def _ask_hmp_names(self) -> Result:
        """Worker thread: HMP mode started, so the server's HMP names are asked for (once)."""
        self.completions.hmp()
        return lambda: None

    # -- KeyActions --------------------------------------------------------------------

    def interrupt(self) -> None:
        """Ctrl-C: stop waiting for a reply (and drop the queued lines), else drop what is half-typed."""
        if self.busy:
            self.core.cancel()
            told = self.entry.discard_queue()
        elif self.waits.stop():  # a /wait beside: it ends, what is typed stays
            return
        else:
            self.input.buffer.reset()
            told = self.entry.discard_pending()
        if told:
            self.log.add(styled.info(told))

    def completing(self) -> bool:
        return self.input.buffer.complete_state is not None

    def enter_in_menu(self) -> None:
        buffer = self.input.buffer
        if completion_in_flight(buffer) and self._loop is not None:
            asked = lambda: self.completions.asked_text  # noqa: E731 - read when the menu answers
            enter_when_answered(self._loop, buffer, asked, buffer.validate_and_handle)
        elif enter_in_menu(buffer, asked=self.completions.asked_text):
            buffer.validate_and_handle()

    def input_is_empty(self) -> bool:
        return not self.input.buffer.text

    def quit(self) -> None:
        if not self.app.is_done:
            self.app.exit(result=EXIT_OK)
