"""How the line mode reads a line: the terminal's own line editing, or prompt_toolkit's prompt.

A dumb terminal gets the prompt as plain text and ``readline`` on stdin (the
terminal, or Emacs, edits the line); a capable one gets prompt_toolkit's prompt
with history, completion and highlighting, under ``patch_stdout`` so that
events printed by the events thread appear above it.  While a ``/wait`` runs
beside the prompt (``linewait``), its bottom toolbar says what is awaited and
Ctrl-C stops the wait, leaving the typed text where it is.
"""

from __future__ import annotations

import select
import sys
import threading
from collections.abc import Callable, Iterable

from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.history import History

from qmpshell.config import Settings
from qmpshell.language.redact import line_has_secret, redact_url_credentials
from qmpshell.language.statements import Assembler
from qmpshell.output.safe import visible
from qmpshell.records import Protocol
from qmpshell.repl.connection import Link
from qmpshell.repl.core import InteractiveCore
from qmpshell.repl.linewait import LineWait
from qmpshell.shell import Shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

WAIT_REDRAW = 0.5  # seconds: while a /wait runs beside, the toolbar is redrawn this often
DONE_CHECK = 0.25  # seconds: how often a dumb prompt looks whether the session ended meanwhile


class LineTerminal(Protocol):
    """What a reader needs of the line mode's session (``linemode.LineSession``), which imports
    this module: a protocol here keeps the two from importing each other."""

    lock: threading.RLock
    wait: LineWait
    prompt_shown: bool
    settings: Settings
    history: History
    assembler: Assembler
    on_target_changed: Callable[[], None]
    record_history: bool
    done: threading.Event  # set when the session ends, from any thread
    core: InteractiveCore
    next_input: str  # a line the next prompt starts with (/example)
    remember: Callable[[str], None]
    write_styled: Callable[[StyleAndTextTuples], None]
    stop_reading: Callable[[], None]  # from any thread: the prompt being read ends as at Ctrl-D

    @property
    def out(self) -> IO[str]: ...

    @property
    def shell(self) -> Shell: ...

    @property
    def connection(self) -> Link: ...

    def prompt(self) -> str: ...

    def abandon(self) -> None: ...


def dumb_reader(session: LineTerminal) -> Callable[[], str | None]:
    """Lines from the terminal's own line editing; the prompt is plain text."""

    def read() -> str | None:
        with session.lock:
            session.out.write(session.prompt())
            session.out.flush()
            session.prompt_shown = True
        try:
            # Ctrl-C here: see LineSession.interrupted; "" when the session ended (a launched QEMU quit)
            line = sys.stdin.readline() if _line_typed(session.done) else ""
        finally:
            session.prompt_shown = False
        if not line:  # end of input (Ctrl-D): leave the terminal's prompt on a line of its own
            session.out.write("\n")
            return None
        return line.rstrip("\n")

    return read


def _line_typed(done: threading.Event) -> bool:
    """Wait for a whole line on a terminal (its line discipline hands one over at a time), or
    for the session to end; True when there is a line to read.  Not a terminal: read at once."""
    if not sys.stdin.isatty():
        return True
    while not done.is_set():
        if select.select([sys.stdin], [], [], DONE_CHECK)[0]:
            return True
    return False


