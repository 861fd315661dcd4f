"""Where the connected server's documentation is, found without configuration.

In order: a QEMU source tree the user named (``--qapi-dir``, ``docs.qapi_dir``);
the manual installed beside the server's own binary (a local UNIX socket's peer:
``SO_PEERCRED`` gives its pid, ``/proc/PID/exe`` its path, and the prefix of
``PREFIX/bin/qemu-...`` holds ``PREFIX/share/man/man7``); the system's
``/usr/share/man/man7``.  The page is the one for the kind of server:
``qemu-qmp-ref.7`` for QEMU, ``qemu-storage-daemon-qmp-ref.7`` for the storage
daemon, ``qemu-ga-ref.7`` for the guest agent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

SYSTEM_MAN = "/usr/share/man/man7"
PAGES = {
    "qemu": "qemu-qmp-ref.7",
    "storage-daemon": "qemu-storage-daemon-qmp-ref.7",
    "guest-agent": "qemu-ga-ref.7",
}


@dataclass(frozen=True)
class Found:
    """A documentation source: a man page file or a qapi folder; ``note`` says why it may not fit."""

    path: str
    kind: str  # man or qapi
    note: str = ""


def binary_of(pid: int | None) -> str:
    """The executable a process runs ('' when it cannot be read: another user's, or gone)."""
    if pid is None:
        return ""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def server_kind(binary: str, commands: set[str]) -> str:
    """qemu, storage-daemon or guest-agent: from the binary's name, else from the schema's commands."""
    name = os.path.basename(binary)
    if "storage-daemon" in name:
        return "storage-daemon"
    if name.startswith("qemu-ga") or "guest-sync" in commands:
        return "guest-agent"
    if name.startswith("qemu-system") or "device_add" in commands or not commands:
        return "qemu"
    return "storage-daemon" if "blockdev-add" in commands else "qemu"


def man_page(directory: str, page: str) -> str:
    """``page`` in ``directory``, compressed or not ('' when absent)."""
    for candidate in (page + ".gz", page):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    return ""


def find_source(*, qapi_dir: str | None, binary: str, kind: str) -> Found | None:
    """The best source for this server, or None when the machine has none."""
    if qapi_dir:
        return Found(qapi_dir, "qapi")
    page = PAGES[kind]
    if binary:
        prefix = os.path.dirname(os.path.dirname(os.path.realpath(binary)))
        own = man_page(os.path.join(prefix, "share", "man", "man7"), page)
        if own:
            return Found(own, "man")
        system = man_page(SYSTEM_MAN, page)
        if system and prefix != "/usr":
            return Found(system, "man", f"no manual beside {binary}; using the system's {system}")
        return Found(system, "man") if system else None
    system = man_page(SYSTEM_MAN, page)
    return Found(system, "man") if system else None
