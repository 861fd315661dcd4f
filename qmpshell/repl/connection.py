"""The REPL's link to QEMU: one client (socket or libvirt) at a time, the ``Shell`` over it, and reconnecting.

A client connects once, so reconnecting builds a new one and hands it to
the same ``Shell``.  The VM run state is kept from ``query-status`` and then
from ``STOP``/``RESUME``/``SHUTDOWN`` events.  Nothing here draws anything:
the application reads ``status()`` and the events arrive through ``on_event``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from qmpshell.config import Settings
from qmpshell.errors import QmpShellError
from qmpshell.protocol import traffic
from qmpshell.protocol.address import Address, describe
from qmpshell.protocol.events import EventLog
from qmpshell.protocol.server import ServerIdentity, identify
from qmpshell.protocol.session import QmpSession, make_client
from qmpshell.qmptypes import Message
from qmpshell.records import NamedTuple, Protocol
from qmpshell.schema.knowledge import SchemaKnowledge, knowledge_for, schema_timeout
from qmpshell.schema.origin import confirm
from qmpshell.shell import Shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.protocol.logfile import MessageLog  # a type: datetime and redaction load only with -l

EventSink = Callable[[Message], None]


class EventRelay:
    """The event sink of a link opened before its front-end's events pane exists (the full screen
    connects, then draws the instant prompt, then loads prompt_toolkit): events are kept until
    ``attach`` gives them, in order, to the pane's sink, which gets every later one directly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: list[Message] = []
        self._sink: EventSink | None = None

    def __call__(self, event: Message) -> None:
        with self._lock:
            sink = self._sink
            if sink is None:
                self._kept.append(event)
                return
        sink(event)

    def attach(self, sink: EventSink) -> None:
        with self._lock:  # an event arriving meanwhile waits: none overtakes the kept ones
            for event in self._kept:
                sink(event)
            self._kept.clear()
            self._sink = sink


# /wait looks at events since the last command; a long-lived shell under a flood must not grow without end.
EVENTS_KEPT_FOR_WAIT = 10_000
_RUN_STATE_EVENTS = {"STOP": "paused", "RESUME": "running", "SHUTDOWN": "shutdown"}
# Run states that end with no event to say so (finish-migrate becomes postmigrate silently), and how
# long the status bar keeps asking after one.
_PASSING_STATES = frozenset({"finish-migrate", "save-vm", "restore-vm"})
_PASSING_STATES_WAIT = 60.0


def shown_state(status: Message) -> str:
    """``running``, ``paused``, or ``paused (postmigrate)``: as the query-status view says it."""
    state = str(status.get("status", "?"))
    return state if status.get("running") or state in ("running", "paused") else f"paused ({state})"


def _state_may_differ(event: Message) -> bool:
    """After this event the run state may be more than the event says (``postmigrate``, ``io-error``)."""
    data = event.get("data")
    if event.get("event") == "MIGRATION":
        return isinstance(data, dict) and data.get("status") in ("completed", "failed", "cancelled")
    return event.get("event") == "STOP"


class Status(NamedTuple):
    """What the status bar shows.  A NamedTuple, not a dataclass: dataclasses (and inspect under it)
    cost 6 ms before the instant prompt's frame, which draws it."""

    address: str
    version: str
    run_state: str  # '' for a server without one (storage daemon, guest agent)
    hmp: bool
    events: int
    lost: str
    server: str = ""  # QEMU, qemu-storage-daemon, qemu-ga: its name, once known


class Link(Protocol):
    """What the front-ends use of their link to the servers: one ``Connection``, or several
    with a current one (``qmpshell.repl.fleet``)."""

    settings: Settings

    @property
    def name(self) -> str: ...  # the current target's name ('' with one target)

    @property
    def address(self) -> Address: ...

    @property
    def client(self) -> QmpSession: ...

    @property
    def shell(self) -> Shell: ...

    @property
    def lost(self) -> str: ...

    def members(self) -> dict[str, Connection]: ...

    def came_back(self) -> Connection: ...

    def refresh_run_state(self) -> None: ...

    def load_knowledge(self) -> None: ...

    def confirm_schema(self) -> bool: ...

    @property
    def schema_ready(self) -> threading.Event: ...  # the (current target's) first schema load ended

    def reconnect(self) -> bool: ...

    def status(self) -> Status: ...

    def close(self) -> None: ...


