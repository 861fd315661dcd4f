"""What one statement of the shorthand asks for: the requests, and the parser's front door.

``parse_statement`` turns a statement (one line, or several joined by the
``statements`` module) into a ``QmpRequest``, ``HmpRequest`` or
``ShellRequest``; it raises ``ParseError`` (with a column) and sends nothing.
Value types come from an ``ArgumentTyper``: the schema when one is known, else
``GuessingTyper``, whose rules are the language's defaults.

A line that is a command's name and nothing else is read here, as the grammar
would read it (``tests/test_syntax.py`` compares the two); everything else goes
to ``language.grammar``, loaded then with the tokenizer.
"""

from __future__ import annotations

from qmpshell.qmptypes import Message
from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.language.untyped import ArgTree, ArgumentTyper


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


def parse_statement(text: str, *, hmp: bool = False, typer: ArgumentTyper | None = None) -> Request | None:
    """Parse one statement; ``None`` for an empty line or a comment."""
    name = text.strip()
    if not hmp and is_bare_name(name):
        arguments = typer.convert(name, {}) if typer is not None else {}  # the schema's check of the name
        return QmpRequest(name, {"execute": name, "arguments": arguments} if arguments else {"execute": name})
    from qmpshell.language.grammar import parse_tokens

    return parse_tokens(text, hmp=hmp, typer=typer)


_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def is_bare_name(text: str) -> bool:
    """A QMP command's name alone (a letter, then letters, digits, ``-`` and ``_``)."""
    return text[:1].isalpha() and text[:1].isascii() and _NAME_CHARACTERS.issuperset(text)


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
