"""Where the QMP server is: parse ``PATH``, ``HOST:PORT``, ``[IPv6]:PORT`` or ``libvirt:DOMAIN``.

A ``libvirt:`` address names a domain; its libvirt URI comes from ``--libvirt-uri``
(``uri``), else libvirt's own default (``$LIBVIRT_DEFAULT_URI``).  Sockets are
connected here; a domain is reached through ``qmpshell.protocol.libvirt``.

A UNIX socket path longer than the kernel's 108-byte ``sun_path`` is reached
through ``/proc/self/fd/N/NAME``, where ``N`` is an ``O_PATH`` descriptor of the
socket's directory, so deep temporary directories still work.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import stat
import sys

from qmpshell.errors import ConnectionFailed, UsageError
from qmpshell.numbers import is_digits, whole_number
from qmpshell.records import NamedTuple

UNIX_PATH_MAX = 107  # sun_path is 108 bytes including the terminating NUL
LIBVIRT_PREFIX = "libvirt:"


class Address(NamedTuple):
    """A UNIX socket path, a TCP host and port, or a libvirt domain (and the URI, if given)."""

    path: str = ""
    host: str = ""
    port: int = 0
    domain: str = ""
    uri: str = ""

    def __str__(self) -> str:
        if self.domain:
            return f"{LIBVIRT_PREFIX}{self.domain}"
        if self.path:
            return self.path
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_address(text: str, *, libvirt_uri: str = "") -> Address:
    """``/path``, ``name.sock``, ``host:port``, ``[v6]:port`` or ``libvirt:DOMAIN``; a path if in doubt."""
    if not text:
        raise UsageError("no QMP address given (pass one, or set $QMP_SOCKET)")
    if text.startswith(LIBVIRT_PREFIX):
        domain = text[len(LIBVIRT_PREFIX) :]
        if not domain:
            raise UsageError(f"bad address '{text}': expected libvirt:DOMAIN")
        return Address(domain=domain, uri=libvirt_uri)
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise UsageError(f"bad address '{text}': expected [IPv6]:PORT")
        return Address(host=host, port=_port(port, text))
    host, sep, port = text.rpartition(":")
    if sep and "/" not in text and is_digits(port) and host:
        return Address(host=host, port=_port(port, text))
    return Address(path=text)


def wants_many(texts: list[str]) -> bool:
    """Several addresses, or one pattern: a script for many targets (``qmpshell.targets``)."""
    return len(texts) > 1 or any(is_pattern(text) for text in texts)


def is_pattern(text: str) -> bool:
    """A glob (``libvirt:web*``, ``/run/vms/*.sock``); an existing path is taken as written.

    ``[v6]:PORT`` is an address, decided before any glob test: its brackets
    would otherwise read as a glob's character class.
    """
    if is_ipv6_address(text):
        return False
    name = text[len(LIBVIRT_PREFIX) :] if text.startswith(LIBVIRT_PREFIX) else text
    return any(character in name for character in "*?[") and not os.path.exists(text)


# The port is checked afterwards (parse_address says why a bad one is no TCP port).
_IPV6_ADDRESS = r"\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[\w.-]+)?\]:[^*?\[\]/]*"  # compiled when used


def is_ipv6_address(text: str) -> bool:
    """``[::1]:4444``, ``[fe80::1%eth0]:4444``: an IPv6 host and a port, never a file glob."""
    return text.startswith("[") and re.fullmatch(_IPV6_ADDRESS, text) is not None


def describe(address: Address) -> str:
    """The address as the status bar shows it: a libvirt domain with its URI's host."""
    if not address.domain:
        return str(address)
    from urllib.parse import urlsplit  # here: only a libvirt domain has a URI to show

    host = urlsplit(address.uri).hostname if address.uri else ""
    return f"{address} @ {host or 'localhost'}"


def _port(text: str, whole: str) -> int:
    port = whole_number(text)
    if port is None or not 0 < port < 65536:
        raise UsageError(f"bad address '{whole}': '{text}' is not a TCP port")
    return port


def open_socket(address: Address, *, timeout: float) -> socket.socket:
    """A connected stream socket, or ConnectionFailed saying exactly why not."""
    if address.domain:
        raise ConnectionFailed(f"{address} is a libvirt domain, not a socket")
    try:
        if address.path:
            return _connect_unix(address.path, timeout)
        return socket.create_connection((address.host, address.port), timeout=timeout)
    except OSError as err:
        raise ConnectionFailed(f"cannot connect to {address}: {_describe(err, address)}") from err


def _connect_unix(path: str, timeout: float) -> socket.socket:
    _check_is_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if len(os.fsencode(path)) <= UNIX_PATH_MAX:
            sock.connect(path)
        else:
            _connect_long(sock, path)
    except BaseException:
        sock.close()
        raise
    return sock


def _connect_long(sock: socket.socket, path: str) -> None:
    """Connect through a short alias of the socket's directory."""
    directory, name = os.path.split(os.path.abspath(path))
    fd = os.open(directory, os.O_PATH | os.O_DIRECTORY)
    try:
        alias = f"/proc/self/fd/{fd}/{name}"
        if len(os.fsencode(alias)) > UNIX_PATH_MAX:
            raise OSError(errno.ENAMETOOLONG, "socket file name is longer than the 108-byte limit")
        sock.connect(alias)
    finally:
        os.close(fd)


def _check_is_socket(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # connect() reports the precise error
    if not stat.S_ISSOCK(mode):
        raise OSError(errno.ENOTSOCK, "not a socket (is this the right path?)")


def _describe(err: OSError, address: Address) -> str:
    if isinstance(err, socket.timeout):
        return "timed out"
    hints = {
        errno.ENOENT: "no such file (is QEMU running with -qmp unix:PATH,server=on?)",
        errno.ECONNREFUSED: "connection refused (nothing is listening there)",
        errno.EACCES: "permission denied",
        # A UNIX socket whose listen queue is full: QEMU is not accepting, it is serving someone else.
        errno.EAGAIN: "its listen queue is full; another client may hold the socket "
        "(a QEMU monitor serves one client at a time)",
    }
    return hints.get(err.errno or 0, err.strerror or str(err))


def peer_pid(sock: socket.socket) -> int | None:
    """The pid ``SO_PEERCRED`` reports for a UNIX socket's other end (None for TCP or when unknown)."""
    if sock.family != socket.AF_UNIX or not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)  # struct ucred: 3 ints
    except OSError:
        return None
    pid = int.from_bytes(credentials[:4], sys.byteorder, signed=True)  # not struct: 0.3 ms to import
    return pid if pid > 0 else None
