"""``/save script FILE``: the statements of this session kept as they ran, written as a script.

Both front-ends hand every statement they run to ``SessionScript.add`` with
its outcome; ``qmpshell.language.script`` decides what a script keeps and how
a failure or a secret is written.  The file is written as ``/save`` writes
the output pane: created 0600, a symlink never followed.
"""

from __future__ import annotations

import threading

from qmpshell.errors import QmpShellError
from qmpshell.language.script import Ran, script_lines, script_text
from qmpshell.outcomes import HmpOutput, Outcome, Reply
from qmpshell.output.render import error_summary
from qmpshell.repl.transcript import save_text

HEADING = "qmpshell script saved by /save script; run it with: qmpshell -f FILE ADDRESS"


class SessionScript:
    """The statements run so far (from the worker thread, hence the lock) and how each ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statements: list[Ran] = []

    def add(self, text: str, *, hmp: bool, result: Outcome | QmpShellError | None, target: str = "") -> None:
        """A statement run in ``hmp`` mode (or not), and what came of it; ``target``: where it ran,
        in a session of several targets when the line did not name one (``@NAME`` in the script)."""
        with self._lock:
            self._statements.append(Ran(text, hmp, failure(result), target))

    def save(self, path: str) -> int:
        """Write the script to ``path``; how many statements it runs (those left as comments aside)."""
        with self._lock:
            statements = list(self._statements)
        save_text(path, script_text(statements, heading=HEADING))
        return sum(1 for lines in map(script_lines, statements) if lines and not lines[0].startswith("#"))


def failure(result: Outcome | QmpShellError | None) -> str:
    """Why a statement failed ('' when it did not): the error, an error reply, HMP's error text."""
    if isinstance(result, QmpShellError):
        return str(result) or type(result).__name__
    if isinstance(result, Reply) and not result.ok:
        return error_summary(result.response)
    if isinstance(result, HmpOutput) and result.error:
        return f"HMP: {result.text.strip()}"
    return ""
