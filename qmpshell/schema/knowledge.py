"""What the shell knows of a server from its schema: typed values, help, hints and warnings.

It ties the index to the code that reads it (``values``, ``help``, ``live``) and
fetches or loads the schema, so the index itself imports nothing that explains it.

Batch mode reads the schema only when a line needs it (``LazyKnowledge``): a
line without arguments (``qmpshell -c query-status``) is sent without it, so a
one-shot pays neither the cache file nor the modules that read it.  This
module therefore imports the schema code inside the functions that use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from qmpshell.errors import CommandFailed, QmpShellError
from qmpshell.protocol import traffic
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.language.untyped import ArgumentTyper
    from qmpshell.protocol.session import QmpSession
    from qmpshell.schema.cache import SchemaCache
    from qmpshell.schema.index import Named, SchemaIndex
    from qmpshell.schema.livetypes import Ask


class SchemaKnowledge:
    """The ``Knowledge`` the shell uses: typed values, help, hints and warnings from one index."""

    def __init__(self, index: SchemaIndex, *, key: str = "", cache_path: str = "") -> None:
        from qmpshell.schema.values import SchemaTyper

        self.index = index
        self.key = key  # the cache key of the server it belongs to ('' when it has none)
        self.cache_path = cache_path  # the cache file it was read from; '' when the server sent it
        self.confirmed = not cache_path  # a cached schema is confirmed by fetching it again
        self.read_entries: Callable[[], list[Any]] = list  # the schema it was built from (entries_digest)
        self._digest = ""
        self._typer = SchemaTyper(index)
        self._live_cache: dict[tuple[str, str], Any] = {}  # device types and properties, per server

    @property
    def entries_digest(self) -> str:
        """``entries_digest`` of the schema it was built from, computed when first asked (only the
        interactive shell's check of a cached schema asks: 4 ms a batch run need not pay)."""
        if not self._digest:
            entries = self.read_entries()
            self._digest = entries_digest(entries) if entries else ""
        return self._digest

    @property
    def typer(self) -> ArgumentTyper:
        """Typing by the schema alone (what is not in it is guessed)."""
        return self._typer

    def typer_for(self, ask: Ask) -> ArgumentTyper:
        """Typing by the schema and, where it is silent, by what ``ask`` learns from QEMU."""
        from qmpshell.schema.livetypes import LiveTypes
        from qmpshell.schema.values import SchemaTyper

        return SchemaTyper(self.index, properties=LiveTypes(ask, self._live_cache))

    def unknown_event(self, name: str) -> str:
        """A one-line complaint when ``name`` (not a glob) is no event of this server, else ''."""
        from qmpshell.schema.values import did_you_mean

        events = list(self.index.events)
        if not events or any(c in name for c in "*?[") or name in self.index.events:
            return ""
        return f"unknown event '{name}'{did_you_mean(name, events)}"

    def help(self, name: str, narrow: Mapping[str, str] | None = None, width: int = 76) -> str | None:
        from qmpshell.schema import help as helptext  # loaded by the first help, hint or warning

        return helptext.describe(self.index, name, narrow=narrow, width=width)

    def hint_for_error(self, command: str, response: Message) -> str:
        from qmpshell.schema import help as helptext

        return helptext.hint_for_error(self.index, command, response)

    def warning_for(self, command: str) -> str:
        from qmpshell.schema.deprecation import warning_for

        return warning_for(self.index, command)


SCHEMA_TIMEOUT = 30.0  # seconds query-qmp-schema may take (a big reply), unless --timeout is shorter


def schema_timeout(command_timeout: float | None) -> float:
    """How long to wait for the schema: never longer than the user lets a command take."""
    return SCHEMA_TIMEOUT if command_timeout is None else min(SCHEMA_TIMEOUT, command_timeout)


def fetch_schema(client: QmpSession, *, timeout: float = SCHEMA_TIMEOUT) -> list[Any] | None:
    """The raw ``query-qmp-schema`` entries, or None when the server has none (qemu-ga, old QEMU)."""
    try:
        with traffic.own(traffic.SCHEMA):
            entries = client.execute("query-qmp-schema", timeout=timeout)
    except CommandFailed:
        return None
    return entries if isinstance(entries, list) else None


def knowledge_for(
    client: QmpSession,
    *,
    use_cache: bool = True,
    warn: Callable[[str], None] | None = None,
    timeout: float = SCHEMA_TIMEOUT,
) -> SchemaKnowledge | None:
    """The server's schema as ``Knowledge``, from the cache when this very server was seen before.

    The cache key is the server's (``ServerIdentity.schema_key``: version, package,
    command list and, for a local socket, its executable; with ``--quiet-monitor``
    the executable alone, and no cache when it is unknown), so the emulator and the
    storage daemon of one build never share a cached schema.  None when the server
    has no schema; problems with the cache go to ``warn`` (by default the client's
    warnings, printed once by the front-end) and never stop the shell.
    """
    from qmpshell.protocol.server import identify
    from qmpshell.schema.cache import SchemaCache

    if getattr(client, "agent", False):
        return agent_knowledge(client, timeout=timeout)
    if client.greeting is None:  # -N to a QMP server: nothing may be sent unasked
        return None
    warn = warn or client.warnings.append
    try:
        key = identify(client, timeout=timeout).schema_key()
    except QmpShellError:
        return None
    cache = SchemaCache.default() if use_cache and key else None
    named = cache.load(key, warn=warn) if cache is not None else None
    if named is not None and cache is not None:
        return learnt(client, cached_knowledge(named, key=key, cache_path=cache.path(key)))
    return fetched_knowledge(client, key=key, cache=cache, warn=warn, timeout=timeout)


def learnt(client: QmpSession, knowledge: SchemaKnowledge) -> SchemaKnowledge:
    """``knowledge``, and with ``--quiet-monitor`` the server's command list (and so its kind)
    taken from it: the schema lists every command, so nothing else need be asked."""
    from qmpshell.protocol.server import ServerIdentity

    server = client.server
    if isinstance(server, ServerIdentity) and not server.asked:
        client.server = server.with_commands(knowledge.index.commands)
    return knowledge


def agent_knowledge(client: QmpSession, *, timeout: float = SCHEMA_TIMEOUT) -> SchemaKnowledge | None:
    """What a guest agent's ``guest-info`` says: its command names, disabled ones marked.

    The agent has no ``query-qmp-schema``: its arguments come from its reference manual
    when installed (``schema.agentref``), else are guessed; a misspelt command name is
    refused before it is sent either way.
    """
    from qmpshell.protocol.server import identify

    try:
        server = identify(client, timeout=timeout)
    except QmpShellError:
        return None
    if not server.commands:
        return None
    from qmpshell.schema.agentref import argument_entries, read_manual

    entries = argument_entries(read_manual(), list(server.commands))
    for entry in entries:
        if entry["meta-type"] == "command" and entry["name"] in server.disabled:
            entry["features"] = ["disabled"]
    return knowledge_from(entries, key="")


def fetched_knowledge(
    client: QmpSession,
    *,
    key: str,
    cache: SchemaCache | None,
    warn: Callable[[str], None],
    timeout: float = SCHEMA_TIMEOUT,
) -> SchemaKnowledge | None:
    """The schema asked of the server now (and written to ``cache``); None when it has none."""
    try:
        entries = fetch_schema(client, timeout=timeout)
    except QmpShellError:
        return None
    if entries is None:
        return None
    if cache is not None and key:
        cache.store(key, entries, warn=warn)
    return learnt(client, knowledge_from(entries, key=key))


def knowledge_from(entries: list[Any], *, key: str) -> SchemaKnowledge:
    """The knowledge of a schema the server sent (or the guest agent's, made up)."""
    from qmpshell.schema.index import SchemaIndex

    knowledge = SchemaKnowledge(SchemaIndex.from_entries(entries), key=key)
    knowledge.read_entries = lambda: entries
    return knowledge


def cached_knowledge(named: list[Named], *, key: str, cache_path: str) -> SchemaKnowledge:
    """The knowledge of a cached schema, its entries still text (``schema.index.Entities``)."""
    from qmpshell.schema.index import SchemaIndex, decoded

    knowledge = SchemaKnowledge(SchemaIndex.from_named(named), key=key, cache_path=cache_path)
    knowledge.read_entries = lambda: [decoded(entry) for _, _, entry in named]
    return knowledge


def entries_digest(entries: list[Any]) -> str:
    """A hash of a schema as JSON, to tell whether the cached one is still the server's."""
    import hashlib
    import json

    text = json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()
