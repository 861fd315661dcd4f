"""The on-disk schema cache: one file per server build (``protocol.server.ServerIdentity.schema_key``).

A QEMU build's schema never changes, so ``query-qmp-schema`` (200 KB on 7.2)
need only be fetched the first time qmpshell meets that build.  Files live in
``$XDG_CACHE_HOME/qmpshell/`` (directory 0700, files 0600) and are written to a
temporary file and renamed, so a reader never sees half a file.  A file that
does not parse is reported once and renamed to ``*.corrupt``; it never stops
the shell.  A directory that another user could write to (or owns) is not
used at all, with one warning: a schema planted there would steer typing and
completion.  Files are read with ``O_NOFOLLOW`` and must be the user's own.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable

from qmpshell.config import cache_dir
from qmpshell.protocol.privatefile import make_private_dirs, writable_by_others

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Warn = Callable[[str], None]
_FORMAT = 1  # bump when the stored layout changes
# A file per build: a QEMU developer rebuilding all day would fill the directory, so only the
# most recently written ones are kept.
KEPT_FILES = 32


class SchemaCache:
    """A directory of cached schemas, keyed by ``ServerIdentity.schema_key``."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._trusted: bool | None = None  # decided on first use

    def trusted(self, warn: Warn) -> bool:
        """False (said once) when another user could write to the directory."""
        if self._trusted is None:
            self._trusted = not writable_by_others(self.directory)
            if not self._trusted:
                warn(f"not using the schema cache {self.directory}: it is writable by other users")
        return self._trusted

    @classmethod
    def default(cls) -> SchemaCache:
        return cls(cache_dir())

    def path(self, key: str) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", key)
        return os.path.join(self.directory, f"schema-{safe}.json")

    def load(self, key: str, *, warn: Warn) -> list[Any] | None:
        """The cached entries, or None (absent or corrupt: then set aside with a warning)."""
        if not self.trusted(warn):
            return None
        path = self.path(key)
        try:
            document = json.loads(_read_own_file(path))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as err:
            self._set_aside(path, f"unreadable ({err.__class__.__name__})", warn)
            return None
        if not isinstance(document, dict) or document.get("format") != _FORMAT or document.get("key") != key:
            self._set_aside(path, "not a qmpshell schema cache", warn)
            return None
        entries = document.get("schema")
        if not isinstance(entries, list):
            self._set_aside(path, "not a qmpshell schema cache", warn)
            return None
        return entries

    def store(self, key: str, entries: list[Any], *, warn: Warn) -> None:
        """Write atomically: a temporary file in the same directory, then rename."""
        if not self.trusted(warn):
            return
        try:
            make_private_dirs(self.directory)
            import tempfile  # only when writing: start-up with a warm cache never needs it

            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".schema-", suffix=".tmp")
        except OSError as err:
            warn(f"cannot write the schema cache in {self.directory}: {err.strerror or err}")
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:  # mkstemp makes it 0600
                json.dump({"format": _FORMAT, "key": key, "schema": entries}, file, separators=(",", ":"))
            os.replace(temporary, self.path(key))
        except OSError as err:
            warn(f"cannot write the schema cache {self.path(key)}: {err.strerror or err}")
            _remove(temporary)
            return
        self._prune()

    def _prune(self) -> None:
        """Remove all but the ``KEPT_FILES`` most recently written schema files."""
        try:
            names = [n for n in os.listdir(self.directory) if n.startswith("schema-") and n.endswith(".json")]
            paths = [os.path.join(self.directory, name) for name in names]
            paths.sort(key=lambda path: os.stat(path, follow_symlinks=False).st_mtime_ns, reverse=True)
        except OSError:
            return
        for path in paths[KEPT_FILES:]:
            _remove(path)

    def _set_aside(self, path: str, why: str, warn: Warn) -> None:
        aside = path + ".corrupt"
        try:
            os.replace(path, aside)
        except OSError:
            _remove(path)
            aside = "(removed)"
        warn(f"schema cache {path} is {why}; moved to {aside}, fetching the schema again")


def _read_own_file(path: str) -> str:
    """The text of ``path``, which must be a regular file of the user's, not a link to one."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            raise OSError(f"{path} is not a regular file of yours")
        return file.read().decode("utf-8")


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
