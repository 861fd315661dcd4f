"""Several servers in one interactive session: a connection per target and a current one.

``qmpshell ADDR1 ADDR2 ...`` opens a ``Fleet``.  It stands where one
``Connection`` stands for the front-ends (the ``Link`` protocol): the client,
the shell, the address and the status bar's state are the current target's,
which ``/use NAME`` changes.  Each target keeps its own connection, shell and
schema, so a line goes to the target it names (``@NAME LINE``, ``@all LINE``)
and is parsed against that target's schema.  Events reach the one events pane
tagged with their target's name (``"target": NAME``, as batch mode tags its
lines); a lost target reconnects on its own while the others stay usable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from qmpshell.config import Settings
from qmpshell.errors import UsageError
from qmpshell.notices import Warnings
from qmpshell.output.safe import visible
from qmpshell.protocol.address import Address, describe
from qmpshell.protocol.session import QmpSession
from qmpshell.qmptypes import Message
from qmpshell.repl.choice import Where
from qmpshell.repl.connection import Connection, EventSink, Status
from qmpshell.repl.widgets import short_version
from qmpshell.shell import Shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.protocol.logfile import MessageLog  # a type: datetime and redaction load only with -l

TARGET_KEY = "target"  # an event's target, with several: tagged here, shown by ``repl.eventlines``


class Fleet:
    """The session's targets in the order given; one is current."""

    def __init__(self, connections: list[Connection], settings: Settings) -> None:
        self.settings = settings
        self._members = {connection.name: connection for connection in connections}
        self.current = connections[0]
        self._back = connections[0]
        warnings = Warnings()  # one channel for the session, whichever target a warning is about
        for connection in connections:
            connection.shell.warnings = warnings

    @classmethod
    def open(
        cls,
        targets: list[tuple[str, Address]],
        settings: Settings,
        *,
        log: MessageLog | None,
        on_event: EventSink,
    ) -> Fleet:
        """Connect to every target at once (all or none: the first target, in the order given, that
        cannot be reached is the session's error).

        A connection mostly waits for its server (greeting, capabilities, which server it
        is), so eight targets take about as long as one (issue 26: at most 20 ms each)."""
        logs = [log.for_target(str(address)) if log is not None else None for _, address in targets]
        makers = [
            _maker(name, address, settings, target_log, on_event)
            for (name, address), target_log in zip(targets, logs, strict=True)
        ]
        made: list[Connection | BaseException | None] = [None] * len(makers)

        def connect(index: int) -> None:
            try:
                made[index] = makers[index]()
            except BaseException as err:  # noqa: BLE001 - handed to the session's thread below
                made[index] = err

        threads = [
            threading.Thread(target=connect, args=(index,), name=f"qmpshell-connect-{index}", daemon=True)
            for index in range(1, len(makers))
        ]
        for thread in threads:
            thread.start()
        connect(0)  # the first here, while the others connect on their threads
        for thread in threads:
            thread.join()
        connections = [result for result in made if isinstance(result, Connection)]
        failed = next((result for result in made if isinstance(result, BaseException)), None)
        if failed is not None:
            for connection in connections:
                connection.close()
            raise failed
        return cls(connections, settings)

    # -- the Link: the current target ---------------------------------------------------

    @property
    def name(self) -> str:
        return self.current.name

    @property
    def address(self) -> Address:
        return self.current.address

    @property
    def client(self) -> QmpSession:
        return self.current.client

    @property
    def shell(self) -> Shell:
        return self.current.shell

    @property
    def lost(self) -> str:
        """The lost targets and why ('' while every one is up)."""
        return "; ".join(f"{name}: {member.lost}" for name, member in self._members.items() if member.lost)

    @property
    def schema_ready(self) -> threading.Event:
        return self.current.schema_ready

    def members(self) -> dict[str, Connection]:
        return dict(self._members)

    def refresh_run_state(self) -> None:
        for member in self._members.values():
            if not member.lost:
                member.refresh_run_state()

    def load_knowledge(self) -> None:
        """Each target's own schema (completion, typing and /help follow the target a line goes to)."""
        for member in self._members.values():
            if not member.lost:
                member.load_knowledge()

    def confirm_schema(self) -> bool:
        """Each target's cached schema asked for again; True when one was replaced."""
        replaced = False
        for member in self._members.values():
            if not member.lost and member.confirm_schema():
                replaced = True
        return replaced

    def reconnect(self) -> bool:
        """One attempt for each lost target; True when one came back (the others are left alone)."""
        back = False
        for member in self._members.values():
            if member.lost and member.reconnect():
                back, self._back = True, member
        return back

    def came_back(self) -> Connection:
        return self._back

    def status(self) -> Status:
        """The current target's state; the address field names every target compactly."""
        current = self.current.status()
        others = [
            f"[{name}]" if member is self.current else f"{name}:{visible(_state(member), one_line=True)}"
            for name, member in self._members.items()
        ]
        lost = f"{self.current.name}: {current.lost}" if current.lost else ""
        return current._replace(address=" ".join(others), lost=lost)

    def close(self) -> None:
        for member in self._members.values():
            member.close()

    # -- several targets ------------------------------------------------------------------

    def use(self, name: str) -> Connection:
        """``/use NAME``: lines without a prefix go there from now on."""
        member = self._members.get(name)
        if member is None:
            raise UsageError(f"/use: no target named '{name}' (the targets: {', '.join(self._members)})")
        self.current = member
        return member

    def table(self) -> str:
        """``/targets``: each target's name, kind, version, run state and connection state, and
        under it the devices whose unplug the guest has not finished (``unplug pending: ID``)."""
        rows = [("", "NAME", "KIND", "VERSION", "RUN STATE", "CONNECTION", "ADDRESS")]
        for name, member in self._members.items():
            rows.append(
                (
                    "*" if member is self.current else "",
                    name,
                    _kind(member),
                    visible(short_version(member.client.server_version) or "?", one_line=True),
                    "?" if member.lost else visible(member.run_state, one_line=True),
                    visible(f"lost: {member.lost}", one_line=True) if member.lost else "connected",
                    describe(member.address),
                )
            )
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
            for row in rows
        ]
        for line, member in enumerate(self._members.values(), start=1):  # until DEVICE_DELETED comes
            if pending := sorted(member.shell.pending_unplugs()):
                unplugging = visible(", ".join(pending), one_line=True)
                lines[line] += f"\n{' ' * (widths[0] + 2)}unplug pending: {unplugging}"
        return "\n".join(lines).rstrip()


