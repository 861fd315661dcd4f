"""The synchronous QMP client: blocking calls, one reader thread routing by id.

Knows nothing of terminals.  Events leave through the ``on_event`` callback
given at construction, called on the reader thread in the order received.
From the QMP spec (docs/interop/qmp-spec.rst):

- "the Server will send a greeting message" before anything else; events may
  come first from some servers, and are passed on, not mistaken for it;
- "If the id is not specified [...] the response will not have it either", so
  an error without an id (QEMU could not parse what it got) answers the oldest
  command still waiting;
- a reply whose id matches no waiting command is dropped (a command the user
  stopped waiting for answers late).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable

from qmpshell.errors import CommandTimeout, ConnectionFailed, ConnectionLost
from qmpshell.protocol import traffic
from qmpshell.protocol.address import Address, open_socket, peer_pid
from qmpshell.protocol.agentsync import AgentSync
from qmpshell.protocol.framing import DEFAULT_MAX_MESSAGE
from qmpshell.protocol.messages import capabilities_of, late_note, version_text
from qmpshell.protocol.pending import BlockingCommands, Cancelled, PendingReply, QmpError
from qmpshell.protocol.reading import SocketReading
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.protocol.logfile import MessageLog  # only with -l: the log is built by the caller

EventSink = Callable[[Message], None]
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # compact: QEMU reads a byte a syscall
# A message longer than this is written by a thread of its own (see ``_transmit_behind``): it may
# not fit in the socket buffer of a QEMU that is not reading.
_SENT_AT_ONCE = 16 * 1024
# QEMU greets at once; a server silent this long may be a guest agent, which never greets.
GREETING_WAIT = 1.0


class Client(BlockingCommands):
    """One QMP connection: ``connect()``, then ``request()``/``execute()``, then ``close()``.

    A client connects once; reconnecting means building a new one.
    """

    def __init__(
        self,
        address: Address,
        *,
        on_event: EventSink | None = None,
        on_disconnect: Callable[[ConnectionLost], None] | None = None,
        log: MessageLog | None = None,
        negotiate: bool = True,
        connect_timeout: float = 5.0,
        max_message: int = DEFAULT_MAX_MESSAGE,
        oob: bool = False,
    ) -> None:
        self.address = address
        self._want_oob = oob
        self._on_event = on_event
        self._on_disconnect = on_disconnect
        self._log = log
        self.on_own_send: Callable[[Message, str], None] | None = None  # -v: the shell's own messages
        self._negotiate = negotiate
        self._connect_timeout = connect_timeout
        self._max_message = max_message
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._pending: dict[str, PendingReply] = {}
        self._abandoned: set[str] = set()
        # Ids on the wire count up and are never reused: a user's raw-JSON id cannot collide with
        # one of ours, and a late or duplicated reply cannot answer a later command.
        self._next_id = 0
        self.late: list[str] = []  # replies that came after their command was given up (--timeout)
        self._sock: socket.socket | None = None
        self._greeted = threading.Event()
        self._lost: ConnectionLost | None = None
        self._ended = threading.Event()  # set once the connection has ended, however
        self.greeting: Message | None = None
        self.shutdown_reason: str | None = None
        self.warnings: list[str] = []
        self.oob = False  # negotiated: QEMU reads ahead up to 8 commands while one runs
        self.peer_pid: int | None = None  # a local UNIX socket's server process (its docs are beside it)
        self.server: Any = None  # a ServerIdentity once ``protocol.server.identify`` asked
        self.probe = True  # the shell may ask on its own account (make_client; --quiet-monitor: no)
        self._agent = False  # the guest agent answered its handshake
        self._sync = AgentSync()  # the guest agent's handshake and resynchronisation
        self._reading: SocketReading | None = None  # made by connect: who reads the socket

    # -- connecting -------------------------------------------------------------

    def connect(self) -> Message | None:
        """Connect, read the greeting and negotiate; returns the greeting."""
        sock = open_socket(self.address, timeout=self._connect_timeout)
        sock.settimeout(None)
        self._sock = sock
        self.peer_pid = peer_pid(sock)
        reading = SocketReading(
            sock,
            max_message=self._max_message,
            sync=self._sync,
            dispatch=self._dispatch,
            ended=self._connection_ended,
        )
        self._reading = reading
        threading.Thread(target=reading.run, name="qmp-reader", daemon=True).start()
        if not self._negotiate:
            # -N: nothing is sent, but a QEMU greets at once; a guest agent never does (``agent``).
            self._greeted.wait(min(GREETING_WAIT / 4, self._connect_timeout))
            return None
        self._await_greeting()
        if not self._agent:
            self._negotiatecapabilities_of()
        return self.greeting

    def _await_greeting(self) -> None:
        if not self._greeted.wait(min(GREETING_WAIT, self._connect_timeout)):
            if self._answers_as_agent():
                return
            if not self._greeted.is_set():
                self.close()
                raise ConnectionFailed(
                    f"no QMP greeting from {self.address} within {self._connect_timeout:g} s and no "
                    "answer to the guest agent's handshake: another client may hold the socket (a QEMU "
                    "monitor serves one client at a time), or it is a guest agent that did not answer "
                    "(try -N)"
                )
        if self._lost is not None and self.greeting is None:
            raise ConnectionFailed(f"{self._lost} (before the QMP greeting)")
        if self.greeting is not None and "QMP" not in self.greeting:
            self.close()
            raise ConnectionFailed(f"{self.address} did not send a QMP greeting: {json.dumps(self.greeting)}")

    def _restart_ids(self) -> None:
        """Negotiation answered and nothing outstanding: the first command is id 1 (ids only ever
        count up after this, so none is reused while a reply could still arrive)."""
        with self._lock:
            if not self._pending and not self._abandoned:
                self._next_id = 0

    def _answers_as_agent(self) -> bool:
        """No greeting yet: a guest agent answers its handshake (``AgentSync.handshake``)."""
        wait = max(self._connect_timeout - GREETING_WAIT, GREETING_WAIT)
        if not self._sync.handshake(self.execute, timeout=wait):
            return False
        self._agent = True
        self._greeted.set()
        return True

    def resync(self, *, timeout: float) -> bool:
        """``guest-sync-delimited``: True when the agent answered it (``protocol.agentsync``)."""
        return self._sync.resync(self.execute, timeout=timeout)

    @property
    def agent(self) -> bool:
        """A guest agent session: its handshake answered, or ``-N`` and no QMP greeting came."""
        return self._agent or (not self._negotiate and self.greeting is None)

    def _negotiatecapabilities_of(self) -> None:
        """``qmp_capabilities``, enabling ``oob`` when it was asked for and the greeting offers it.

        From the QMP spec: with ``oob`` on, the server may read and queue further
        commands while one executes (QEMU queues up to 8 per client), which is
        what lets a pipelining client keep several in flight.  In-band replies
        still come in the order of the commands.
        """
        offered = self._want_oob and "oob" in capabilities_of(self.greeting)
        try:
            with traffic.own(traffic.CONNECTION):
                self.execute(
                    "qmp_capabilities",
                    {"enable": ["oob"]} if offered else None,
                    timeout=self._connect_timeout,
                )
            self.oob = offered
            self._restart_ids()
        except QmpError as err:
            if err.error_class != "CommandNotFound":
                raise ConnectionFailed(f"capabilities negotiation failed: {err}") from err
            self.warnings.append("server has no qmp_capabilities command; continuing without negotiation")
        except CommandTimeout as err:
            self.close()
            raise ConnectionFailed("no answer to qmp_capabilities; is this a QMP server?") from err

    @property
    def connected(self) -> bool:
        return self._sock is not None and self._lost is None

    @property
    def server_version(self) -> str:
        """``7.2.22 (Debian ...)`` from the greeting, or '' when there was none."""
        return version_text(self.greeting)

    def close(self) -> None:
        """Close the socket; commands still waiting fail at once."""
        sock, self._sock = self._sock, None
        self.caller_reads = False  # a parked reader thread wakes, finds the socket closed and ends
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._fail_all(ConnectionLost("connection closed"))

    # -- commands ---------------------------------------------------------------

    def send(self, message: Message, *, source: str = "", body: bytes | None = None) -> PendingReply:
        """Send a message, giving it an id unless it has one; returns the handle to wait on.

        ``source``: who asked when not the user (see ``MessageLog.sent``); ``body``:
        ``body_of(message)``, worked out ahead."""
        pending = self._register(message)
        wire = {**message, "id": int(pending.key)}  # on the wire every id is ours (W3-W5)
        pending.sent = wire if pending.own_id else message
        if body is None or not pending.own_id:
            data = _ENCODER.encode(wire).encode("utf-8", "backslashreplace")  # a lone surrogate: its escape
        else:
            data = b'%s,"id":%s}' % (body[:-1], pending.key.encode())
        self._transmit(wire, data, source)
        if self.on_own_send is not None and (named := traffic.current() or source):
            self.on_own_send(wire, named)
        return pending

    def abandon(self, pending: PendingReply) -> None:
        """Stop waiting for a reply; when it comes it is dropped by its id."""
        with self._lock:
            if self._pending.pop(pending.key, None) is not None:
                self._abandoned.add(pending.key)
        pending.resolve(None, Cancelled("stopped waiting for the reply"))

    def _register(self, message: Message) -> PendingReply:
        with self._lock:
            if self._lost is not None or self._sock is None:
                raise self._lost or ConnectionLost("not connected")
            self._next_id += 1
            if "id" in message:  # the user's id goes back into the reply; QEMU sees ours
                pending = PendingReply(str(self._next_id), own_id=False, user_id=message["id"])
            else:
                pending = PendingReply(str(self._next_id), own_id=True)
            self._pending[pending.key] = pending
            if self._reading is not None:
                pending.read_here = self._reading.wait_for
            return pending

    def _transmit(self, message: Message, data: bytes, source: str) -> None:
        sock = self._sock
        if sock is None:
            raise self._lost or ConnectionLost("not connected")
        if len(data) > _SENT_AT_ONCE:
            self._transmit_behind(message, data, sock, source)
            return
        try:
            with self._send_lock:
                if self._log is not None:
                    self._log.sent(message, source=source)
                sock.sendall(data)
        except OSError as err:
            self._send_failed(err)
            raise self._lost or ConnectionLost(str(err)) from err

    def _transmit_behind(self, message: Message, data: bytes, sock: socket.socket, source: str) -> None:
        """Send a large message from a thread of its own, so the caller can stop waiting (Ctrl-C).

        A QEMU that does not read (stopped, busy) fills the socket buffer and
        ``sendall`` blocks until it reads again; the caller goes on to wait for
        the reply, which ``abandon`` ends.  The send lock is taken here and
        released by the thread, so later messages still follow this one whole.
        """
        self._send_lock.acquire()
        try:
            if self._log is not None:
                self._log.sent(message, source=source)
            sender = threading.Thread(target=self._send_all, args=(sock, data), name="qmp-send", daemon=True)
            sender.start()
        except BaseException:
            self._send_lock.release()
            raise

    def _send_all(self, sock: socket.socket, data: bytes) -> None:
        try:
            sock.sendall(data)
        except OSError as err:
            self._send_failed(err)  # fails the waiting command too
        finally:
            self._send_lock.release()

    def _send_failed(self, err: OSError) -> None:
        # The reader sees the end of a dead server at once and says it the usual way ("the
        # server closed the connection"); a send that lost the race waits a moment for that.
        self.catch_up()  # when callers read, the reader thread is parked: read the end here
        self._ended.wait(0.5)
        self._connection_ended(f"connection lost while sending: {err.strerror or err}")

    # -- the reader thread --------------------------------------------------------

    @property
    def caller_reads(self) -> bool:
        """Batch mode: a thread waiting for a reply reads the socket itself (``protocol.reading``)."""
        return self._reading is not None and self._reading.caller_reads

    @caller_reads.setter
    def caller_reads(self, on: bool) -> None:
        if self._reading is not None:
            self._reading.caller_reads = on

    def catch_up(self) -> None:
        """Take in the messages that have already arrived, when callers read (else the reader did)."""
        if self._reading is not None:
            self._reading.catch_up()

    def _dispatch(self, message: Message) -> None:
        if self._log is not None:
            self._log.received(message)
        if "event" in message:
            self._event(message)
        elif "QMP" in message or (self._negotiate and not self._greeted.is_set() and not self._sync.probing):
            self.greeting = message  # a non-QMP first message is refused by _await_greeting
            self._greeted.set()
        else:  # with -N (qemu-ga) there may be no greeting: the first message is a reply
            self._reply(message)

    def _event(self, message: Message) -> None:
        if message.get("event") == "SHUTDOWN":
            data = message.get("data") or {}
            self.shutdown_reason = str(data.get("reason", "unknown")) if isinstance(data, dict) else "unknown"
        if self._on_event is not None:
            try:
                self._on_event(message)
            except Exception as err:  # noqa: BLE001 - a broken sink must not kill the reader
                self.warnings.append(f"event handler failed: {err}")

    def _reply(self, message: Message) -> None:
        with self._lock:
            if "id" in message:
                key = _key(message["id"])
                pending = self._pending.pop(key, None)
                if key in self._abandoned:
                    self._abandoned.discard(key)
                    self.late.append(late_note(message))
            elif "error" in message and self._pending:
                pending = self._pending.pop(next(iter(self._pending)))
            else:
                pending = None
        if pending is not None:
            pending.resolve(message)

    def _connection_ended(self, why: str, kind: type[ConnectionLost] = ConnectionLost) -> None:
        if self._lost is not None:
            return
        if self.shutdown_reason is not None:
            why = f"{why} after QEMU shut down (SHUTDOWN event, reason {self.shutdown_reason})"
        self._fail_all(kind(why))
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
        self._ended.set()
        self._greeted.set()

    @property
    def lost(self) -> ConnectionLost | None:
        """Why the connection ended, once it has."""
        return self._lost

    def listen_for_events(self) -> None:
        """Events always arrive on a socket (see ``session.QmpSession``)."""


def body_of(message: Message) -> bytes | None:
    """``message`` as ``Client.send`` writes it but for the id it gets then (appended last), so
    that it can be encoded ahead; None when the message has an id of its own."""
    if "id" in message or not message:
        return None
    return _ENCODER.encode(message).encode("utf-8", "backslashreplace")


def _key(request_id: Any) -> str:
    """A dict key for any JSON id (QMP allows any JSON value); ours are 1, 2, ..."""
    if type(request_id) is int:
        return str(request_id)  # what json.dumps gives, without building an encoder
    return json.dumps(request_id, sort_keys=True)
