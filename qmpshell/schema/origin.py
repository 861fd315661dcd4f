"""``/schema``: where the shell's schema came from, and ``/schema reload`` to ask the server again.

A cached schema is only as good as its key (``ServerIdentity.schema_key``), so
the user can see both: the file it was read from, or the server, and the key.
``reload`` fetches ``query-qmp-schema`` whatever the cache holds and rewrites
the cache file, for the rare build the key cannot tell apart (a remote server
rebuilt with the same version and command list).
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.errors import CommandFailed, QmpShellError
from qmpshell.protocol.server import ServerIdentity, identify

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.protocol.session import QmpSession
    from qmpshell.schema.knowledge import SchemaKnowledge

USAGE = "usage: /schema [reload]"


def schema_of(knowledge: object) -> SchemaKnowledge | None:
    """The loaded ``SchemaKnowledge`` behind the shell's knowledge (loading a lazy one now)."""
    from qmpshell.schema.deferred import LazyKnowledge
    from qmpshell.schema.knowledge import SchemaKnowledge

    if isinstance(knowledge, LazyKnowledge):
        knowledge = knowledge.knowledge()
    return knowledge if isinstance(knowledge, SchemaKnowledge) else None


def describe(knowledge: object, client: QmpSession, *, timeout: float) -> str:
    """Lines saying where the schema came from, its key and which server it belongs to."""
    schema = schema_of(knowledge)
    server = _server(client, timeout)
    source = "none loaded (-N: the shell asks nothing of its own; or not yet)" if knowledge is None else ""
    lines = [f"schema: {source or _source(schema, client)}"]
    if schema is not None:
        lines.append(f"key: {schema.key or _no_key(client, server)}")
    lines.append(f"server: {_server_line(server)}")
    return "\n".join(lines)


def _source(schema: SchemaKnowledge | None, client: QmpSession) -> str:
    if schema is None:
        if getattr(client, "agent", False) and not getattr(client, "probe", True):
            return "none (a guest agent has no query-qmp-schema; --quiet-monitor: guest-info is not asked)"
        if getattr(client, "agent", False):
            return "none (a guest agent has no query-qmp-schema; commands come from guest-info)"
        if client.greeting is None:
            return "none (-N: the shell sends nothing of its own)"
        return "none (the server has no query-qmp-schema)"
    if getattr(client, "agent", False):
        return _agent_source()
    if not schema.cache_path:
        return "from the server (query-qmp-schema)"
    confirmed = "; confirmed by the server" if schema.confirmed else ""
    return f"from the cache file {schema.cache_path}{confirmed}"


def _agent_source() -> str:
    """A guest agent's schema: guest-info's names, and arguments from its manual when installed."""
    from qmpshell.schema.agentref import installed_manual

    manual = installed_manual()
    arguments = f"arguments from {manual}" if manual else "arguments guessed (qemu-ga-ref.7 is not installed)"
    return f"built from guest-info's command list, {arguments}"


def _no_key(client: QmpSession, server: ServerIdentity | None) -> str:
    if getattr(client, "agent", False):
        return "(none: a guest agent's schema is rebuilt on every connection, never cached)"
    if server is not None and not server.asked:
        return "(none: --quiet-monitor and the server's executable is unknown, so the cache is not used)"
    return "(none: the server reports no version)"


def _server(client: QmpSession, timeout: float) -> ServerIdentity | None:
    try:
        return identify(client, timeout=timeout)
    except QmpShellError:
        return None


def _server_line(server: ServerIdentity | None) -> str:
    if server is None:
        return "unknown (the connection ended)"
    parts = [server.label + (f" ({server.package})" if server.package else "")]
    if server.commands:
        parts.append(f"{len(server.commands)} commands")
    if server.binary:
        parts.append(f"binary {server.binary}")
    return ", ".join(parts)


def reload(
    client: QmpSession, *, use_cache: bool, timeout: float, warn: Callable[[str], None]
) -> SchemaKnowledge:
    """The schema fetched from the server now (and written to the cache); CommandFailed without one."""
    from qmpshell.schema.cache import SchemaCache
    from qmpshell.schema.knowledge import fetched_knowledge

    if client.greeting is None:
        raise CommandFailed("/schema reload: this server has no query-qmp-schema")
    key = identify(client, timeout=timeout).schema_key()
    cache = SchemaCache.default() if use_cache and key else None
    schema = fetched_knowledge(client, key=key, cache=cache, warn=warn, timeout=timeout)
    if schema is None:
        raise CommandFailed("/schema reload: the server sent no schema")
    return schema


def confirm(
    client: QmpSession,
    schema: SchemaKnowledge,
    *,
    use_cache: bool,
    timeout: float,
    warn: Callable[[str], None],
) -> SchemaKnowledge | None:
    """Fetch the schema a cached one stands for: None when it is the same (now ``confirmed``),
    else the server's own, written over the cache file.  Run on a worker thread: it waits for
    the whole ``query-qmp-schema`` (20 ms for QEMU 7.2's 200 KB)."""
    from qmpshell.schema.cache import SchemaCache
    from qmpshell.schema.knowledge import entries_digest, fetch_schema, knowledge_from

    entries = fetch_schema(client, timeout=timeout)
    if entries is None:
        return None
    if entries_digest(entries) == schema.entries_digest:
        schema.confirmed = True
        return None
    if use_cache and schema.key:
        SchemaCache.default().store(schema.key, entries, warn=warn)
    return knowledge_from(entries, key=schema.key)
