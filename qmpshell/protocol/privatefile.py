"""Opening the files qmpshell keeps (history, log, schema cache) without being tricked.

A path is opened with ``O_NOFOLLOW`` (a symbolic link planted at the path is
refused, not followed) and ``O_NONBLOCK`` (a FIFO planted there cannot hang the
open), and what was opened is checked with ``fstat``: it must be a regular
file owned by the user, or qmpshell stops with one line (exit status 2).  Modes
are only ever changed with ``fchmod`` on the descriptor just checked, never by
path: a file of the user's own with a mode wider than 0600 is tightened to
0600, with a warning.  A path that is ``/dev/null`` (or a link to it) means "discard":
nothing is opened, so the device node is never touched.  The log may also be
another character device (``/dev/full``, a terminal): written to, never chmod-ed.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Callable

from qmpshell.errors import UsageError

Warn = Callable[[str], None]
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class Refused(UsageError):
    """The path holds something qmpshell must not write to (a link, a device, another's file)."""


def is_discard(path: str) -> bool:
    """True when ``path`` is the null device (``--history /dev/null``, ``-l /dev/null``)."""
    try:
        target, null = os.stat(path), os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(target.st_mode) and target.st_rdev == null.st_rdev


def open_append(path: str, *, what: str, warn: Warn, devices: bool = False) -> int:
    """A descriptor appending to ``path``, created 0600; ``Refused`` or ``OSError`` otherwise.

    ``what`` names the file in messages ("log file", "history file"); with
    ``devices`` a character device (``-l /dev/full``, ``-l /dev/tty``) is
    written to as it is, never chmod-ed.
    """
    make_private_dirs(os.path.dirname(path))
    try:
        fd = os.open(path, _OPEN_FLAGS, 0o600)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise Refused(f"refusing the {what} {path}: it is a symbolic link") from None
        if err.errno == errno.EACCES:
            refuse_if_not_own(path, what=what)
        if err.errno == errno.ENXIO:  # a FIFO nobody reads, or a socket: O_NONBLOCK says so at once
            raise Refused(f"refusing the {what} {path}: not a regular file") from None
        raise
    try:
        if not (devices and stat.S_ISCHR(os.fstat(fd).st_mode)):
            check_own_regular_file(fd, path, what=what, warn=warn)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_private(path: str, *, what: str, warn: Warn) -> int:
    """A descriptor writing ``path`` from its start (``/save``): created 0600, an existing file of the
    user's own emptied and made 0600; anything else (a link, a FIFO, a device, another's file)
    ``Refused`` at once, never waited on.

    The file is truncated only after it was checked, through the descriptor checked.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise Refused(f"refusing the {what} {path}: it is a symbolic link") from None
        if err.errno == errno.EACCES:
            refuse_if_not_own(path, what=what)
        if err.errno == errno.ENXIO:  # a FIFO nobody reads, or a socket
            raise Refused(f"refusing the {what} {path}: not a regular file") from None
        raise
    try:
        check_own_regular_file(fd, path, what=what, warn=warn)
        os.fchmod(fd, 0o600)  # also a file that was narrower: what is saved is the user's alone
        os.ftruncate(fd, 0)
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def refuse_if_not_own(path: str, *, what: str) -> None:
    """Say whose file it is when another user's file could not be opened (root would have opened it,
    so the refusal reads the same whoever runs qmpshell)."""
    try:
        owner = os.lstat(path).st_uid
    except OSError:
        return
    if owner != os.geteuid():
        raise Refused(f"refusing the {what} {path}: owned by uid {owner}, not by you") from None


def check_own_regular_file(fd: int, path: str, *, what: str, warn: Warn) -> None:
    """Refuse anything but the user's own regular file; tighten its mode to 0600 by descriptor."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise Refused(f"refusing the {what} {path}: not a regular file")
    if info.st_uid != os.geteuid():
        raise Refused(f"refusing the {what} {path}: owned by uid {info.st_uid}, not by you")
    mode = stat.S_IMODE(info.st_mode)
    if mode & ~0o600:  # wider than 0600: readable or writable by others, or executable
        os.fchmod(fd, 0o600)
        why = "was readable by others" if mode & 0o044 else "had a mode wider than 0600"
        warn(f"{what} {path} {why} (mode {mode:04o}); it is now 0600")


def make_private_dirs(directory: str) -> None:
    """Create ``directory`` and any missing parents, each 0700 whatever the umask.

    The mode is set with ``fchmod`` on the directory just made, opened with
    ``O_NOFOLLOW``, never by path.  Directories that already exist are left as they are.
    """
    if not directory or os.path.isdir(directory):
        return
    make_private_dirs(os.path.dirname(os.path.abspath(directory)))
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        return  # made by someone else meanwhile: not ours to change
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def writable_by_others(directory: str) -> bool:
    """True when someone else could plant or replace files in ``directory`` (no sticky bit helps:
    a cache entry is read back, so a file another user put there must never be trusted)."""
    try:
        info = os.stat(directory)
    except OSError:
        return False
    return bool(info.st_mode & 0o022) or info.st_uid != os.geteuid()
