"""Which completer the input line uses, and what it draws on for the current connection.

In HMP mode, the server's own command names and ``info`` subcommands; in QMP
mode the schema completer (``ShellCompleter``, written alongside) over a
``CompletionSource`` rebuilt after each (re)connect, as pgcli's completion
refresher does.  Both modules are optional: without them there is simply no
completion in QMP mode.  The schema completer (and the schema modules under it)
is imported by ``prepare`` on the worker thread after the first prompt is drawn,
or by the first completion (off the UI thread too): not before the first prompt.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping

from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import (
    CompleteEvent,
    Completer,
    Completion,
    DynamicCompleter,
    ThreadedCompleter,
)
from prompt_toolkit.document import Document

from qmpshell.output.safe import visible
from qmpshell.protocol import traffic
from qmpshell.protocol.session import QmpSession
from qmpshell.repl.hmpcomplete import HmpCompleter, HmpNames
from qmpshell.shell import Shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.repl.connection import Link
    from qmpshell.schema.live import CompletionSource, LiveValues

MENU_RETRY = 0.05  # seconds between looks at a menu still being computed


class Completions:
    """Holds the completion data of the current connection; ``completer()`` follows it."""

    def __init__(self, *, is_hmp: Callable[[], bool], hints: Callable[[], Any] = lambda: None) -> None:
        self.hmp_names = HmpNames({}, {})
        self.source: CompletionSource | None = None
        self.waiting_text: str | None = None  # the input when Tab asked for live values not yet known
        self.asked_text: str | None = None  # the input the last completion was computed for
        self._ready = threading.Event()  # set while there is a source
        self.targets: dict[str, CompletionSource] = {}  # several targets: each one's, for @NAME LINE
        self._is_hmp = is_hmp
        self._hints = hints
        self._schema: Completer | None = None
        self._making = threading.Lock()
        self._hmp_source: Callable[[], HmpNames] | None = None  # asks the server, on first need
        self._hmp_asking = threading.Lock()
        self._holding = False  # a statement runs: live values it may change are not final

    def hmp_later(self, fetch: Callable[[], HmpNames] | None) -> None:
        """After (re)connecting in QMP mode: how to ask this server for its HMP names, once needed."""
        self._hmp_source = fetch

    def hmp(self) -> HmpNames:
        """The server's HMP names, asked for when first needed (completion thread or worker): an HMP
        line or HMP mode.  A QMP session never pays for the HMP tables nor the server's ``help``."""
        with self._hmp_asking:
            fetch, self._hmp_source = self._hmp_source, None
            if fetch is not None:
                names = fetch()
                if names.commands:
                    self.hmp_names = names
        return self.hmp_names

    def prepare(self) -> Completer:
        """The schema completer, made (and its modules imported) on first use: call it on a worker."""
        with self._making:
            if self._schema is None:
                from qmpshell.repl.completer import ShellCompleter

                self._schema = ShellCompleter(
                    lambda: self.source,
                    hmp=self._is_hmp,
                    hmp_commands=lambda: self.hmp().commands,
                    hmp_completer=lambda: HmpCompleter(self.hmp()),
                    on_waiting=self._wait,
                    source_ready=self._ready.wait,
                    target_source=lambda name: self.targets.get(name),
                    target_names=lambda: list(self.targets),
                    hints=self._hints,
                )
            return self._schema

    def _wait(self, text: str | None) -> None:
        self.waiting_text = text

    def should_refresh(self, buffer: Buffer) -> bool:
        """A live answer arrived: complete again if Tab was waiting for it on this very text."""
        waiting, self.waiting_text = self.waiting_text, None
        return waiting is not None and waiting == buffer.text and not self._is_hmp()

    def completer(self) -> Completer:
        """For the input line: computed off the UI thread, switched with the mode."""
        return ThreadedCompleter(_Remembering(DynamicCompleter(self._current), self._asked))

    def _asked(self, text: str) -> None:
        self.asked_text = text

    def _current(self) -> Completer | None:
        """Called on the completion thread (``ThreadedCompleter``), never on the UI's."""
        if self._is_hmp():
            return HmpCompleter(self.hmp())
        return self.prepare()

    def refresh(
        self, shell: Shell, client: QmpSession, names: HmpNames, *, on_ready: Callable[[], None]
    ) -> None:
        """After (re)connecting: new HMP names and live values for this server."""
        from qmpshell.schema.live import source_for  # imported by ``prepare`` on the worker already

        if names.commands:
            self.hmp_names = names
        self.close()
        execute = traffic.marked(client.execute, traffic.COMPLETION)
        self.source = source_for(
            shell.knowledge, execute, on_ready=on_ready, live=shell.probe, unplugging=shell.pending_unplugs
        )
        self._ready.set()
        self._hold_new()
        on_ready()  # a Tab pressed before the source was there completes now

    def refresh_link(self, link: Link, names: HmpNames, *, on_ready: Callable[[], None]) -> None:
        """After (re)connecting or ``/use``: the current target's source, and each target's."""
        self.refresh(link.shell, link.client, names, on_ready=on_ready)
        self.refresh_targets({name: (member.shell, member.client) for name, member in link.members().items()})

    def refresh_targets(self, members: Mapping[str, tuple[Shell, QmpSession]]) -> None:
        """With several targets: each one's schema and live values, for the lines that name it."""
        from qmpshell.schema.live import source_for

        self._close_targets()
        if len(members) > 1:
            self.targets = {
                name: source_for(
                    shell.knowledge,
                    traffic.marked(client.execute, traffic.COMPLETION),
                    live=shell.probe,
                    unplugging=shell.pending_unplugs,
                )
                for name, (shell, client) in members.items()
            }
            self._hold_new()

    def _close_targets(self) -> None:
        for source in self.targets.values():
            if source.live is not None:
                source.live.close()
        self.targets = {}

    def hold(self) -> None:
        """A statement starts: node names, job ids, devices and QOM paths are not final until it ends
        (every target's: an ``@all`` line may change any), so a Tab typed ahead behind it offers what
        it made: within ``LIVE_WAIT``, or by completing again when it ends."""
        self._holding = True
        self._hold_new()

    def _hold_new(self) -> None:
        """A source made while a statement runs (the first connect's) holds too."""
        if self._holding:
            for live in self._lives():
                live.hold()

    def expire(self) -> None:
        """A statement ended: node names, job ids, devices and QOM paths are asked for again on Tab
        (at once for a Tab that waits for them)."""
        self._holding = False
        for live in self._lives():
            live.expire()

    def ended(self, shell: Shell, client: QmpSession, *, on_ready: Callable[[], None]) -> None:
        """A statement ended (``expire``); after ``/schema reload`` the source is made anew."""
        self.expire()
        from qmpshell.schema.index import index_of  # imported by the worker after the first draw

        if self.source is not None and self.source.index is not index_of(shell.knowledge):
            self.refresh(shell, client, HmpNames({}, {}), on_ready=on_ready)

    def _lives(self) -> list[LiveValues]:
        sources = [self.source, *self.targets.values()]
        return [source.live for source in sources if source is not None and source.live is not None]

    def close(self) -> None:
        self._close_targets()
        if self.source is not None and self.source.live is not None:
            self.source.live.close()
        self.source = None
        self._ready.clear()


