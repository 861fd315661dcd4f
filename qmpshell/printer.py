"""Where batch mode's output goes: stdout for data (JSON lines, or views with ``--format human``),
stderr for people (``qmpshell: LINE: what``), both flushed at once and safe against a reader that
went away (``| head -1``).  Shared by every target of a many-target run (one lock)."""

from __future__ import annotations

import threading

from qmpshell.errors import QmpShellError
from qmpshell.outcomes import Reply
from qmpshell.output.render import colourise, json_text
from qmpshell.output.safe import visible
from qmpshell.protocol import traffic
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

    from qmpshell.schema.index import SchemaIndex


class OutputFailed(QmpShellError):
    """stdout cannot be written (a full disk): exit status 1, one line on stderr."""


class OutputClosed(Exception):
    """stdout was closed by the reader (``qmpshell ... | head -1``)."""


class Printer:
    """Writes what scripts read; thread-safe because events come from the reader thread."""

    def __init__(
        self,
        out: IO[str],
        err: IO[str],
        *,
        pretty: bool,
        color: bool,
        json_only: bool,
        verbose: bool,
        events: bool = False,
        human: bool = False,
        width: int = 100,
    ) -> None:
        self.out, self.err = out, err
        self.pretty, self.color, self.json_only, self.verbose = pretty, color, json_only, verbose
        self.events = events  # --events: every event is written as it arrives, /wait's included
        self.human, self.width = human, width
        self._lock = threading.Lock()
        self.closed = False
        self.failure: OutputFailed | None = None  # why stdout cannot be written, once it cannot

    def json(self, value: Any, *, pretty: bool | None = None) -> None:
        text = json_text(value, pretty=self.pretty if pretty is None else pretty)
        self.write(colourise(text) if self.color else text)

    def view(self, reply: Reply, index: SchemaIndex | None) -> None:
        """``--format human``: the reply as the view that fits it (``| json``: indented JSON)."""
        if reply.as_json:
            self.json(reply.response, pretty=True)
            return
        from qmpshell.output.text import coloured, plain
        from qmpshell.output.views import VIEW_ROWS, bounded, render_reply

        response, total = bounded(reply.response)  # a million rows took 28 s and 1.5 GB (C7)
        rendering = render_reply(
            response, command=reply.command, width=self.width, index=index, hint=reply.hint
        )
        text = (coloured if self.color else plain)(rendering)
        if total:
            text += f"\n(first {VIEW_ROWS:,} rows of {total:,}; --format json prints them all)"
        self.write(text)

    def write(self, text: str) -> None:
        """One document on stdout, flushed so that a driving program sees it at once."""
        with self._lock:
            if self.closed:
                raise self.failure or OutputClosed()
            try:
                self.out.write(text if text.endswith("\n") else text + "\n")
                self.out.flush()
            except BrokenPipeError:
                self.closed = True
                raise OutputClosed from None
            except OSError as err:  # stdout on a full disk: the replies are lost, and that is a failure
                self.closed = True
                self.failure = OutputFailed(f"cannot write to stdout: {err.strerror or err}")
                raise self.failure from None

    def text(self, text: str) -> None:
        """Text for a person (HMP output, help, versions): on a terminal, controls shown, not obeyed."""
        self.write(visible(text) if _is_terminal(self.out) else text)

    def sent(self, message: Message) -> None:
        """``-v``: the command as sent, just before its reply (and any event it causes)."""
        from qmpshell.language.redact import redact_message  # -v only

        self.write(json_text(redact_message(message)))  # the one rule of what is secret

    def progress(self, text: str) -> None:
        """A ``/job``'s progress on one line of a terminal's stderr, rewritten as it goes ('' clears)."""
        if not _is_terminal(self.err):
            return
        with self._lock:
            try:
                self.err.write("\r" + visible(text)[:200] + "\x1b[K")
                self.err.flush()
            except (BrokenPipeError, ValueError):
                pass

    def own_sent(self, message: Message, source: str) -> None:
        """``-v``: a message the shell sent on its own account (the schema, a /job's query-jobs), dimmed,
        on stderr: stdout stays the user's commands and their replies.  Only for a person (stderr a
        terminal) or with colour asked for; not ``qmp_capabilities``: every session starts with it."""
        if source == traffic.CONNECTION or not (self.color or _is_terminal(self.err)):
            return  # a script's stderr stays its errors: shown dimmed to a person, or with --color
        text = visible(f"qmpshell: sent by the shell ({source}): {json_text(message)}")
        with self._lock:
            try:
                self.err.write((f"\x1b[2m{text}\x1b[0m" if self.color else text) + "\n")
                self.err.flush()
            except (BrokenPipeError, ValueError):
                pass

    def event(self, event: Message) -> None:
        """``--events``: called on the reader thread, in the order events arrive."""
        try:
            self.show_event(event)
        except (OutputClosed, OutputFailed):
            pass  # the next reply written says so

    def show_event(self, event: Message) -> None:
        """An event as a JSON line, or with ``--format human`` as one compact line."""
        if not self.human:
            self.json(event)
            return
        from qmpshell.output.events import event_line
        from qmpshell.output.rows import Rendering
        from qmpshell.output.text import coloured, plain

        self.write((coloured if self.color else plain)(Rendering([event_line(event)], "event")))

    def raw(self, text: str, stream: IO[str]) -> None:
        """A program's own output, as it wrote it (``/guest-exec``); controls shown on a terminal."""
        if not text:
            return
        with self._lock:
            try:
                stream.write(visible(text) if _is_terminal(stream) else text)
                stream.flush()
            except (BrokenPipeError, ValueError):
                pass

    def error(self, where: str, text: str) -> None:
        from qmpshell.language.redact import redact_url_credentials  # a run that goes well needs none

        with self._lock:
            try:
                self.err.write(visible(redact_url_credentials(f"qmpshell: {where}{text}")) + "\n")
                self.err.flush()
            except (BrokenPipeError, ValueError):
                pass


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False
