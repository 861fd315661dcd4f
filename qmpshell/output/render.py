"""Replies and events as text: JSON lines for scripts, indented and coloured for people.

Pure functions; pygments is imported only when colour is asked for, so batch
mode without colour stays light.
"""

from __future__ import annotations

import json

from qmpshell.output.safe import escape_json_controls, visible
from qmpshell.protocol import messages
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def json_text(value: Any, *, pretty: bool = False) -> str:
    """One JSON document: one line, or indented by 2 with ``pretty``; C1 controls escaped."""
    return escape_json_controls((_PRETTY if pretty else _LINE).encode(value))


# What ``json.dumps(value, indent=..., ensure_ascii=False)`` writes, without building an encoder
# for every reply (``dumps`` reuses its own only with the default options).
_LINE = json.JSONEncoder(ensure_ascii=False)
_PRETTY = json.JSONEncoder(ensure_ascii=False, indent=2)


def colourise(text: str) -> str:
    """ANSI-coloured JSON (pygments' JSON lexer and 16-colour terminal formatter)."""
    from pygments import highlight
    from pygments.formatters import TerminalFormatter
    from pygments.lexers import JsonLexer

    coloured: str = highlight(text, JsonLexer(), TerminalFormatter())
    return coloured.rstrip("\n")


def error_summary(response: Message) -> str:
    """``Class: desc`` of an error response: the one summary (``qmpshell.protocol.messages``), on one
    line (a newline in QEMU's text must not forge a line of ours, W7)."""
    return visible(messages.error_summary(response), one_line=True)


def event_time(event: Message) -> str:
    """The event's own timestamp as local wall-clock time, ``HH:MM:SS.mmm``."""
    from datetime import datetime  # here: only events shown with their time need it

    seconds = messages.event_seconds(event)
    try:
        when = datetime.fromtimestamp(seconds) if seconds is not None else datetime.now()
    except (ValueError, OverflowError, OSError):
        when = datetime.now()
    return when.strftime("%H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def hmp_text(text: str) -> str:
    """HMP output with CRLF line ends turned into LF."""
    return text.replace("\r\n", "\n")
