"""Join input lines into statements: ``\\`` continuations, open JSON, transactions.

Both front-ends read lines; a statement may span several of them.  The
assembler is fed one line at a time and hands back a ``Statement`` once one is
complete, so that batch mode can number lines and the REPL can show a
continuation prompt while ``pending`` is true.  A line without a bracket or a
``\\`` at its end is a statement by itself, decided without the tokenizer, which
is loaded for the first line that needs it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.language.syntax import OpenJson


class Statement(NamedTuple):
    """The text of one statement and the number of the line it started on.

    ``source`` is the lines as typed (``\\`` continuations kept), so that the
    statement can be fed to an assembler again (history recall) and come out whole.
    """

    lineno: int
    text: str
    source: str = ""


class Assembler:
    """Accumulates lines until they form a complete statement."""

    def __init__(self, *, hmp: bool = False) -> None:
        self.hmp = hmp
        self._lines: list[str] = []
        self._raw: list[str] = []
        self._start = 0
        self._in_transaction = False  # inside transaction( ... ) with no bracket open
        self._open_json: OpenJson | None = None  # the statement ends in a JSON value still open

    @property
    def pending(self) -> bool:
        """True while an unfinished statement waits for more lines."""
        return bool(self._lines)

    @property
    def in_transaction(self) -> bool:
        """True while the unfinished statement is a ``transaction(`` block."""
        return self._in_transaction

    def feed(self, line: str, lineno: int = 0) -> Statement | None:
        """Add one line; return the statement it completes, if any."""
        line = line.rstrip("\r\n")
        if not self._lines:
            if _is_blank(line):
                return None
            if not line.endswith("\\") and not _MAY_CONTINUE.search(line):
                return Statement(lineno, line, line)  # whole in itself: what the rest would decide
            self._start = lineno
        self._raw.append(line)
        if line.endswith("\\") and not line.endswith("\\\\"):
            self._lines.append(line[:-1])
            self._read_on(line[:-1])
            return None
        self._lines.append(line)
        if self._read_on(line):
            return None  # still inside the open JSON value: decided without reading the rest again
        if self._in_transaction and self._transaction_continues(line):
            return None
        text = "\n".join(self._lines)
        if self._wants_more(text):
            return None
        return self._take(text)

    def finish(self) -> Statement | None:
        """End of input: return what is left (it will fail to parse if unfinished)."""
        if not self._lines:
            return None
        return self._take("\n".join(self._lines).rstrip())

    def reset(self) -> None:
        """Drop an unfinished statement (Ctrl-C in the REPL)."""
        self._lines = []
        self._raw = []
        self._in_transaction = False
        self._open_json = None

    def _read_on(self, line: str) -> bool:
        """True while an open JSON value stays open after this line (then nothing else can end it)."""
        if self._open_json is None:
            return False
        if self._open_json.more("\n" + line):
            return True
        self._open_json = None  # closed or wrong: the whole statement is tokenized once more
        return False

    def _take(self, text: str) -> Statement:
        source = "\n".join(self._raw)
        self.reset()
        return Statement(self._start, text, source)

    def _transaction_continues(self, line: str) -> bool:
        """One more action line: only that line is read, so long transactions stay linear.

        False means "look at the whole statement": the line closes it, or opens a bracket.
        """
        from qmpshell.language.syntax import Kind, first_error, significant, tokenize

        tokens = tokenize(line, hmp=self.hmp)
        if first_error(tokens) is not None:
            return False
        words = significant(tokens)
        return not words or words[-1].kind is not Kind.CLOSE

    def _wants_more(self, text: str) -> bool:
        if not _MAY_CONTINUE.search(text):
            return False  # the common case, decided without tokenizing twice
        from qmpshell.language.syntax import Kind, OpenJson, first_error, significant, tokenize

        tokens = tokenize(text, hmp=self.hmp)
        error = first_error(tokens)
        if error is not None:
            if error.incomplete and error.text[:1] in "{[":
                self._open_json = OpenJson()
                self._open_json.more(error.text)
            return error.incomplete
        words = significant(tokens)
        in_transaction = len(words) > 1 and words[1].kind is Kind.OPEN
        self._in_transaction = in_transaction and words[-1].kind is not Kind.CLOSE
        return self._in_transaction


_MAY_CONTINUE = re.compile(r"[\[{(]")


def _is_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def read_statements(lines: Iterable[str], *, hmp: bool = False) -> Iterator[Statement]:
    """Statements from numbered lines (1-based), as a script or stdin gives them."""
    assembler = Assembler(hmp=hmp)
    for number, line in enumerate(lines, start=1):
        statement = assembler.feed(line, number)
        if statement is not None:
            yield statement
    last = assembler.finish()
    if last is not None:
        yield last
