"""From what is typed, pasted or recalled to statements: the queue, the assembler and the history.

Enter may hand over several lines at once (a bracketed paste, a recalled
multi-line statement); each line is queued and fed to the ``Assembler`` in turn,
so ``query-status⏎query-name⏎`` is two statements and a ``transaction(`` block
is one.  Lines typed while a command runs wait in the same queue.  The history
holds whole statements, not lines: a transaction comes back whole on Up, and a
statement typed in HMP mode is kept as ``/hmp LINE`` so that recalling it in
QMP mode does not send it as QMP.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from prompt_toolkit.formatted_text import StyleAndTextTuples

from qmpshell.language.statements import Assembler, Statement

QUEUED_SHOWN = 5  # queued lines listed above the input; more are counted


class InputQueue:
    """The lines waiting to run and the statement being assembled from them.

    ``remember`` keeps a history entry (``InteractiveCore.remember``, or the line
    mode's prompt history, which prompt_toolkit's Up reads too)."""

    def __init__(self, remember: Callable[[str], None], *, hmp: bool) -> None:
        self._remember = remember
        self.assembler = Assembler(hmp=hmp)
        self.queue: deque[str] = deque()

    def add(self, text: str) -> None:
        """What Enter accepted: one line, or several (a paste) whose blank lines are dropped."""
        lines = text.split("\n")
        if len(lines) > 1:
            lines = [line for line in lines if line.strip()]
        self.queue.extend(lines)

    def take(self) -> str | None:
        return self.queue.popleft() if self.queue else None

    def feed(self, line: str, *, hmp: bool) -> Statement | None:
        """One line to the assembler; a completed statement is also added to the history."""
        self.assembler.hmp = hmp
        statement = self.assembler.feed(line)
        if statement is not None:
            self.remember(statement, hmp=hmp)
        return statement

    def remember(self, statement: Statement, *, hmp: bool) -> None:
        self._remember(history_entry(statement.source or statement.text, hmp=hmp))

    def ends_pending(self, line: str) -> bool:
        """Enter on an empty continuation line abandons the unfinished statement."""
        return self.assembler.pending and not line.strip()

    def discard_pending(self) -> str:
        """Drop the unfinished statement; what to tell the user ('' when there was none)."""
        return discard_statement(self.assembler)

    def discard_queue(self) -> str:
        """Drop the lines waiting behind a command (Ctrl-C); what to tell the user."""
        count = len(self.queue)
        self.queue.clear()
        if not count:
            return ""
        return f"{count} queued line{'s' if count > 1 else ''} discarded"

    def queued_fragments(self) -> StyleAndTextTuples:
        """The waiting lines, as the pane above the input shows them."""
        if not self.queue:
            return []
        lines = list(self.queue)[:QUEUED_SHOWN]
        more = len(self.queue) - len(lines)
        text = "".join(f"queued> {line}\n" for line in lines)
        if more:
            text += f"queued> ... and {more} more\n"
        return [("class:queued", text.rstrip("\n"))]


def discard_statement(assembler: Assembler) -> str:
    """Drop the statement being assembled; what to tell the user ('' when there was none)."""
    if not assembler.pending:
        return ""
    what = "transaction" if assembler.in_transaction else "unfinished statement"
    assembler.reset()
    return f"{what} discarded"


def history_entry(source: str, *, hmp: bool) -> str:
    """What the history keeps for a statement: HMP lines as ``/hmp LINE``, shell commands as typed."""
    if hmp and not source.lstrip().startswith("/"):
        return "/hmp " + source.strip()
    return source
