"""What the shell, the front-ends and the schema code need of a QMP connection, and who provides it.

Two transports provide it: ``Client`` (a QMP socket, UNIX or TCP) and
``LibvirtClient`` (a libvirt domain's monitor through libvirt-python).  Callers
build one with ``make_client`` and never learn which they have; the libvirt
module, and with it libvirt itself, is imported only for a ``libvirt:`` address.
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.errors import ConnectionLost
from qmpshell.protocol.address import Address
from qmpshell.protocol.client import Client, EventSink
from qmpshell.protocol.pending import PendingReply
from qmpshell.qmptypes import Message
from qmpshell.records import Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.protocol.logfile import MessageLog  # built by the caller, only with -l


class QmpSession(Protocol):
    """One connection: ``connect()``, then commands, then ``close()``; reconnecting builds a new one.

    ``greeting`` is the server's QMP greeting (libvirt has none: the transport
    makes one from ``query-version`` so that the version, the schema cache and
    the status bar work alike); None with ``-N``.
    """

    address: Address
    greeting: Message | None
    shutdown_reason: str | None
    warnings: list[str]
    oob: bool  # out-of-band negotiated: commands may be pipelined (see batch mode's --pipeline)
    on_own_send: Callable[[Message, str], None] | None  # -v: each message the shell sends on its own
    server: Any  # the ServerIdentity ``protocol.server.identify`` found (None until asked)
    probe: bool  # the shell may ask things on its own account; False with --quiet-monitor
    caller_reads: bool  # batch: a thread waiting for a reply reads it itself (``protocol.reading``)

    @property
    def agent(self) -> bool: ...  # a guest agent (qemu-ga): no greeting, no qmp_capabilities

    def connect(self) -> Message | None: ...

    @property
    def connected(self) -> bool: ...

    @property
    def server_version(self) -> str: ...

    @property
    def lost(self) -> ConnectionLost | None: ...

    def close(self) -> None: ...

    def execute(
        self, command: str, arguments: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any: ...

    def request(self, message: Message, *, timeout: float | None = None) -> Message: ...

    def send(self, message: Message, *, source: str = "", body: bytes | None = None) -> PendingReply: ...

    def abandon(self, pending: PendingReply) -> None: ...

    def catch_up(self) -> None: ...  # take in what has arrived (when callers read)

    def listen_for_events(self) -> None: ...


def make_client(
    address: Address,
    *,
    on_event: EventSink | None = None,
    on_disconnect: Callable[[ConnectionLost], None] | None = None,
    log: MessageLog | None = None,
    negotiate: bool = True,
    connect_timeout: float = 5.0,
    listen: bool = True,
    oob: bool = False,
    probe: bool = True,
) -> QmpSession:
    """The transport for ``address``, not yet connected.

    ``listen=False``: events may wait until ``listen_for_events()`` (libvirt only;
    a socket always delivers them).  ``oob=True``: enable out-of-band when the
    server offers it (a socket only; libvirt refuses ``exec-oob`` and pipelining).
    ``probe=False`` (``--quiet-monitor``): nothing is asked on the shell's own account
    but ``qmp_capabilities`` and the schema.
    """
    client: QmpSession
    if address.domain:
        from qmpshell.protocol.libvirt import LibvirtClient  # libvirt only for libvirt: addresses

        client = LibvirtClient(
            address,
            on_event=on_event,
            on_disconnect=on_disconnect,
            log=log,
            negotiate=negotiate,
            connect_timeout=connect_timeout,
            listen=listen,
        )
    else:
        client = Client(
            address,
            on_event=on_event,
            on_disconnect=on_disconnect,
            log=log,
            negotiate=negotiate,
            connect_timeout=connect_timeout,
            oob=oob,
        )
    client.probe = probe
    return client