def prompt_reader(session: LineTerminal) -> Callable[[], str | None]:
    """prompt_toolkit's prompt with history, completion and highlighting; output stays in the scrollback."""
    from prompt_toolkit import PromptSession, print_formatted_text
    from prompt_toolkit.formatted_text import FormattedText
    from prompt_toolkit.patch_stdout import patch_stdout

    from qmpshell.repl.completion import Completions, doc_hints
    from qmpshell.repl.lexer import InputLexer
    from qmpshell.repl.style import build_style

    style = build_style(session.settings.theme)
    completions = Completions(is_hmp=lambda: session.shell.hmp, hints=lambda: doc_hints(session.shell))
    history = StatementHistory(session.history, is_hmp=lambda: session.shell.hmp)
    session.remember = history.remember
    prompt: PromptSession[str] = PromptSession(
        history=history,
        key_bindings=_line_bindings(session.wait),
        completer=completions.completer(),
        lexer=InputLexer(lambda: session.shell.hmp),
        style=style,
        complete_while_typing=False,
    )

    def write_styled(line: StyleAndTextTuples) -> None:
        """A line in colour; from a wait's thread, above the prompt (prompt_toolkit's run_in_terminal)."""
        text = FormattedText([(fragment[0], visible(fragment[1])) for fragment in line])
        try:
            print_formatted_text(text, style=style)
        except RuntimeError:  # the prompt's event loop closed as the line came (Enter just then)
            session.out.write("".join(fragment[1] for fragment in text) + "\n")

    session.write_styled = write_styled
    session.record_history = False

    def wait_changed() -> None:
        """A wait began or ended: the toolbar comes or goes (from the wait's thread too)."""
        active = session.wait.active
        prompt.bottom_toolbar = (lambda: session.wait.awaited()) if active else None
        prompt.refresh_interval = WAIT_REDRAW if active else 0  # the next prompt: the wait says what it does
        prompt.app.invalidate()  # safe from any thread; nothing when no prompt is shown

    session.wait.changed = wait_changed

    def end() -> None:
        """On the prompt's loop: the session has ended, the prompt ends as at Ctrl-D."""
        if session.done.is_set() and prompt.app.is_running and not prompt.app.is_done:
            prompt.app.exit(exception=EOFError())

    def stop_reading() -> None:
        """From another thread (a launched QEMU quit): a prompt on the screen ends; one not yet
        running ends as it starts (``end`` is its ``pre_run``)."""
        loop = prompt.app.loop
        try:
            if loop is not None:
                loop.call_soon_threadsafe(end)
        except RuntimeError:  # that prompt's loop closed just then: the next one's pre_run ends it
            pass

    session.stop_reading = stop_reading

    def refresh() -> None:
        threading.Thread(
            target=lambda: _refresh_completions(session, completions), name="qmpshell-worker", daemon=True
        ).start()

    refresh()
    session.on_target_changed = refresh  # /use: complete against the new current target

    def read() -> str | None:
        while True:
            completions.expire()  # the line before may have made nodes or jobs: Tab asks again
            try:
                default, session.next_input = session.next_input, ""
                with patch_stdout(raw=True):
                    return prompt.prompt(
                        lambda: session.core.prompt(pending=session.assembler.pending),
                        default=default,
                        pre_run=end,
                    )
            except KeyboardInterrupt:
                session.abandon()
            except EOFError:
                return None

    return read


class StatementHistory(History):
    """The prompt's view of the history: Up and Ctrl-R find the file's entries and this session's
    statements, but what Enter accepts is not added as it stands (it may be several statements,
    or part of one); the session adds each statement whole with ``remember``."""

    def __init__(self, kept: History, *, is_hmp: Callable[[], bool]) -> None:
        super().__init__()
        self._kept = kept
        self._is_hmp = is_hmp

    def load_history_strings(self) -> Iterable[str]:
        return self._kept.load_history_strings()

    def append_string(self, string: str) -> None:
        """prompt_toolkit's, on Enter: nothing (see ``remember``)."""

    def store_string(self, string: str) -> None:
        """Nothing: ``remember`` writes through the history it wraps."""

    def remember(self, entry: str) -> None:
        """A statement, whole (``/hmp LINE`` for HMP), unless it carries a secret or repeats the last.

        Credentials in a URL are redacted (``https://<redacted>@host/...``), the statement kept.
        """
        entry = redact_url_credentials(entry)
        strings = self.get_strings()
        if not entry.strip() or (strings and strings[-1] == entry):
            return
        if line_has_secret(entry, hmp=self._is_hmp()):
            return
        super().append_string(entry)
        self._kept.append_string(entry)


def _line_bindings(wait: LineWait) -> Any:
    """A bracketed paste that ends in a newline runs at once, each of its lines as a statement;
    Ctrl-C while a ``/wait`` runs beside stops it and keeps the input (else it drops the line)."""
    from prompt_toolkit.filters import Condition
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
    from prompt_toolkit.keys import Keys

    bindings = KeyBindings()

    @bindings.add("c-c", filter=Condition(lambda: wait.active))
    def _stop_wait(event: KeyPressEvent) -> None:
        wait.stop()

    @bindings.add(Keys.BracketedPaste)
    def _paste(event: KeyPressEvent) -> None:
        data = event.data.replace("\r\n", "\n").replace("\r", "\n")
        buffer = event.current_buffer
        if not data.endswith("\n"):
            buffer.insert_text(data)  # stays to be finished, as in the full screen
            return
        buffer.insert_text(data[:-1])
        buffer.validate_and_handle()  # LineSession.run enters the lines one by one

    return bindings


def _refresh_completions(session: LineTerminal, completions: Any) -> None:
    from qmpshell.repl.hmpcomplete import fetch_hmp_names

    session.connection.load_knowledge()
    client = session.connection.client
    names = fetch_hmp_names(client, timeout=session.settings.connect_timeout, probe=session.settings.probe)
    completions.refresh(session.shell, client, names, on_ready=lambda: None)
    members = session.connection.members()
    completions.refresh_targets({name: (member.shell, member.client) for name, member in members.items()})
