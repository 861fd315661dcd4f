"""Parsed documentation cached per source file, with the schema cache's file-safety rules.

Parsing the 7.2 manual takes ~0.2 s; the cached form loads in a few ms.  One
file per source (``docs-<hash of its path>.json`` in ``$XDG_CACHE_HOME/qmpshell``),
stamped with the source's mtime and size: a changed source is parsed again.
As for the schema cache: the directory must not be writable by others, files
are read with ``O_NOFOLLOW`` and must be the user's own regular files, written
0600 to a temporary file and renamed, and a corrupt one is set aside.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable

from qmpshell.config import cache_dir
from qmpshell.docs.model import Manual
from qmpshell.protocol.privatefile import make_private_dirs, writable_by_others
from qmpshell.schema.cache import _read_own_file

Warn = Callable[[str], None]
_FORMAT = 2  # bump when the model or a reader changes: a cache of the old reading is read again


def stamp(paths: list[str]) -> list[list[int]]:
    """(mtime in ns, size) of each source file: what says the cache is still good."""
    out = []
    for path in paths:
        info = os.stat(path)
        out.append([info.st_mtime_ns, info.st_size])
    return out


class DocsCache:
    """Parsed manuals by source path."""

    def __init__(self, directory: str | None = None) -> None:
        # Beside the schema cache, not in it: that directory holds one file per QEMU build only.
        self.directory = directory or cache_dir().rstrip("/") + "-docs"

    def path(self, source: str) -> str:
        digest = hashlib.sha256(source.encode()).hexdigest()[:20]
        return os.path.join(self.directory, f"docs-{digest}.json")

    def usable(self, warn: Warn) -> bool:
        """False (said) when another user could write to the directory: nothing is read or written."""
        if writable_by_others(self.directory):
            warn(f"not using the documentation cache {self.directory}: it is writable by other users")
            return False
        return True

    def load(self, source: str, files: list[str], *, warn: Warn) -> Manual | None:
        """The cached manual when its stamp matches the source files now, else None."""
        if writable_by_others(self.directory):
            return None
        path = self.path(source)
        try:
            document = json.loads(_read_own_file(path))
            if document["source"] != source:
                raise ValueError("another source")
            if document["format"] != _FORMAT or document["stamp"] != stamp(files):
                return None  # an older qmpshell's reading, or a changed source: read again, quietly
            return Manual.from_json(document["manual"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
            _set_aside(path, err, warn)
            return None

    def store(self, source: str, files: list[str], manual: Manual, *, warn: Warn) -> None:
        """Written atomically; a failure is one warning, never an error."""
        if writable_by_others(self.directory):
            return  # usable() said so
        import tempfile

        try:
            make_private_dirs(self.directory)
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".docs-", suffix=".tmp")
        except OSError as err:
            warn(f"cannot write the documentation cache in {self.directory}: {err.strerror or err}")
            return
        document = {"format": _FORMAT, "source": source, "stamp": stamp(files), "manual": manual.to_json()}
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(document, file, separators=(",", ":"))
            os.replace(temporary, self.path(source))
        except OSError as err:
            warn(f"cannot write the documentation cache {self.path(source)}: {err.strerror or err}")
            try:
                os.remove(temporary)
            except OSError:
                pass


def _set_aside(path: str, err: Exception, warn: Warn) -> None:
    try:
        os.replace(path, path + ".corrupt")
    except OSError:
        pass
    warn(f"documentation cache {path} is unreadable ({err.__class__.__name__}); reading the source again")
