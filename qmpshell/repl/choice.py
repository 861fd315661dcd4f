"""Which interactive front-end a session gets (the full screen or the line mode), and what it is
opened on: small, and free of prompt_toolkit, so that both front-ends and ``repl.opening`` share it."""

from __future__ import annotations

import os
from collections.abc import Mapping

from qmpshell.config import Settings
from qmpshell.protocol.address import Address

SMALLEST_FOR_PANES = (40, 10)  # columns, rows: below either, the panes cannot be drawn usefully
Where = Address | list[tuple[str, Address]]  # one address, or several targets with their names


def wants_line_mode(settings: Settings, *, environ: Mapping[str, str], size: os.terminal_size) -> bool:
    """``--line``, a dumb terminal, or one too small for the panes."""
    columns, rows = SMALLEST_FOR_PANES
    return settings.line_mode or is_dumb(environ) or size.columns < columns or size.lines < rows


def is_dumb(environ: Mapping[str, str]) -> bool:
    return environ.get("TERM", "dumb") in ("dumb", "")
