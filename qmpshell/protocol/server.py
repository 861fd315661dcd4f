"""Which server is at the other end: its kind, its version, and what tells one build from another.

QEMU's three QMP servers look alike on the wire.  ``qemu-system-*`` and
``qemu-storage-daemon`` of one build send the same greeting (version and
package string), so the greeting cannot tell them apart, nor two builds of a
version a developer rebuilt after editing ``qapi/*.json``.  What can:

- the command list (``query-commands``, one small round trip: 0.4 ms for the
  daemon's 74 commands, 0.7 ms for the emulator's 200 on QEMU 7.2); the
  emulator has ``query-status``, the daemon ``block-export-add`` and no run state;
- for a local UNIX socket, the server's executable, found through the socket's
  ``SO_PEERCRED`` and ``/proc/PID/exe`` (10 us): its path, size and mtime
  change with every rebuild;
- the guest agent (``qemu-ga``) sends no greeting at all; ``guest-info`` lists
  its version and commands, which of them are disabled and which are answered
  with no reply (``success-response: false``: ``guest-shutdown``,
  ``guest-suspend-*``).

``identify`` asks once per connection and keeps the answer on the session.
With ``--quiet-monitor`` (the session's ``probe`` False) it asks nothing: the
greeting and the executable are all it has, and the command list (with the
kind it tells) is read later from the schema itself (``with_commands``).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable

from qmpshell.protocol import traffic
from qmpshell.protocol.pending import QmpError
from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.protocol.session import QmpSession

EMULATOR = "emulator"
STORAGE_DAEMON = "storage-daemon"
GUEST_AGENT = "guest-agent"
OTHER = "qmp"
_NAMES = {
    EMULATOR: "QEMU",
    STORAGE_DAEMON: "qemu-storage-daemon",
    GUEST_AGENT: "qemu-ga",
    OTHER: "QMP server",
}
# The guest agent's commands that never answer (its reference manual: success-response false);
# used until guest-info has said which they are.
AGENT_NO_REPLY = frozenset(
    {"guest-shutdown", "guest-suspend-disk", "guest-suspend-ram", "guest-suspend-hybrid"}
)


class ServerIdentity(NamedTuple):
    """What one connection's server is; ``commands`` empty when it could not be asked.

    A NamedTuple, not a dataclass: a batch line with arguments asks for it, and dataclasses
    (with inspect) would cost that start several milliseconds."""

    kind: str
    version: str = ""  # 7.2.22
    package: str = ""  # Debian 1:7.2+dfsg-7
    commands: tuple[str, ...] = ()
    disabled: frozenset[str] = frozenset()  # guest agent: listed but disabled
    no_reply: frozenset[str] = frozenset()  # guest agent: success-response false
    binary: str = ""  # the server's executable (a local UNIX socket), '' when unknown
    binary_stamp: str = ""  # its size and mtime in nanoseconds
    asked: bool = True  # its commands were asked for; False with --quiet-monitor (the schema's, later)

    @property
    def name(self) -> str:
        """``QEMU``, ``qemu-storage-daemon``, ``qemu-ga`` or ``QMP server``."""
        return _NAMES.get(self.kind, _NAMES[OTHER])

    @property
    def label(self) -> str:
        """``qemu-storage-daemon 7.2.22``: what the status bar and the welcome line show."""
        return f"{self.name} {self.version}" if self.version else self.name

    @property
    def has_run_state(self) -> bool:
        """Only the emulator runs a guest; the daemon and the agent have no ``query-status``."""
        return self.kind == EMULATOR or (self.kind == OTHER and not self.commands)

    def schema_key(self) -> str:
        """The schema cache's key: version, package, command list and (when local) the binary.

        Two servers share a key only when they report the same version and package,
        offer the same commands and, when their executable is known, run the same
        file unchanged since: the emulator and the daemon of one build never do.
        """
        if not self.version:
            return ""
        if not self.asked:
            return self._unasked_key()
        parts = [_digest(self.package), _digest("\n".join(self.commands)) if self.commands else "nocommands"]
        parts.append(_digest(f"{self.binary}\n{self.binary_stamp}") if self.binary else "remote")
        return "-".join([self.version, *parts])

    def _unasked_key(self) -> str:
        """``--quiet-monitor``'s key: without the command list only the executable tells the
        emulator from the daemon of one build (and a rebuild from the build before), so a
        server whose executable is unknown (TCP, another user's) has no key: its schema is
        fetched on each connection and never read from, nor written to, the cache."""
        if not self.binary:
            return ""
        return "-".join([self.version, _digest(self.package), _digest(f"{self.binary}\n{self.binary_stamp}")])

    def with_commands(self, names: Iterable[str]) -> ServerIdentity:
        """This server with the command list its schema gave (``--quiet-monitor``: not asked),
        and the kind that list tells; the cache key stays the one the schema was found by."""
        commands = tuple(sorted(set(names)))
        return self._replace(commands=commands, kind=_kind(commands, self.binary))


def _digest(text: str) -> str:
    """12 hex digits from two checksums (48 bits, as the sha256 prefix before): enough to tell builds
    apart in a private cache of 32 files (no defence: the directory is the user's own).  Not
    hashlib: loading OpenSSL took 4.6 ms of a batch run's start."""
    data = text.encode("utf-8", "backslashreplace")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data) >> 16:04x}"


