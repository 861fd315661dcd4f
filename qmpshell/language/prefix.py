"""Which target a line goes to: ``@NAME LINE``, ``@all LINE`` (or ``@*``), and ``/wait @NAME ...``.

With several servers in one session or script, a line may name the target it
is meant for.  The prefix is split off before the line is read as a statement,
so the rest is parsed against that target's schema.  ``/wait @dst EVENT`` is the
same as ``@dst /wait EVENT``: the event is awaited on that target.
"""

from __future__ import annotations

import re

from qmpshell.records import NamedTuple

ALL = "*"  # the target of ``@all`` and ``@*``: every target
# Compiled (by re's own cache) when a line first holds an "@": most scripts never do.
_PREFIX = r"\s*@(?P<name>[A-Za-z0-9_.*-]+)(?:\s+|$)"
_WAIT = r"(?P<head>\s*/wait)\s+@(?P<name>[A-Za-z0-9_.*-]+)(?=\s|$)"


class Routed(NamedTuple):
    """A line and the target it names: '' for none (the current target, or every one in a script)."""

    target: str
    text: str


def split_target(line: str) -> Routed:
    """``@src query-status`` -> ('src', 'query-status'); ``@all x``/``@* x`` -> ('*', 'x')."""
    if "@" not in line:
        return Routed("", line)
    match = re.match(_PREFIX, line)
    if match is not None:
        return Routed(_canonical(match["name"]), line[match.end() :])
    match = re.match(_WAIT, line)
    if match is not None:
        return Routed(_canonical(match["name"]), match["head"] + line[match.end() :])
    return Routed("", line)


def _canonical(name: str) -> str:
    return ALL if name in ("all", "*") else name


def has_prefix(line: str) -> bool:
    """True for a line that names its target."""
    return bool(split_target(line).target)


def names_targets(line: str) -> bool:
    """A line that names its target, or two (``/migrate SRC DST``): a script with one runs in order."""
    return has_prefix(line) or line.lstrip().startswith("/migrate ")