class _Remembering(Completer):
    """Notes the text each completion is computed for: Tab may then insert a common part to it."""

    def __init__(self, inner: Completer, asked: Callable[[str], None]) -> None:
        self._inner = inner
        self._asked = asked

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        """Also the one place every candidate passes, QMP or HMP, schema, live or file: one whose
        text holds a control or invisible character is dropped, since Tab would put a newline (a
        second statement, ``quit``) or an escape sequence from a server into the input (S4)."""
        self._asked(document.text)
        for completion in self._inner.get_completions(document, complete_event):
            if visible(completion.text, one_line=True) == completion.text:
                yield completion


def doc_hints(shell: Shell, *, on_loaded: Callable[[], None] | None = None) -> Any:
    """QEMU's argument docs for the menu and the toolbar (``qmpshell.docs.hints.DocHints``), or None.

    ``on_loaded`` is called when docs read in the background arrive (the toolbar redraws).
    """
    if shell.knowledge is None:
        return None
    hints = shell.documentation().hints(shell.client, shell.knowledge)
    if hints is not None and on_loaded is not None:
        hints.on_loaded = on_loaded
    return hints


def completion_in_flight(buffer: Buffer) -> bool:
    """A completion is being computed: its state exists and holds nothing yet."""
    state = buffer.complete_state
    return state is not None and not state.completions


