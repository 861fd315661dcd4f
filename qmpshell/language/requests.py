"""What one statement of the shorthand asks for: a QMP message, an HMP line or a shell command.

``language.parse.parse_statement`` makes them; the shell, batch mode and the
front-ends act on them.  ``message_for`` is the one message a request sends when
that is all it does.
"""

from __future__ import annotations

from qmpshell.qmptypes import Message
from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.language.untyped import ArgTree


class QmpRequest(NamedTuple):
    """A QMP message to send; ``command`` is its name (for schema and quit)."""

    command: str
    message: dict[str, Any]
    as_json: bool = False  # the line ended in "| json": show the reply as JSON


class HmpRequest(NamedTuple):
    """One HMP command line for ``human-monitor-command``."""

    command_line: str


class ShellRequest(NamedTuple):
    """A ``/name`` command of the shell itself."""

    name: str
    words: tuple[str, ...] = ()
    options: ArgTree = {}
    rest: str = ""


Request = QmpRequest | HmpRequest | ShellRequest


def call_request(name: str, arguments: dict[str, Any]) -> QmpRequest:
    """``name`` called with its typed arguments; none typed: no ``arguments`` member at all."""
    message: dict[str, Any] = {"execute": name}
    if arguments:
        message["arguments"] = arguments
    return QmpRequest(name, message)


def message_for(request: Request, *, cpu_index: int | None = None) -> Message | None:
    """The one message the shell sends for ``request`` when that is all it does, else None.

    None for what acts on the shell's own state or on more than one message
    (``/wait``, the ``/hmp`` and ``/qmp`` switches, HMP ``cpu N``, ``/help``...):
    pipelining finishes everything in flight before them, and a dry run prints
    nothing for them.
    """
    if isinstance(request, QmpRequest):
        return request.message
    if isinstance(request, HmpRequest):
        line = request.command_line
    else:
        line = request.rest if request.name == "hmp" else ""
    if not line:
        return None
    from qmpshell.language.hmp import hmp_message, parse_cpu_command  # an HMP line

    if parse_cpu_command(line) is not None:
        return None
    return hmp_message(line, cpu_index=cpu_index)


def hmp_line_of(request: Request | None) -> str:
    """The HMP line a request runs (HMP mode, or ``/hmp LINE``), '' for anything else."""
    if isinstance(request, HmpRequest):
        return request.command_line
    if isinstance(request, ShellRequest) and request.name == "hmp":
        return request.rest
    return ""
