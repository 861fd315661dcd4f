"""Rendered views as terminal text: plain for pipes and files, ANSI colours for a terminal.

Batch mode's ``--format human`` writes this; pygments is imported only for the
JSON fallback and only when colour is on.
"""

from __future__ import annotations

from qmpshell.output.render import colourise
from qmpshell.output.rows import Line, Rendering

ANSI = {
    "dim": "2",
    "ok": "32",
    "error": "1;31",
    "hint": "33",
    "warn": "33",
    "header": "1",
    "key": "36",
    "name": "1",
    "string": "32",
    "number": "33",
    "keyword": "35",
    "tree": "2",
    "time": "2",
    "event": "1;33",
}


def plain(rendering: Rendering) -> str:
    """The lines as they read, no escape sequences."""
    return rendering.text()


def coloured(rendering: Rendering) -> str:
    """The lines with ANSI SGR colours; JSON highlighted by pygments."""
    return "\n".join(_line(line) for line in rendering.lines)


def _line(line: Line) -> str:
    parts: list[str] = []
    for style, text in line:
        if style == "json":
            parts.append(colourise(text))
        elif style in ANSI and text:
            parts.append(f"\x1b[{ANSI[style]}m{text}\x1b[0m")
        else:
            parts.append(text)
    return "".join(parts)