def _maker(
    name: str, address: Address, settings: Settings, log: MessageLog | None, on_event: EventSink
) -> Callable[[], Connection]:
    """One target's connection, to be made on a thread of its own."""
    return lambda: Connection(address, settings, log=log, on_event=_tagged(name, on_event), name=name)


def _tagged(name: str, sink: EventSink) -> Callable[[Message], None]:
    """The events pane's copy of each event carries its target's name."""

    def deliver(event: Message) -> None:
        sink({TARGET_KEY: name, **event})

    return deliver


def _state(member: Connection) -> str:
    return "LOST" if member.lost else member.run_state


def _kind(member: Connection) -> str:
    """What kind of server, from its schema: a storage daemon has no run state (``query-status``),
    a guest agent no ``qmp_capabilities``; a libvirt domain says so."""
    if member.address.domain:
        return "libvirt"
    from qmpshell.schema.index import index_of  # not before the first prompt

    index = index_of(member.shell.knowledge)
    if index is None:
        return "?"
    if "qmp_capabilities" not in index.commands:
        return "guest agent"
    return "qemu" if "query-status" in index.commands else "storage daemon"


def open_link(
    where: Where, settings: Settings, *, log: MessageLog | None, on_event: EventSink
) -> Connection | Fleet:
    """One connection as always, or a fleet for several targets."""
    if isinstance(where, Address):
        return Connection(where, settings, log=log, on_event=on_event)
    return Fleet.open(where, settings, log=log, on_event=on_event)