def restart_completion(buffer: Buffer) -> None:
    """Complete again as Tab would, replacing an open menu that lacks the new values.

    Not while a completion is in flight: cancelling it would drop it, and
    prompt_toolkit runs one completion at a time (the caller retries).
    """
    if buffer.complete_state is not None:
        buffer.cancel_completion()
    buffer.start_completion(insert_common_part=True)


def enter_in_menu(buffer: Buffer, *, asked: str | None = None) -> bool:
    """Enter while the menu is open; True when the line should run.

    A chosen completion is taken (the menu closes, nothing runs).  Otherwise the
    line runs only if the word as the user typed it (``asked``: the text the menu
    was computed for, before Tab inserted the candidates' common part) is itself
    one of the values offered.  A common part Tab inserted is not a value the user
    chose, even when it names one (``driver=qco`` Tab gives ``qcow``, with ``qcow2``
    offered too; ``driver=nu`` gives ``null-``): Enter moves into the menu instead.
    """
    state = buffer.complete_state
    if state is None:
        return True
    if state.current_completion is not None:
        buffer.complete_state = None
        return False
    before = buffer.document.text_before_cursor
    as_typed = asked is None or asked == buffer.text
    if as_typed and any(before[len(before) + c.start_position :] == c.text for c in state.completions):
        buffer.complete_state = None
        return True
    buffer.complete_next()
    return False


def enter_when_answered(
    loop: asyncio.AbstractEventLoop,
    buffer: Buffer,
    asked: Callable[[], str | None],
    run: Callable[[], None],
    attempts: int = 40,
) -> None:
    """Enter while a completion is still being computed: decide once it has answered.

    A menu that opens decides as ``enter_in_menu`` says; no menu (nothing to offer)
    runs the line.  The completion may not come from a Tab on this line at all:
    prompt_toolkit runs one completion at a time and starts a Tab that came during
    another one afterwards, on whatever the line is by then.  Ignoring Enter then
    left a typed line unrun.  A line changed meanwhile is left alone.
    """
    text = buffer.text

    def look(left: int) -> None:
        if buffer.text != text:
            return
        if completion_in_flight(buffer) and left:
            loop.call_later(MENU_RETRY, look, left - 1)
        elif enter_in_menu(buffer, asked=asked()):
            run()

    look(attempts)


def refresh_menu(
    loop: asyncio.AbstractEventLoop,
    buffer: Buffer,
    completions: Completions,
    invalidate: Callable[[], None],
    attempts: int = 200,
) -> None:
    """Event loop: show a live answer in the menu; while a completion is still being computed it may
    get the answer itself, so look again shortly (at most ``attempts`` times: 10 s, as one that
    waits ``LIVE_WAIT`` ends later than that only on a starved machine, and a Tab whose completion
    ended empty meanwhile is completed again, not forgotten)."""
    if completion_in_flight(buffer):
        if attempts:
            loop.call_later(MENU_RETRY, refresh_menu, loop, buffer, completions, invalidate, attempts - 1)
        return
    if completions.should_refresh(buffer):
        restart_completion(buffer)
    invalidate()
