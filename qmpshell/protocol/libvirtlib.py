"""libvirt-python, loaded on first use and set up once per process: its error handler, its
event loop (one thread for the whole process), connections, and the running domains.

libvirt's set-up is process-wide by its design; with many targets
(``qmpshell.targets``) several threads reach it at once, so it runs under one
lock.  ``protocol.libvirt`` speaks QMP through the connections made here.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import threading

from qmpshell.errors import ConnectionFailed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INSTALL_HINT = "pip install 'qmpshell[libvirt]' (it builds against libvirt-dev; pkg-config needed)"

# libvirt's set-up is process-wide; with many targets, several threads reach it at once.
_SETUP = threading.RLock()


def bindings() -> tuple[Any, Any]:
    """``(libvirt, libvirt_qemu)``, set up once per process, whichever target's thread comes first.

    libvirt's event loop and error handler are process-wide by libvirt's design:
    the loop must be registered before the first ``open()``; it runs on a thread
    once ``start_event_loop()`` is called.
    """
    with _SETUP:
        return _set_up_bindings()


@functools.cache
def _set_up_bindings() -> tuple[Any, Any]:
    try:
        import libvirt
        import libvirt_qemu
    except ImportError as err:
        raise ConnectionFailed(
            f"libvirt: addresses need the libvirt bindings ({err}): {INSTALL_HINT}"
        ) from None
    libvirt.registerErrorHandler(lambda _context, _error: None, None)  # errors reach the user as one line
    libvirt.virEventRegisterDefaultImpl()
    return libvirt, libvirt_qemu


def start_event_loop() -> None:
    """Run libvirt's event loop on a thread (once per process): events are delivered from then on.

    Under the lock: ``Thread.start()`` lets other threads run before the cache has its entry, and
    two threads running libvirt's loop would poll the same descriptors.
    """
    with _SETUP:
        _start_event_loop_thread()


@functools.cache
def _start_event_loop_thread() -> None:
    libvirt, _ = bindings()
    threading.Thread(target=_run_event_loop, args=(libvirt,), name="libvirt-events", daemon=True).start()


def _run_event_loop(libvirt: Any) -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


def open_connection(uri: str) -> Any:
    """A libvirt connection to ``uri`` ('' is libvirt's default), or ConnectionFailed saying why not."""
    libvirt, _ = bindings()
    try:
        return libvirt.open(uri or None)
    except libvirt.libvirtError as err:
        raise ConnectionFailed(
            f"cannot reach libvirtd at {uri or _default_uri()}: {error_text(err)}"
        ) from None


def _default_uri() -> str:
    """Which URI libvirt chose when none was given: the one the user set in the environment, if any."""
    chosen = os.environ.get("LIBVIRT_DEFAULT_URI", "")
    return f"{chosen} ($LIBVIRT_DEFAULT_URI)" if chosen else "libvirt's default URI"


def running_domains(uri: str, pattern: str) -> list[str]:
    """The names of the running domains at ``uri`` that match the glob ``pattern``, sorted."""
    libvirt, _ = bindings()
    conn = open_connection(uri)
    try:
        domains = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        return sorted(name for dom in domains if fnmatch.fnmatchcase(name := dom.name(), pattern))
    except libvirt.libvirtError as err:
        raise ConnectionFailed(f"cannot list the domains at {conn.getURI()}: {error_text(err)}") from None
    finally:
        conn.close()


def error_text(err: Any) -> str:
    """libvirt's message on one line: through ``qemu+ssh://`` it carries ssh's stderr, lines and all."""
    lines = str(err.get_error_message() or err).splitlines()
    return "; ".join(line.strip() for line in lines if line.strip())
