"""HMP completion: command names, ``info`` subcommands and arguments by kind.

The names are the server's own (``help`` and ``info`` output, when it has
HMP) and those qmpshell runs over QMP on it (``qmpshell.hmp.complete``), so
the list is what this server offers, the storage daemon included.  Argument
values (device ids, device types, block nodes, chardevs, migration
capabilities, trace events, QOM paths) are asked of the server when Tab is
pressed; the completer runs off the UI thread (``ThreadedCompleter``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from qmpshell.errors import QmpShellError
from qmpshell.protocol import traffic
from qmpshell.protocol.session import QmpSession

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Query: TypeAlias = "Callable[[str, dict[str, Any]], Any]"


@dataclass(frozen=True)
class HmpNames:
    """Command names with their one-line help, and ``info`` subcommands."""

    commands: dict[str, str]
    info: dict[str, str]
    query: Query | None = field(default=None, compare=False)  # asks the server for argument values


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
    """Ask the server (on a worker thread); empty names when it cannot say.

    ``probe`` False (``--quiet-monitor``): nothing is asked; the names the shell runs over
    the QMP commands the schema lists (``identify`` took them from it).
    """
    from qmpshell.hmp.complete import offered_names

    if not probe:
        return HmpNames(*offered_names(frozenset(getattr(client.server, "commands", ()))))

    def run(line: str) -> str:
        try:
            with traffic.own(traffic.COMPLETION):
                result = client.execute("human-monitor-command", {"command-line": line}, timeout=timeout)
        except QmpShellError:
            return ""
        return str(result or "")

    server = _server_commands(client, timeout)
    commands, infos = offered_names(server)
    if "human-monitor-command" in server:
        commands.update(parse_help(run("help")))
        infos.update(parse_help(run("info"), prefix="info "))

    def query(command: str, arguments: dict[str, Any]) -> Any:
        with traffic.own(traffic.COMPLETION):
            return client.execute(command, arguments or None, timeout=timeout)

    return HmpNames(commands, infos, query)


def _server_commands(client: QmpSession, timeout: float) -> frozenset[str]:
    """The QMP commands the server has: the list ``identify`` asked at connect, else asked now."""
    from qmpshell.hmp.engine import command_names
    from qmpshell.protocol.server import identify

    try:
        known = identify(client, timeout=timeout).commands
        if known:
            return frozenset(known)
        with traffic.own(traffic.COMPLETION):
            return command_names(client.execute("query-commands", timeout=timeout))
    except QmpShellError:
        return frozenset()


class HmpCompleter(Completer):
    """Completes HMP command names, ``info`` subcommands and arguments whose kind is known."""

    def __init__(self, names: HmpNames) -> None:
        self.names = names

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        from qmpshell.hmp.complete import suggest, values

        found = suggest(document.text_before_cursor)
        if found.kind in ("command", "info"):
            table = self.names.commands if found.kind == "command" else self.names.info
            for name in sorted(table):
                if name.startswith(found.word):
                    yield Completion(name, -len(found.word), display_meta=table[name][:60])
            return
        candidates: Iterable[str] = found.static
        if found.kind not in ("static", "") and self.names.query is not None:
            try:
                candidates = values(found.kind, found.context, found.word, self.names.query)
            except (QmpShellError, KeyError, TypeError, AttributeError):
                candidates = []
        meta = found.kind if found.kind != "static" else ""
        for text in candidates:
            if text.startswith(found.word):
                yield Completion(text, -len(found.word), display_meta=meta)