class Connection:
    """Owns the current client; ``reconnect()`` replaces it after the connection ends."""

    def __init__(
        self,
        address: Address,
        settings: Settings,
        *,
        log: MessageLog | None,
        on_event: EventSink,
        name: str = "",
    ) -> None:
        self.name = name  # with several targets, what @NAME, the prompt and the events pane say
        self.address = address
        self.settings = settings
        self._log = log
        self._on_event = on_event
        self.events = EventLog(limit=EVENTS_KEPT_FOR_WAIT)
        self.run_state = "?"
        self.schema_ready = threading.Event()  # the first load_knowledge ended (a schema, or none)
        self._lock = threading.Lock()
        self.client = self._new_client()
        self.client.connect()
        self.shell = Shell(
            self.client, self.events, hmp=settings.hmp, timeout=settings.timeout, hmp_via=settings.hmp_via
        )
        self.shell.qapi_dir, self.shell.docs_cache = settings.qapi_dir, settings.schema_cache
        self.shell.probe = settings.probe
        self.shell.schema_cache = settings.schema_cache
        self.shell.load_schema = self.load_knowledge
        self._knowledge_lock = threading.Lock()  # the worker and /schema may both load it
        self._schema_of: QmpSession | None = None  # the client the shell's schema was loaded for
        self._note_kind()

    def _new_client(self) -> QmpSession:
        return make_client(
            self.address,
            on_event=self._event,
            on_disconnect=lambda lost: self.events.connection_ended(str(lost)),
            log=self._log,
            negotiate=self.settings.negotiate,
            connect_timeout=self.settings.connect_timeout,
            probe=self.settings.probe,
        )

    def _event(self, event: Message) -> None:
        """Called on the client's reader thread."""
        self.events.add(event)
        state = _RUN_STATE_EVENTS.get(str(event.get("event")))
        if state is not None:
            self.run_state = state
        if self.settings.probe and _state_may_differ(event):  # ask on a thread: this one reads the reply
            threading.Thread(target=self.refresh_run_state, name="qmpshell-status", daemon=True).start()
        self._on_event(event)

    def members(self) -> dict[str, Connection]:
        """The targets of this session: this one."""
        return {self.name: self}

    def came_back(self) -> Connection:
        """The connection the last ``reconnect`` brought back: this one."""
        return self

    @property
    def lost(self) -> str:
        """Why the connection ended ('' while it is up)."""
        lost = self.client.lost
        return str(lost) if lost is not None else ""

    def identify(self) -> ServerIdentity | None:
        """Which server this is (worker thread: it may ask ``query-commands`` or ``guest-info``)."""
        try:
            return identify(self.client, timeout=self.settings.connect_timeout)
        except QmpShellError:
            return None

    def _note_kind(self) -> None:
        """Ask which server this is now (the welcome line names it: QEMU, qemu-storage-daemon,
        qemu-ga); a server without a run state shows none, rather than '?'."""
        server = self.identify()
        self.run_state = "" if server is not None and not server.has_run_state else "?"

    def refresh_run_state(self) -> None:
        """Ask ``query-status`` (on a worker thread: it waits for QEMU); not of a server without one."""
        server = self.identify()
        if server is not None and not server.has_run_state:
            self.run_state = ""
            return
        if self.client.greeting is None or not self.settings.probe:
            return  # -N (the user negotiates by hand) or --quiet-monitor: nothing of the shell's own
        wait, give_up = 0.1, time.monotonic() + _PASSING_STATES_WAIT
        while self._ask_run_state() in _PASSING_STATES and time.monotonic() < give_up:
            time.sleep(wait)  # no event says when it has passed: ask again, less and less often
            wait = min(wait * 2, 1.0)

    def _ask_run_state(self) -> str:
        """``query-status``, its state kept for the status bar; '' when it could not be asked."""
        try:
            with traffic.own(traffic.STATUS):
                status = self.client.execute("query-status", timeout=self.settings.connect_timeout)
        except QmpShellError:
            return ""
        if not isinstance(status, dict):
            return ""
        self.run_state = shown_state(status)
        return str(status.get("status", ""))

    def load_knowledge(self) -> None:
        """Fetch (or read the cached) schema, unless the shell has this very server's already.

        Reconnecting may reach another server on the same socket (the storage
        daemon where the emulator was): its key differs, so its schema is loaded.
        ``schema_ready`` is set once it ended, however: a line typed meanwhile waits for it.
        """
        try:
            self._load_knowledge()
        finally:
            self.schema_ready.set()

    def _load_knowledge(self) -> None:
        with self._knowledge_lock:
            current = self.shell.knowledge
            server = self.identify()
            key = server.schema_key() if server is not None else ""
            client = self.client
            if isinstance(current, SchemaKnowledge) and (
                self._schema_of is client or key and current.key == key
            ):
                return  # this connection's (a server without a key: --quiet-monitor over TCP)
            try:
                self.shell.knowledge = knowledge_for(
                    client,
                    use_cache=self.settings.schema_cache,
                    warn=self.shell.warnings.warn,  # after the welcome line: the front-end drains it later
                    timeout=schema_timeout(self.settings.timeout),
                )
            except QmpShellError:
                return
            self._schema_of = client
            server = self.identify()  # --quiet-monitor: the schema told its kind
            if server is not None and not server.has_run_state:
                self.run_state = ""

    def confirm_schema(self) -> bool:
        """Worker thread: ask the server for the schema a cached one stands for; True when it
        differed and the server's own replaced it (and the cache file).  Not with --quiet-monitor:
        the key has the executable, and a server without one is never served from the cache."""
        schema, client = self.shell.knowledge, self.client
        if not isinstance(schema, SchemaKnowledge) or schema.confirmed or not self.settings.probe:
            return False
        try:
            fresh = confirm(
                client,
                schema,
                use_cache=self.settings.schema_cache,
                warn=self.shell.warnings.warn,  # after the welcome line: the front-end drains it later
                timeout=schema_timeout(self.settings.timeout),
            )
        except QmpShellError:
            return False
        if fresh is None or client is not self.client or self.shell.knowledge is not schema:
            return False
        self.shell.knowledge = fresh
        self.shell.warnings.warn(
            f"the cached schema {schema.cache_path} was not this server's; replaced by the server's own"
        )
        return True

    def reconnect(self) -> bool:
        """One attempt to connect again; True when the shell now has a working client."""
        with self._lock:
            if not self.lost:
                return False
            client = self._new_client()
            try:
                client.connect()
            except QmpShellError:
                client.close()
                return False
            # The old client is done, but a libvirt one still has its callbacks registered on the
            # domain (libvirt finds it again by UUID when it restarts): every event would come twice.
            self.client.close()
            self.client = client
            self.shell.client = client
            self.shell.cpu_index = None
            self.events.connection_started()
            self._note_kind()
        return True

    def status(self) -> Status:
        return Status(
            address=describe(self.client.address),
            version=_version(self.client),
            run_state=self.run_state,
            hmp=self.shell.hmp,
            events=self.events.total,
            lost=self.lost,
            server=self.client.server.name if isinstance(self.client.server, ServerIdentity) else "",
        )

    def close(self) -> None:
        self.client.close()


def lost_text(lost: str, *, retrying: bool) -> str:
    """The one wording of a lost connection (both front-ends)."""
    again = "; retrying every second (/reconnect tries now)" if retrying else ""
    return f"connection lost: {lost}{again}"


def reconnected_text(connection: Link) -> str:
    """The one wording of a connection that is back (both front-ends)."""
    back = connection.came_back()
    status = back.status()
    server = f"{status.server or 'QEMU'} {status.version or 'unknown version'}"
    named = f"{back.name} at " if back.name else ""
    return (
        f"reconnected to {named}{back.address} ({server}); events sent while disconnected were not received"
    )


def _version(client: QmpSession) -> str:
    """The version the greeting gave, or the one ``guest-info`` gave a guest agent."""
    server = client.server
    if isinstance(server, ServerIdentity) and not client.greeting:
        return server.version
    return client.server_version
