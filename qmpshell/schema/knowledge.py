"""What the shell knows of a server from its schema: typed values, help, hints and warnings.

It ties the index to the code that reads it (``values``, ``help``) and fetches or
loads the schema, so the index itself imports nothing that explains it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qmpshell.errors import CommandFailed, QmpShellError
from qmpshell.language.parse import ArgumentTyper
from qmpshell.protocol.session import QmpSession
from qmpshell.schema import help as helptext
from qmpshell.schema.index import Message, SchemaIndex
from qmpshell.schema.live import Ask, LiveTypes
from qmpshell.schema.values import SchemaTyper, did_you_mean


class SchemaKnowledge:
    """The ``Knowledge`` the shell uses: typed values, help, hints and warnings from one index."""

    def __init__(self, index: SchemaIndex) -> None:
        self.index = index
        self._typer = SchemaTyper(index)
        self._text = helptext
        self._live_cache: dict[tuple[str, str], Any] = {}  # device types and properties, per server

    @property
    def typer(self) -> ArgumentTyper:
        """Typing by the schema alone (what is not in it is guessed)."""
        return self._typer

    def typer_for(self, ask: Ask) -> ArgumentTyper:
        """Typing by the schema and, where it is silent, by what ``ask`` learns from QEMU."""
        return SchemaTyper(self.index, properties=LiveTypes(ask, self._live_cache))

    def unknown_event(self, name: str) -> str:
        """A one-line complaint when ``name`` (not a glob) is no event of this server, else ''."""
        events = list(self.index.events)
        if not events or any(c in name for c in "*?[") or name in self.index.events:
            return ""
        return f"unknown event '{name}'{did_you_mean(name, events)}"

    def help(self, name: str, narrow: Mapping[str, str] | None = None, width: int = 76) -> str | None:
        return self._text.describe(self.index, name, narrow=narrow, width=width)

    def hint_for_error(self, command: str, response: Message) -> str:
        return self._text.hint_for_error(self.index, command, response)

    def warning_for(self, command: str) -> str:
        return self._text.warning_for(self.index, command)


def fetch_schema(client: QmpSession, *, timeout: float = 30.0) -> list[Any] | None:
    """The raw ``query-qmp-schema`` entries, or None when the server has none (qemu-ga, old QEMU)."""
    try:
        entries = client.execute("query-qmp-schema", timeout=timeout)
    except CommandFailed:
        return None
    return entries if isinstance(entries, list) else None


def knowledge_for(client: QmpSession, *, use_cache: bool = True) -> SchemaKnowledge | None:
    """The server's schema as ``Knowledge``, from the cache when this QEMU was seen before.

    None when the server has no schema; problems with the cache become client
    warnings (printed once by the front-end) and never stop the shell.
    """
    from qmpshell.schema.cache import SchemaCache, cache_key

    if client.greeting is None:  # -N, or not a QMP server: nothing may be sent unasked
        return None
    key = cache_key(client.greeting)
    cache = SchemaCache.default() if use_cache and key else None
    entries = cache.load(key, warn=client.warnings.append) if cache is not None and key else None
    if entries is None:
        try:
            entries = fetch_schema(client)
        except QmpShellError:
            return None
        if entries is None:
            return None
        if cache is not None and key:
            cache.store(key, entries, warn=client.warnings.append)
    return SchemaKnowledge(SchemaIndex.from_entries(entries))
