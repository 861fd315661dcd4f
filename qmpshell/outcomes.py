"""What running a statement can come to: the outcomes a ``Shell`` hands its front-end.

Each front-end (batch, the full screen, the line mode) shows these its own way;
a failure is not an outcome but a ``QmpShellError``.  A QMP error reply is an
outcome (``Reply`` with ``ok`` false) because scripts print it.
"""

from __future__ import annotations

from qmpshell.language.requests import ShellRequest
from qmpshell.qmptypes import Message
from qmpshell.records import NamedTuple


class Reply(NamedTuple):
    """A QMP response to a command (``sent`` is the message as sent, id included)."""

    sent: Message
    response: Message
    hint: str = ""
    as_json: bool = False  # show as JSON whatever the format ("| json", /json)

    @property
    def ok(self) -> bool:
        return "error" not in self.response

    @property
    def command(self) -> str:
        """The command's name (views are chosen by it)."""
        return str(self.sent.get("execute") or self.sent.get("exec-oob") or "")


class HmpOutput(NamedTuple):
    """The text an HMP command printed; ``error`` when it is HMP's error text.

    ``ok``: a line translated to QMP whose replies were all ``{}`` (HMP prints
    nothing there; the front-ends show a dim ok).
    """

    text: str
    error: bool
    sent: Message = {}
    ok: bool = False


class EventSeen(NamedTuple):
    """The event a ``/wait`` was waiting for."""

    event: Message


class Info(NamedTuple):
    """Text for the user: help, notices; ``edit``: a line the interactive shell puts on its input line."""

    text: str
    edit: str = ""


class ProgramOutput(NamedTuple):
    """What ``/guest-exec`` ran printed, and how it ended (``exitcode`` None: killed by ``signal``)."""

    stdout: str
    stderr: str
    exitcode: int | None
    signal: int | None = None

    @property
    def ok(self) -> bool:
        return self.exitcode == 0

    @property
    def ending(self) -> str:
        """'' for exit code 0, else ``exit code 3`` or ``killed by signal 9``."""
        if self.exitcode is None:
            return f"killed by signal {self.signal}" if self.signal is not None else "ended, no exit code"
        return "" if self.exitcode == 0 else f"exit code {self.exitcode}"


class ModeChanged(NamedTuple):
    hmp: bool
    note: str = ""  # on /hmp: how many HMP commands this server runs, and how


class Exit(NamedTuple):
    pass


class FrontEndCommand(NamedTuple):
    """A shell command only the interactive front-end acts on (``/events``, ``/reconnect``)."""

    request: ShellRequest


Outcome = Reply | HmpOutput | EventSeen | Info | ProgramOutput | ModeChanged | Exit | FrontEndCommand
