"""Short names for targets: ``NAME=ADDR`` on the command line, else one derived from the address.

The name is what ``@NAME``, ``/use NAME``, the prompt and the events pane say.
The rule, for an address given without a name:

- a socket path: its file name without the extension (``/run/vm/src.sock`` -> ``src``);
- ``HOST:PORT``: ``HOST-PORT`` (``localhost:4444`` -> ``localhost-4444``);
- ``libvirt:DOMAIN``: the domain's name;

any character other than a letter, digit, ``_``, ``.`` or ``-`` becomes ``-``, and
when two targets would share a name, the later ones get ``-2``, ``-3``...
``all`` is kept for ``@all``: a target derived as ``all`` is ``all-2``.
"""

from __future__ import annotations

import os
import re

from qmpshell.protocol.address import Address

_GIVEN = r"(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)=(?P<address>.+)"  # compiled (re's cache) when used
_OTHER = r"[^A-Za-z0-9_.-]+"
RESERVED = frozenset({"all"})


def split_name(text: str) -> tuple[str, str]:
    """``src=/tmp/a.sock`` -> ('src', '/tmp/a.sock'); an address without a name -> ('', text).

    A file that exists with ``=`` in its name is taken as an address.
    """
    match = re.fullmatch(_GIVEN, text) if "=" in text else None
    if match is None or os.path.exists(text):
        return "", text
    return match["name"], match["address"]


def derived_name(address: Address) -> str:
    """The name of a target given without one (see the module's rule)."""
    if address.domain:
        raw = address.domain
    elif address.path:
        base = os.path.basename(address.path.rstrip("/")) or address.path
        raw = os.path.splitext(base)[0] or base
    else:
        raw = f"{address.host}-{address.port}"
    return re.sub(_OTHER, "-", raw).strip("-") or "target"


def unique(names: list[str]) -> list[str]:
    """The names in order, a repeated one (or ``all``) numbered from 2."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate, number = name, 2
        while candidate in seen or candidate in RESERVED:
            candidate, number = f"{name}-{number}", number + 1
        seen.add(candidate)
        out.append(candidate)
    return out