def identify(session: QmpSession, *, timeout: float | None = 5.0) -> ServerIdentity:
    """The server behind ``session``, asked once (``query-commands`` or ``guest-info``) and kept.

    Nothing is asked of a server whose greeting has not been answered (``-N`` to a
    QEMU): the user negotiates by hand, so the shell sends nothing of its own; nor
    with ``--quiet-monitor`` (the session's ``probe`` False).
    """
    known = getattr(session, "server", None)
    if isinstance(known, ServerIdentity):
        return known
    if not getattr(session, "probe", True):
        found = _unasked(session)
    elif getattr(session, "agent", False):
        found = _agent(session, timeout)
    elif session.greeting is None:
        found = ServerIdentity(OTHER)
    else:
        found = _qmp(session, timeout)
    session.server = found
    return found


def _qmp(session: QmpSession, timeout: float | None) -> ServerIdentity:
    version, package = greeting_version(session.greeting)
    try:
        with traffic.own(traffic.CONNECTION):  # which server this is: the schema cache's key
            reply = session.execute("query-commands", timeout=timeout)
    except QmpError:
        reply = []  # refused: a server without it (a hung one raises, and is not waited for twice)
    names = tuple(sorted({str(c["name"]) for c in _dicts(reply) if "name" in c}))
    binary, stamp = peer_binary(session)
    kind = _kind(names, binary)
    return ServerIdentity(kind, version, package, names, binary=binary, binary_stamp=stamp)


def _unasked(session: QmpSession) -> ServerIdentity:
    """What the greeting and the executable say, nothing asked (``--quiet-monitor``)."""
    if getattr(session, "agent", False):
        return ServerIdentity(GUEST_AGENT, no_reply=AGENT_NO_REPLY, asked=False)
    version, package = greeting_version(session.greeting)
    binary, stamp = peer_binary(session)
    kind = EMULATOR if session.address.domain else _kind((), binary)  # libvirt runs the emulator
    return ServerIdentity(kind, version, package, binary=binary, binary_stamp=stamp, asked=False)


def _kind(names: tuple[str, ...], binary: str) -> str:
    """By the commands it has; when it would not list them (``-N``), by its executable's name."""
    if "query-status" in names:
        return EMULATOR
    if "block-export-add" in names:
        return STORAGE_DAEMON
    program = os.path.basename(binary)
    if not names and program.startswith("qemu-system-"):
        return EMULATOR
    if not names and program.startswith("qemu-storage-daemon"):
        return STORAGE_DAEMON
    return OTHER


def _agent(session: QmpSession, timeout: float | None) -> ServerIdentity:
    try:
        info = session.execute("guest-info", timeout=timeout)
    except QmpError:
        return ServerIdentity(GUEST_AGENT, no_reply=AGENT_NO_REPLY)
    info = info if isinstance(info, dict) else {}
    listed = [c for c in _dicts(info.get("supported_commands")) if "name" in c]
    return ServerIdentity(
        GUEST_AGENT,
        str(info.get("version", "")),
        commands=tuple(sorted(str(c["name"]) for c in listed)),
        disabled=frozenset(str(c["name"]) for c in listed if c.get("enabled") is False),
        no_reply=frozenset(str(c["name"]) for c in listed if c.get("success-response") is False),
    )


def greeting_version(greeting: Any) -> tuple[str, str]:
    """``("7.2.22", "Debian ...")`` from a QMP greeting; empty strings when it has none."""
    try:
        version = greeting["QMP"]["version"]
        numbers = [version["qemu"][part] for part in ("major", "minor", "micro")]
    except (KeyError, TypeError, AttributeError):
        return "", ""
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        return "", ""
    package = version.get("package")
    return ".".join(map(str, numbers)), package.strip() if isinstance(package, str) else ""


def peer_binary(session: QmpSession) -> tuple[str, str]:
    """The executable of the process at the other end of a local UNIX socket, and its size and mtime.

    ``SO_PEERCRED`` names the process (the client's ``peer_pid``); ``/proc/PID/exe`` is its
    executable, readable for one's own processes (and root's view of all).  ('', '') for TCP, libvirt,
    another user's server or a process in another PID namespace (pid 0).
    """
    pid = getattr(session, "peer_pid", None)
    if not isinstance(pid, int):
        return "", ""
    try:
        path = os.readlink(f"/proc/{pid}/exe")
        info = os.stat(f"/proc/{pid}/exe")
    except OSError:
        return "", ""
    return path, f"{info.st_size} {info.st_mtime_ns}"


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def hmp_refusal_for(session: QmpSession, *, timeout: float) -> str:
    """``hmp_refusal`` for the server behind ``session``, asking it as little as possible.

    A guest agent is known already; a local server by its executable's name (a
    program that is no QEMU's, such as a test's fake server, is let through);
    only a remote one (TCP, libvirt) is asked its command list.
    """
    known = session.server
    if getattr(session, "agent", False):
        known = ServerIdentity(GUEST_AGENT)
    elif not isinstance(known, ServerIdentity):
        binary, _ = peer_binary(session)
        known = ServerIdentity(_kind((), binary)) if binary else identify(session, timeout=timeout)
    return hmp_refusal(known)


def hmp_refusal(server: ServerIdentity) -> str:
    """Why HMP cannot be used on this server ('' when it can, or when that is not known).

    HMP reaches QEMU through ``human-monitor-command``, which only the emulator
    has: the storage daemon and the guest agent would answer every line with
    ``CommandNotFound``.  (HMP spoken through plain QMP commands is issue 19's to
    add: it replaces this check.)
    """
    known_without = server.kind in (GUEST_AGENT, STORAGE_DAEMON) and not server.commands
    if known_without or (server.commands and "human-monitor-command" not in server.commands):
        return f"/hmp: {server.name} has no human-monitor-command, so HMP is not available here"
    return ""
