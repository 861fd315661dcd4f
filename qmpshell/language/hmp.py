"""HMP through QMP: the ``human-monitor-command`` message and HMP's error text.

HMP reports errors as ordinary output, so they are recognised by their
wording.  No ``cpu-index`` is sent unless the user chose a CPU: on ``-M none``
there is no CPU 0 and QEMU's qmp-shell ``-H`` fails at start for that reason.
"""

from __future__ import annotations

import functools
import re

from qmpshell.numbers import whole_number

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@functools.cache
def _error_patterns() -> re.Pattern[str]:
    """How HMP's error texts begin; compiled by the first HMP reply (a QMP line never needs it)."""
    return re.compile(
        r"^(unknown command:|Error:|error:|Invalid parameter|Parameter '|invalid |too many arguments"
        r"|could not |Could not |Device '.*' not found|no such |No such |Usage:|unknown )",
        re.M,
    )


def hmp_message(command_line: str, *, cpu_index: int | None = None) -> dict[str, Any]:
    """The QMP message that runs one HMP command line."""
    arguments: dict[str, Any] = {"command-line": command_line}
    if cpu_index is not None:
        arguments["cpu-index"] = cpu_index
    return {"execute": "human-monitor-command", "arguments": arguments}


def looks_like_error(output: str) -> bool:
    """True when HMP's output is its error text (``unknown command: 'x'``)."""
    return bool(_error_patterns().match(output.lstrip()))


def parse_cpu_command(command_line: str) -> int | None | str:
    """For ``cpu N`` the index N; ``"bad"`` for ``cpu`` with a non-number; else None."""
    words = command_line.split()
    if len(words) != 2 or words[0] != "cpu":
        return None
    number = whole_number(words[1])
    return "bad" if number is None else number
