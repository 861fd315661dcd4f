"""The proxy: one connection to the upstream QMP server, shared by every client that connects to LISTEN.

A QEMU monitor serves one client at a time; the proxy is that one client and
serves any number in its place (``qmpshell.proxy.peer``).  It listens on a
UNIX socket it creates 0600 (an existing path is refused, never replaced) or
on a TCP port of a loopback address only: QMP has no authentication, and
anyone who reaches the port controls the VM.  The greeting clients get is the
upstream's, with ``oob`` offered only when the upstream negotiated it.  Every
upstream event goes to every client; when the upstream goes away every
client is disconnected and ``ended`` says why.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import threading
from collections.abc import Callable

from qmpshell.errors import ConnectionLost, UsageError
from qmpshell.protocol.address import Address, parse_address
from qmpshell.protocol.session import QmpSession, make_client
from qmpshell.proxy.peer import Peer, Traffic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from qmpshell.protocol.logfile import MessageLog

Message: TypeAlias = "dict[str, Any]"
SHELL_CLIENT = "qmpshell"  # the name of the shell's own connection (not shown as traffic)


class Proxy:
    """Connect upstream, then ``listen``; ``close`` ends everything."""

    def __init__(
        self,
        upstream: Address,
        *,
        log: MessageLog | None = None,
        watch: Callable[[Traffic], None] | None = None,
        on_end: Callable[[str], None] | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.log, self.watch, self.on_end = log, watch, on_end
        self.ended = threading.Event()
        self.why = ""
        self._peers: list[Peer] = []
        self._names: dict[str, int] = {}
        self._lock = threading.Lock()
        self._listeners: list[tuple[socket.socket, str, bool]] = []  # socket, unix path, shown
        self.upstream: QmpSession = make_client(
            upstream,
            on_event=self._event,
            on_disconnect=self._upstream_lost,
            connect_timeout=connect_timeout,
            oob=True,
        )
        self.upstream.connect()
        self.greeting = _greeting(self.upstream.greeting, oob=self.upstream.oob)

    # -- listening ---------------------------------------------------------------------

    def listen(self, where: str, *, shown: bool = True) -> None:
        """Accept clients at ``where`` (a UNIX socket path or loopback ``HOST:PORT``) from now on."""
        address = parse_address(where)
        if address.domain:
            raise UsageError(f"--proxy cannot listen on {where}: a socket path or loopback HOST:PORT")
        sock = _tcp_listener(address) if address.host else _unix_listener(address.path)
        self._listeners.append((sock, address.path, shown))
        threading.Thread(
            target=self._accept_loop, args=(sock, shown), name="proxy-accept", daemon=True
        ).start()

    def _accept_loop(self, listener: socket.socket, shown: bool) -> None:
        while not self.ended.is_set():
            try:
                sock, _ = listener.accept()
            except OSError:
                return  # closed
            self._admit(sock, shown)

    def _admit(self, sock: socket.socket, shown: bool) -> None:
        name = self._name_for(sock) if shown else SHELL_CLIENT
        log = self.log.for_client(name) if self.log is not None and shown else None
        peer = Peer(
            sock,
            name,
            self.upstream,
            greeting=self.greeting,
            log=log,
            watch=self.watch if shown else None,
            gone=self._gone,
        )
        with self._lock:
            if self.ended.is_set():
                sock.close()
                return
            self._peers.append(peer)
        peer.start()

    def _name_for(self, sock: socket.socket) -> str:
        """The client's program name (``comm`` of its process, on a UNIX socket), made unique."""
        base = "client"
        if sock.family == socket.AF_UNIX:
            with contextlib.suppress(OSError, ValueError):
                creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
                pid = int.from_bytes(creds[:4], "little")
                with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as comm:
                    base = comm.read().strip() or base
        with self._lock:
            count = self._names.get(base, 0) + 1
            self._names[base] = count
        return base if count == 1 else f"{base}-{count}"

    # -- upstream --------------------------------------------------------------------------

    def _event(self, event: Message) -> None:
        with self._lock:
            peers = list(self._peers)
        for peer in peers:
            peer.deliver(event)

    def _upstream_lost(self, lost: ConnectionLost) -> None:
        with self._lock:
            peers, self._peers = list(self._peers), []
            clients = sum(1 for peer in peers if peer.name != SHELL_CLIENT)
        self.why = f"upstream connection ended ({lost}); {clients} client(s) disconnected"
        self.ended.set()
        self._close_listeners()
        for peer in peers:
            peer.close()
        if self.on_end is not None:
            self.on_end(self.why)

    def _gone(self, peer: Peer) -> None:
        with self._lock:
            if peer in self._peers:
                self._peers.remove(peer)

    def close(self) -> None:
        """Stop listening, disconnect every client, close the upstream connection."""
        self.ended.set()
        self._close_listeners()
        with self._lock:
            peers, self._peers = list(self._peers), []
        for peer in peers:
            peer.close()
        self.upstream.close()

    def _close_listeners(self) -> None:
        listeners, self._listeners = self._listeners, []
        for sock, path, _ in listeners:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            if path:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def _greeting(upstream: Message | None, *, oob: bool) -> Message:
    """The upstream's greeting for the clients; ``oob`` offered only when the upstream has it on."""
    qmp = upstream.get("QMP") if isinstance(upstream, dict) else None
    version = qmp.get("version") if isinstance(qmp, dict) else None
    return {"QMP": {"version": version or {}, "capabilities": ["oob"] if oob else []}}


def _unix_listener(path: str) -> socket.socket:
    """A UNIX socket at ``path``, created 0600 (never in place of an existing file)."""
    if os.path.lexists(path):
        raise UsageError(f"--proxy: {path} already exists; remove it or listen elsewhere")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # 0600 from the start: no moment when others could connect
    try:
        sock.bind(path)
    except OSError as err:
        sock.close()
        raise UsageError(f"--proxy cannot listen on {path}: {err.strerror or err}") from None
    finally:
        os.umask(old)
    sock.listen(16)
    return sock


def _tcp_listener(address: Address) -> socket.socket:
    """A TCP socket on a loopback address: anything else is refused (QMP has no authentication)."""
    try:
        infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except OSError as err:
        raise UsageError(f"--proxy cannot listen on {address}: {err.strerror or err}") from None
    if not infos or not all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos):
        raise UsageError(f"--proxy listens on loopback addresses only (QMP has no authentication): {address}")
    family, kind, proto, _, where = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(where)
    except OSError as err:
        sock.close()
        raise UsageError(f"--proxy cannot listen on {address}: {err.strerror or err}") from None
    sock.listen(16)
    return sock
