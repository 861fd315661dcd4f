"""QMP through libvirt: ``libvirt:DOMAIN`` reaches the monitor of a domain libvirt runs.

libvirt owns the domain's only QMP monitor, already negotiated, so this
transport speaks to it through libvirt-python's passthrough (what ``virsh
qemu-monitor-command`` uses) and offers the same calls as the socket ``Client``.
What the passthrough does differently (measured on libvirt 9.0, QEMU 7.2):

- there is no greeting and ``qmp_capabilities`` is answered "already complete",
  so nothing is negotiated; a greeting is made from ``query-version`` instead;
- a command must not carry an ``id`` (libvirt adds ``libvirt-NNN`` and refuses
  one of ours with "Unable to append command 'id' string"): the id is taken off
  before sending and put back on the reply;
- QMP error replies come back as reply text; only libvirt's own failures raise
  ``libvirtError`` (domain gone, daemon gone, text it cannot parse);
- events arrive through ``qemuMonitorEventRegister`` on libvirt's event loop,
  with their data as a JSON string or None;
- libvirt prints every error on stderr unless an error handler is registered.

Running libvirt's event loop costs every command two wake-ups of its thread
(libvirt takes the socket from the loop for the call and gives it back), so a batch
run that neither prints nor logs events starts the loop only at its first
``/wait``; events that came before are still delivered then (libvirt queues them).

libvirt's calls block, so commands run one at a time on a worker thread and
callers wait on the same ``PendingReply`` as with a socket (timeouts and Ctrl-C
work alike).  The connection ends when the domain stops or libvirtd goes away.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
from collections.abc import Callable

from qmpshell.errors import CommandFailed, CommandTimeout, ConnectionFailed, ConnectionLost
from qmpshell.language import strictjson
from qmpshell.protocol import traffic
from qmpshell.protocol.address import Address
from qmpshell.protocol.client import EventSink
from qmpshell.protocol.libvirtlib import bindings, error_text, open_connection, start_event_loop
from qmpshell.protocol.logfile import MessageLog
from qmpshell.protocol.messages import version_text
from qmpshell.protocol.pending import BlockingCommands, Cancelled, PendingReply
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_ENCODER = json.JSONEncoder(separators=(",", ":"))  # ASCII: a lone surrogate (U+D800) goes as its escape


class LibvirtClient(BlockingCommands):
    """One domain's monitor through libvirt, with the calls of ``qmpshell.protocol.client.Client``."""

    def __init__(
        self,
        address: Address,
        *,
        on_event: EventSink | None = None,
        on_disconnect: Callable[[ConnectionLost], None] | None = None,
        log: MessageLog | None = None,
        negotiate: bool = True,
        connect_timeout: float = 5.0,
        listen: bool = True,
    ) -> None:
        self.address = address
        self._listen_now = listen
        self._on_event = on_event
        self._on_disconnect = on_disconnect
        self._log = log
        self.on_own_send: Callable[[Message, str], None] | None = None  # -v: the shell's own messages
        self._negotiate = negotiate
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[PendingReply, Message, str] | None] = queue.SimpleQueue()
        self._ids = itertools.count(1)
        self._pending: dict[str, PendingReply] = {}
        self._conn: Any = None
        self._dom: Any = None
        self._callbacks: list[Callable[[], None]] = []
        self._lost: ConnectionLost | None = None
        self.greeting: Message | None = None
        self.shutdown_reason: str | None = None
        self.warnings: list[str] = []
        self.oob = False  # libvirt refuses exec-oob: no pipelining through it
        self.server: Any = None  # a ServerIdentity once ``protocol.server.identify`` asked
        self.probe = True  # the shell may ask on its own account (make_client; --quiet-monitor: no)
        self.agent = False  # libvirt's monitor is QEMU's, never a guest agent
        self.caller_reads = False  # libvirt's threads deliver everything: no socket of ours to read

    # -- connecting -------------------------------------------------------------

    def connect(self) -> Message | None:
        """Open the URI, find the running domain, listen to its events; returns the made-up greeting."""
        self._conn = open_connection(self.address.uri)
        self.address = self.address._replace(uri=self._conn.getURI())
        try:
            self._dom = self._running_domain()
            self._listen()
        except BaseException:
            self.close()
            raise
        threading.Thread(target=self._work, name="libvirt-monitor", daemon=True).start()
        if self._listen_now:
            start_event_loop()
        if self._negotiate:
            self.greeting = self._made_up_greeting()
        return self.greeting

    def _running_domain(self) -> Any:
        libvirt, _ = bindings()
        name, uri = self.address.domain, self.address.uri
        try:
            dom = self._conn.lookupByName(name)
            active = dom.isActive()
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise ConnectionFailed(f"no domain named '{name}' at {uri}") from None
            raise ConnectionFailed(f"cannot look up domain '{name}' at {uri}: {error_text(err)}") from None
        if not active:
            raise ConnectionFailed(f"domain '{name}' at {uri} is not running (virsh start {name})")
        return dom

    def _listen(self) -> None:
        """QMP events, the domain's lifecycle (it stopped) and the connection's end (libvirtd went)."""
        libvirt, libvirt_qemu = bindings()
        conn, dom = self._conn, self._dom
        monitor = libvirt_qemu.qemuMonitorEventRegister(conn, dom, None, self._qmp_event, None, 0)
        self._callbacks.append(lambda: libvirt_qemu.qemuMonitorEventDeregister(conn, monitor))
        lifecycle = conn.domainEventRegisterAny(
            dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle_event, None
        )
        self._callbacks.append(lambda: conn.domainEventDeregisterAny(lifecycle))
        conn.registerCloseCallback(self._conn_closed, None)
        self._callbacks.append(conn.unregisterCloseCallback)

    def _made_up_greeting(self) -> Message:
        """``{"QMP": {"version": <query-version>}}``: what a socket greets with, for version and cache.
        With --quiet-monitor nothing is asked: no version (and no cache: the executable is unknown)."""
        if not self.probe:
            return {"QMP": {"version": {}, "capabilities": []}}
        try:
            with traffic.own(traffic.CONNECTION):
                version = self.execute("query-version", timeout=self._connect_timeout)
        except CommandTimeout:
            self.close()
            raise ConnectionFailed(
                f"no reply to query-version from {self.address} within {self._connect_timeout:g} s; "
                "the domain's QEMU may be hung (or another job holds the domain)"
            ) from None
        except CommandFailed as err:  # a QMP error, or libvirt's own: connecting failed either way
            self.close()
            raise ConnectionFailed(f"{self.address}: query-version failed: {err}") from None
        return {"QMP": {"version": version, "capabilities": []}}

    @property
    def connected(self) -> bool:
        return self._dom is not None and self._lost is None

    @property
    def server_version(self) -> str:
        """``7.2.22 (Debian ...)`` from ``query-version``, or ''."""
        return version_text(self.greeting)

    @property
    def lost(self) -> ConnectionLost | None:
        return self._lost

    def catch_up(self) -> None:
        """Nothing to take in: libvirt delivers events and replies on its own threads."""

    def listen_for_events(self) -> None:
        """Make sure events are delivered (``/wait`` is about to need them)."""
        start_event_loop()

    def close(self) -> None:
        """Stop listening and close the libvirt connection; commands still waiting fail at once."""
        conn, self._conn = self._conn, None
        self._queue.put(None)
        for undo in reversed(self._callbacks):
            try:
                undo()
            except Exception:  # noqa: BLE001,S110 - libvirtd may be gone already; closing must finish
                pass
        self._callbacks.clear()
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001,S110 - same
                pass
        self._fail_all(ConnectionLost("connection closed"))

    # -- commands ---------------------------------------------------------------

    def send(self, message: Message, *, source: str = "", body: bytes | None = None) -> PendingReply:
        """Queue a message for the monitor; libvirt gets it without an id, the reply gets it back.

        ``source``: who asked when not the user (see ``MessageLog.sent``); ``body`` is
        not used (libvirt encodes the message itself)."""
        with self._lock:
            if self._lost is not None or self._dom is None:
                raise self._lost or ConnectionLost("not connected")
            pending = PendingReply(str(next(self._ids)), own_id="id" not in message)
            self._pending[pending.key] = pending
        pending.sent = {key: value for key, value in message.items() if key != "id"}
        source = traffic.current() or source  # the worker logs it with its source, named
        self._queue.put((pending, message, source))
        if self.on_own_send is not None and source:
            self.on_own_send(pending.sent, source)
        return pending

    def abandon(self, pending: PendingReply) -> None:
        """Stop waiting; the command still runs (libvirt cannot take it back) and its reply is dropped."""
        with self._lock:
            self._pending.pop(pending.key, None)
        pending.resolve(None, Cancelled("stopped waiting for the reply"))

    def _work(self) -> None:
        """The worker thread: one command at a time, as libvirt runs them anyway."""
        while (item := self._queue.get()) is not None:
            pending, message, source = item
            with self._lock:
                if pending.key not in self._pending:
                    continue  # abandoned before it was sent
            with traffic.own(source):  # the reply is logged with it too
                response, error = self._exchange(pending.sent, source)
            if response is not None and "id" in message:
                response["id"] = message["id"]
            with self._lock:
                self._pending.pop(pending.key, None)
            pending.resolve(response, error)

    def _exchange(self, message: Message, source: str = "") -> tuple[Message | None, Exception | None]:
        libvirt, libvirt_qemu = bindings()
        dom = self._dom
        if self._log is not None:
            self._log.sent(message, source=source)
        try:
            text = libvirt_qemu.qemuMonitorCommand(dom, _ENCODER.encode(message), 0)
        except libvirt.libvirtError as err:
            return None, self._failure(err)
        try:
            response: Any = strictjson.loads(text)  # no NaN/Infinity: what JSON output cannot write back
        except (ValueError, RecursionError):
            return None, CommandFailed(f"libvirt returned a reply that is not JSON: {text[:80]!r}")
        if self._log is not None:
            self._log.received(response)
        return response, None

    def _failure(self, err: Any) -> Exception:
        """libvirt's own failure: the domain or libvirtd gone ends the connection; else one command failed."""
        libvirt, _ = bindings()
        code = err.get_error_code()
        if code in (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_ERR_NO_DOMAIN):
            self._connection_ended(f"domain '{self.address.domain}' is no longer running ({error_text(err)})")
        elif code in (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_RPC, libvirt.VIR_ERR_NO_CONNECT):
            # "Unable to read from monitor" is a system error too: the domain's QEMU went, not libvirtd.
            gone = f"lost the monitor of domain '{self.address.domain}'" if self._alive() else "lost libvirtd"
            self._connection_ended(f"{gone} at {self.address.uri}: {error_text(err)}")
        else:
            return CommandFailed(f"libvirt: {error_text(err)}")
        return self._lost or ConnectionLost(error_text(err))

    def _alive(self) -> bool:
        try:
            return bool(self._conn is not None and self._conn.isAlive())
        except Exception:  # noqa: BLE001 - a connection that cannot answer is not alive
            return False

    # -- events and the end of the connection (libvirt's event-loop thread) --------

    def _qmp_event(
        self, _conn: Any, _dom: Any, name: str, seconds: int, micros: int, details: str | None, _opaque: Any
    ) -> None:
        event: Message = {"timestamp": {"seconds": seconds, "microseconds": micros}, "event": name}
        if details is not None:
            try:
                event["data"] = strictjson.loads(details)
            except (ValueError, RecursionError):
                event["data"] = details
        if self._log is not None:
            self._log.received(event)
        if name == "SHUTDOWN":
            data = event.get("data")
            self.shutdown_reason = str(data.get("reason", "unknown")) if isinstance(data, dict) else "unknown"
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception as err:  # noqa: BLE001 - a broken sink must not kill libvirt's loop
                self.warnings.append(f"event handler failed: {err}")

    def _lifecycle_event(self, _conn: Any, _dom: Any, event: int, _detail: int, _opaque: Any) -> None:
        libvirt, _ = bindings()
        if event == libvirt.VIR_DOMAIN_EVENT_STOPPED:
            self._connection_ended(f"domain '{self.address.domain}' stopped")

    def _conn_closed(self, _conn: Any, _reason: int, _opaque: Any) -> None:
        self._connection_ended(f"libvirtd at {self.address.uri} closed the connection")

    def _connection_ended(self, why: str) -> None:
        with self._lock:
            if self._lost is not None:
                return
            if self.shutdown_reason is not None:
                why = f"{why} after QEMU shut down (SHUTDOWN event, reason {self.shutdown_reason})"
        self._fail_all(ConnectionLost(why))
        if self._on_disconnect is not None and self._lost is not None:
            self._on_disconnect(self._lost)

    def _fail_all(self, error: ConnectionLost) -> None:
        with self._lock:
            if self._lost is None:
                self._lost = error
            waiting = list(self._pending.values())
            self._pending.clear()
        for pending in waiting:
            pending.resolve(None, self._lost)
