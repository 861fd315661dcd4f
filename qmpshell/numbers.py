"""Whole numbers as people type them: ASCII digits only, read in one place.

``str.isdigit`` is true for ``²`` and ``١``; ``int`` then raises on the first
(an internal error where a count, an index or a port was expected) or reads the
second as a number nobody typed.  Every count, index, port and list position
the shell reads is checked here instead.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")


def is_digits(text: str) -> bool:
    """``0``-``9`` only, at least one."""
    return _DIGITS.fullmatch(text) is not None


def whole_number(text: str) -> int | None:
    """The number ``text`` spells in ASCII digits, else None (also for more digits than Python reads)."""
    if not is_digits(text):
        return None
    try:
        return int(text)
    except ValueError:  # more than 4300 digits
        return None
