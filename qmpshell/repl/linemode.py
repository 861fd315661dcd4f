"""A line mode for plain terminals: a prompt and lines, no full screen, events as they arrive.

Chosen with ``--line``, with ``TERM=dumb`` (Emacs ``M-x shell``, CI logs,
``script`` recordings) or when the terminal is too small for the panes.  Each
statement's output is printed below it; events are printed as lines between
prompts the moment they arrive, by a thread of their own, not only on Enter.

On a dumb terminal nothing but text, ``\\n`` and the prompt is written (no
cursor movement, no colour): the terminal's own line editing reads the line.
Elsewhere prompt_toolkit's prompt (history, completion, highlighting) runs
under ``patch_stdout``, which redraws it around lines printed by the events
thread.  A ``/wait`` runs beside the prompt, as in the full screen (``linewait``).
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import sys
import threading
from collections.abc import Callable

from prompt_toolkit.formatted_text import StyleAndTextTuples

from qmpshell.config import Settings
from qmpshell.errors import EXIT_OK, QmpShellError
from qmpshell.outcomes import Outcome
from qmpshell.output.safe import visible
from qmpshell.qmptypes import Message
from qmpshell.repl import styled
from qmpshell.repl.choice import Where, is_dumb
from qmpshell.repl.connection import Link
from qmpshell.repl.core import Grouped, InteractiveCore
from qmpshell.repl.eventlines import event_line
from qmpshell.repl.fleet import TARGET_KEY
from qmpshell.repl.inputqueue import InputQueue
from qmpshell.repl.keeper import open_session
from qmpshell.repl.linewait import LineWait
from qmpshell.repl.panes import EventFeed, Watched, plain
from qmpshell.repl.rendered import Rendered
from qmpshell.repl.search import print_matches
from qmpshell.shell import Shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

    from qmpshell.protocol.launch import LaunchedQemu
    from qmpshell.protocol.logfile import MessageLog  # a type: datetime and redaction load only with -l

FIND_SHOWN = 50  # /find in line mode prints at most this many matching lines
WATCH_INTERVAL = 0.25  # seconds between looks at the connection and a launched QEMU (keeper.tick)


def run_line_mode(
    address: Where,
    settings: Settings,
    *,
    log: MessageLog | None = None,
    launched: LaunchedQemu | None = None,
    watched: Watched | None = None,
) -> int:
    """Connect and read statements until end of input or /quit; the exit status.

    ``watched``: lines printed between prompts as they come (others' traffic through ``--proxy``)."""
    session: LineSession | None = None

    def on_event(event: Message) -> None:
        if session is not None:
            session.arrived.put(event)

    connection, feed = open_session(address, settings, log=log, on_event=on_event)
    try:
        dumb = is_dumb(os.environ)
        session = LineSession(connection, feed, settings, launched=launched)
        if watched is not None:
            watched.subscribe(lambda line, as_json: session.show_watched(line, as_json))
        from qmpshell.repl.linereaders import dumb_reader, prompt_reader

        status = session.run(read=dumb_reader(session) if dumb else prompt_reader(session))
        session.core.keeper.goodbye()
        return status
    finally:
        connection.close()


class LineSession:
    """The shell over one connection, writing lines; events print from their own thread."""

    def __init__(
        self,
        connection: Link,
        feed: EventFeed,
        settings: Settings,
        *,
        launched: LaunchedQemu | None = None,
    ) -> None:
        self.connection = connection
        self.on_target_changed: Callable[[], None] = lambda: None  # the prompt's completion follows /use
        self.settings = settings
        self.feed = feed
        find = {"find": lambda request: self.find(request.rest)}  # no pane to scroll: matches are printed
        self.core = InteractiveCore(
            connection, feed, settings, screen=self, events_shown=True, overrides=find, launched=launched
        )
        self.log, self.history = self.core.log, self.core.history
        self.next_input = ""  # a line the next prompt starts with (/example)
        self.entry = InputQueue(lambda entry: self.remember(entry), hmp=self.shell.hmp)  # its queue unused
        self.assembler = self.entry.assembler
        self.record_history = True  # False when prompt_toolkit's prompt keeps (and completes from) it
        self.remember: Callable[[str], None] = self.core.remember  # the prompt's history replaces it
        self.arrived: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.lock = threading.RLock()  # the output: the main thread's, the events', a wait's
        self.prompt_shown = False  # a dumb prompt is on the screen, waiting for a line
        self.busy = False  # a command runs on the worker
        self.taking = False  # a line read is being taken in: a Ctrl-C now is for what it starts
        self.early_interrupt = False  # that Ctrl-C came (``_on_sigint``), before its command or wait began
        self.done = threading.Event()
        self.wait = LineWait(self.core, lock=self.lock, print_new=lambda: self.between_prompts([], new=True))
        self._printed = 0  # absolute number of the first log line not yet printed
        self.write_styled: Callable[[StyleAndTextTuples], None] = self._write_plain
        self.stop_reading: Callable[[], None] = lambda: None  # the prompt's reader sets it

    @property
    def shell(self) -> Shell:
        """The current target's shell (``/use`` changes it)."""
        return self.connection.shell

    def target_changed(self) -> None:
        self.on_target_changed()

    # -- FrontEnd ------------------------------------------------------------------------

    def width(self) -> int:
        return shutil.get_terminal_size().columns

    def presentation(self) -> styled.Presentation:
        """How replies are shown now: the session's format, the terminal's width, the schema."""
        return self.core.presentation_at(self.width())

    # -- the loop ------------------------------------------------------------------------

    def prompt(self) -> str:
        return plain(self.core.prompt(pending=self.assembler.pending))

    def run(self, *, read: Callable[[], str | None]) -> int:
        """Read lines with ``read`` (None: end of input) until then or /quit."""
        self.core.welcome(tab=not self.record_history)
        self.flush()
        threading.Thread(target=self._events_loop, name="qmpshell-events", daemon=True).start()
        threading.Thread(target=self._learn_server, name="qmpshell-worker", daemon=True).start()
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            while not self.done.is_set():
                self.taking = self.early_interrupt = False
                text = read()
                if text is None or self.done.is_set():  # Ctrl-D; a launched QEMU quit meanwhile
                    break
                self.taking = True
                for line in text.split("\n"):  # a pasted block: each line in turn, as typed
                    self.enter(line)
        finally:
            self.done.set()
            signal.signal(signal.SIGINT, previous)
        return EXIT_OK

    def _on_sigint(self, signum: int, frame: object) -> None:
        """Ctrl-C: stop waiting for a reply, else a ``/wait`` beside (the statement stays, though
        the terminal drops the half-typed line), else drop the half-typed statement; never leave."""
        if self.busy:
            self.core.cancel()
        elif self.wait.stop():
            pass
        elif self.taking:  # right after Enter (the line still queued behind an event's lines, say)
            self.early_interrupt = True
        else:
            self.interrupted()

    def _interrupted_early(self) -> bool:
        """Whether a Ctrl-C came while the line was being taken in; it is used up."""
        early, self.early_interrupt = self.early_interrupt, False
        return early

    def _learn_server(self) -> None:
        self.core.learn_server()
        self.connection.confirm_schema()  # a cached schema that is not the server's is replaced

    def enter(self, text: str) -> None:
        """One line typed: run once its statement is complete, which the history then keeps whole.

        As in the full screen, a ``transaction(`` block is one history entry and a
        line typed in HMP mode is kept as ``/hmp LINE`` (``entry.history_entry``).
        """
        with self.lock:  # not while a wait's result is being printed
            statement = self.core.enter_line(self.entry, text, echoed=self._shown_by_terminal)
        if statement is not None:
            self.submit(statement.text)
            with self.lock:  # after quit: a clean exit leaves before the next prompt
                self.core.keeper.after_statement()
        elif self._interrupted_early():  # the statement is not complete: Ctrl-C drops it
            self.interrupted()
        self.flush()

    def _shown_by_terminal(self) -> None:
        self._printed = self.log.dropped + len(self.log.lines)  # the terminal showed the typed line

    def submit(self, text: str) -> None:
        """Parse and run on a worker, so that Ctrl-C can stop waiting (parsing a device_add asks QEMU);
        a ``/wait`` runs beside instead and the prompt comes back at once."""
        self.shell.help_width = self.presentation().width  # /help wraps to the terminal as it is now
        if self.wait.takes(text):
            self.wait.start(text)  # a Ctrl-C from here on stops it
            if self._interrupted_early():
                self.wait.stop()
            return
        self.shell.begin()
        self.busy = True  # Ctrl-C stops the wait from here on: parsing a device_add asks QEMU too
        if self._interrupted_early():
            self.core.cancel()
        try:
            result = self._parse_and_run(text)  # the core keeps it for /save script
        finally:
            self.busy = False
        if result is not None:
            with self.lock:  # not in the middle of a wait's result
                self.core.show(result)

    def _parse_and_run(self, text: str) -> Outcome | QmpShellError | Rendered | Grouped | None:
        result: list[Outcome | QmpShellError | Rendered | Grouped | None] = []
        finished = threading.Event()

        def work() -> None:
            result.append(self.core.run(text))
            finished.set()

        threading.Thread(target=work, name="qmpshell-worker", daemon=True).start()
        finished.wait()  # Ctrl-C (``_on_sigint``) makes the worker return at once
        return result[0]

    def mode_changed(self, *, hmp: bool) -> None:
        self.assembler.hmp = hmp  # the shell has switched itself

    def quit(self) -> None:
        """``/quit``, or the launched QEMU quit: leave, from any thread (a prompt being read ends)."""
        self.done.set()
        self.stop_reading()

    def reconnected(self) -> None:
        threading.Thread(target=self._learn_server, name="qmpshell-worker", daemon=True).start()

    def propose(self, line: str) -> None:
        self.next_input = line  # /example: the next prompt starts with it

    def find(self, text: str) -> None:
        """``/find TEXT`` in line mode: there is no pane to scroll, so the matching lines are printed."""
        print_matches(self.log, text.strip(), shown=FIND_SHOWN)

    def abandon(self) -> None:
        """Drop the unfinished statement (Enter on an empty ``...>`` line, Ctrl-C) and say so."""
        told = self.entry.discard_pending()
        if told:
            self.log.add(styled.info(told))
        self.flush()

    def interrupted(self) -> None:
        """Ctrl-C at the prompt: the terminal dropped the typed line; drop the statement, prompt again.

        Called from the signal handler, so without the lock (the main thread may hold it).
        """
        told = self.entry.discard_pending()
        if self.prompt_shown:
            self.out.write("\n" + (f"{told}\n" if told else "") + self.prompt())
            self.out.flush()

    # -- writing -------------------------------------------------------------------------

    @property
    def out(self) -> IO[str]:
        """stdout as it is now: under ``patch_stdout`` a proxy that redraws the prompt around lines."""
        return sys.stdout

    def flush(self) -> None:
        """Print the output lines added since the last flush."""
        with self.lock:
            self._write_new_lines()
            self.out.flush()

    def _write_new_lines(self) -> None:
        start = max(self._printed - self.log.dropped, 0)
        for line in list(self.log.lines)[start:]:
            self.write_styled(line)
        self._printed = self.log.dropped + len(self.log.lines)

    def _write_plain(self, line: StyleAndTextTuples) -> None:
        self.out.write(visible(plain(line)) + "\n")  # server text: controls shown, not obeyed

    def _events_loop(self) -> None:
        """Events thread: print events as they come, and warnings between statements; the keeper's
        tick (a lost connection, reconnecting, a launched QEMU) a few times a second."""
        while not self.done.is_set():
            try:
                events = [self.arrived.get(timeout=WATCH_INTERVAL)]
            except queue.Empty:
                events = []
            while not self.arrived.empty():
                events.append(self.arrived.get())
            shown = [e for e in events if self._passes(e)]
            if shown:
                self.between_prompts([event_line(e, colours=self.feed.colours) for e in shown])
            with self.lock:
                if not self.busy and self.core.show_warnings():  # between statements (the schema cache's)
                    self.between_prompts([], new=True)
                self.core.keeper.tick()

    def _passes(self, event: Message) -> bool:
        return self.feed.passes(str(event.get("event", "?")), target=str(event.get(TARGET_KEY, "")))

    def show_watched(self, line: str, as_json: str) -> None:
        """A line of another client's traffic (``--proxy``), in the form ``/format`` asks for."""
        with self.lock:
            self.core.show_watched(line, as_json)
            self.between_prompts([], new=True)

    def between_prompts(self, lines: list[StyleAndTextTuples], *, new: bool = False) -> None:
        """Lines from another thread: after the prompt on a dumb terminal, then the prompt again;
        ``new``: the output's lines not printed yet too (a wait's result), styled like a reply's."""
        with self.lock:
            if self.prompt_shown:
                self.out.write("\n")
            for line in lines:
                self._write_plain(line)
            if new:
                self._write_new_lines()
            if self.prompt_shown:
                self.out.write(self.prompt())
            self.out.flush()

    def say(self, lines: list[StyleAndTextTuples]) -> None:
        """What the keeper says (a lost connection, QEMU's stderr): printed now, kept in the output."""
        with self.lock:
            for line in lines:
                self.log.add(line)
            self.between_prompts([], new=True)

    def in_background(self, work: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """``work()`` on a thread of its own, then ``then(result)`` under the output lock."""

        def target() -> None:
            result = work()
            with self.lock:
                if not self.done.is_set():
                    then(result)

        threading.Thread(target=target, name="qmpshell-worker", daemon=True).start()
