"""A session or a history as a script that ``-f`` runs: ``/save script FILE`` and ``--history-script``.

What a script keeps of a statement is what made something happen on the server:
QMP commands (transactions whole, raw JSON as typed), HMP lines (written
``/hmp LINE``, so the script runs the same in either mode) and ``/wait`` lines.
The rest (``/help``, ``/events``, ``/find``, the mode switches...) acts on the
shell only and is left out.  A statement that failed is kept as comments
headed by its error, so that the script runs what worked and still shows what
was tried.  Secrets are kept out as the history keeps them out
(``qmpshell.language.redact``): credentials in a URL are redacted, a statement
holding any other secret becomes a comment naming only its command.
"""

from __future__ import annotations

from collections.abc import Iterable

from qmpshell.language.redact import line_has_secret, redact_url_credentials
from qmpshell.language.syntax import Kind, significant, tokenize
from qmpshell.records import NamedTuple

KEPT_SHELL_COMMANDS = frozenset({"wait"})  # besides "/hmp LINE": what a script needs to run the same


class Ran(NamedTuple):
    """One statement of a session: its text as typed, the mode it was typed in, and why it failed."""

    text: str
    hmp: bool = False
    error: str = ""  # '' when it ran
    target: str = ""  # the target it ran on, in a session of several that it did not name itself


def script_text(statements: Iterable[Ran], *, heading: str = "") -> str:
    """The script of ``statements`` (those a script keeps), one statement after another."""
    lines = [f"# {line}" for line in heading.splitlines()]
    for statement in statements:
        lines.extend(script_lines(statement))
    return "".join(line + "\n" for line in lines)


def script_lines(statement: Ran) -> list[str]:
    """The lines of one statement in a script: itself, a comment, or nothing."""
    text = _as_script_statement(redact_url_credentials(statement.text), hmp=statement.hmp)
    if text is None:
        return []
    if statement.target:  # in a script of several targets a line without @NAME runs on every one
        text = f"@{statement.target} {text}"
    if line_has_secret(text):
        return [f"# left out: a statement holding a secret ({_head(text)} ...)"]
    if statement.error:
        error = " ".join(statement.error.split())
        return [f"# failed: {error}", *(f"# {line}" for line in text.splitlines())]
    return text.splitlines()


def keeps(text: str, *, hmp: bool = False) -> bool:
    """True when a script keeps this statement (as itself or as a comment)."""
    return _as_script_statement(text, hmp=hmp) is not None


def _as_script_statement(text: str, *, hmp: bool) -> str | None:
    """The statement as a script writes it (HMP lines as ``/hmp LINE``), or None when not kept."""
    text = text.strip()
    if not text or text.startswith("#"):
        return None
    if hmp and not text.startswith("/"):
        text = "/hmp " + text
    words = significant(tokenize(text))
    if not words:
        return None
    head = words[0]
    if head.kind is not Kind.SHELL:
        return text  # a command, a transaction, raw JSON; or a line that does not parse
    name = head.text[1:]
    if name == "hmp":
        return text if len(words) > 1 else None
    return text if name in KEPT_SHELL_COMMANDS else None


def _head(text: str) -> str:
    words = text.split()
    if words and words[0] == "/hmp" and len(words) > 1:
        return f"/hmp {words[1]}"
    return words[0] if words else ""


def history_entries(data: bytes) -> list[str]:
    """The entries of a history file, oldest first, in prompt_toolkit's ``FileHistory`` format:
    ``# time`` lines between entries, each line of an entry written as ``+LINE``."""
    found: list[str] = []
    lines: list[str] = []
    for raw in data.decode("utf-8", errors="replace").split("\n"):  # \n only, as FileHistory reads it
        raw += "\n"
        if raw.startswith("+"):
            lines.append(raw[1:])
        elif lines:
            found.append("".join(lines).removesuffix("\n"))
            lines = []
    if lines:
        found.append("".join(lines).removesuffix("\n"))
    return found


def history_script(entries: list[str], last: int | None = None) -> str:
    """``--history-script [N]``: the last ``last`` statements a script keeps (None: all of them).

    The history holds statements as typed, HMP ones already as ``/hmp LINE``,
    and no outcome: nothing is known to have failed.
    """
    kept = [Ran(entry) for entry in entries if keeps(entry)]
    if last is not None:
        kept = kept[-last:] if last > 0 else []
    return script_text(kept)
