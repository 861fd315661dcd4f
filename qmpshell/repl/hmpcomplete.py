"""HMP completion from the server's own ``help`` and ``info`` output, fetched once.

``help`` prints one command per line (``name|alias args -- text``, with
continuation lines indented by tabs); ``info`` prints ``info name args -- text``.
The names are taken from there, so the list is exactly what this QEMU offers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from qmpshell.errors import QmpShellError
from qmpshell.protocol import traffic
from qmpshell.protocol.session import QmpSession


@dataclass(frozen=True)
class HmpNames:
    """Command names with their one-line help, and ``info`` subcommands."""

    commands: dict[str, str]
    info: dict[str, str]


def parse_help(text: str, *, prefix: str = "") -> dict[str, str]:
    """``{name: description}`` from HMP ``help`` (or ``info``, with ``prefix="info "``) output."""
    names: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line or line[0].isspace() or not line.startswith(prefix):
            continue
        head, _, description = line[len(prefix) :].partition(" -- ")
        words = head.split()
        if not words:
            continue
        for name in words[0].split("|"):
            names[name] = description.strip()
    return names


def fetch_hmp_names(client: QmpSession, *, timeout: float, probe: bool = True) -> HmpNames:
    """Ask the server (on a worker thread); empty names when it cannot say, or may not be asked."""
    if not probe:  # --quiet-monitor
        return HmpNames({}, {})

    def run(line: str) -> str:
        try:
            with traffic.own(traffic.COMPLETION):
                result = client.execute("human-monitor-command", {"command-line": line}, timeout=timeout)
        except QmpShellError:
            return ""
        return str(result or "")

    return HmpNames(parse_help(run("help")), parse_help(run("info"), prefix="info "))


class HmpCompleter(Completer):
    """Completes the HMP command name, and the subcommand after ``info``."""

    def __init__(self, names: HmpNames) -> None:
        self.names = names

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        before = document.text_before_cursor
        words = before.split()
        if before.endswith(" "):
            words.append("")
        if len(words) <= 1:
            table = self.names.commands
        elif len(words) == 2 and words[0] == "info":
            table = self.names.info
        else:
            return
        word = words[-1] if words else ""
        for name in sorted(table):
            if name.startswith(word):
                yield Completion(name, -len(word), display_meta=table[name][:60])
