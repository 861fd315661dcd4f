"""The on-disk schema cache: one file per server build (``protocol.server.ServerIdentity.schema_key``).

A QEMU build's schema never changes, so ``query-qmp-schema`` (200 KB on 7.2)
need only be fetched the first time qmpshell meets that build.  Files live in
``$XDG_CACHE_HOME/qmpshell/`` (directory 0700, files 0600) and are written to a
temporary file and renamed, so a reader never sees half a file.  A file that
does not parse is reported once and renamed to ``*.corrupt``; it never stops
the shell.  A directory that another user could write to (or owns) is not
used at all, with one warning: a schema planted there would steer typing and
completion.  Files are read with ``O_NOFOLLOW`` and must be the user's own.

A file is one JSON document laid out one schema entry a line, each entry's
``name`` and ``meta-type`` first, with a checksum of those lines in the first.
A one-shot reads it without parsing it whole (that took 3 ms of a 45 ms run):
each entry stays text until the index is asked for it (``schema.index.Entities``).
A file whose checksum does not match (edited, or damaged) or in another layout
(an older qmpshell's) is parsed whole: used and written again if it parses,
set aside if not.
"""

from __future__ import annotations

import json
import os
import stat
import zlib
from collections.abc import Callable

from qmpshell.config import cache_dir
from qmpshell.protocol.privatefile import make_private_dirs, writable_by_others

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.schema.index import Named

Warn = Callable[[str], None]
_FORMAT = 1  # bump when the stored layout changes
# A file per build: a QEMU developer rebuilding all day would fill the directory, so only the
# most recently written ones are kept.
KEPT_FILES = 32
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")  # in a file name


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
        safe = "".join(c if c in _SAFE else "_" for c in key)  # no regex: compiling one costs a one-shot
        return os.path.join(self.directory, f"schema-{safe}.json")

    def load(self, key: str, *, warn: Warn) -> list[Named] | None:
        """The cached entries, named (``schema.index.Named``), or None (absent or corrupt: then
        set aside with a warning)."""
        if not self.trusted(warn):
            return None
        path = self.path(key)
        try:
            text = _read_own_file(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            self._set_aside(path, f"unreadable ({err.__class__.__name__})", warn)
            return None
        try:
            named = _read_lines(text, key)
            if named is None:  # another layout: parsed whole, then written as this one
                entries = _read_document(text, key)
                self.store(key, entries, warn=warn)
                named = [(entry.get("meta-type"), entry["name"], entry) for entry in entries]
        except _NotACache as why:
            self._set_aside(path, str(why), warn)
            return None
        return named

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
                file.write(_document(key, entries))
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


class _NotACache(ValueError):
    """The file is not a schema cache of this key (its message says how)."""


def _document(key: str, entries: list[Any]) -> str:
    """The file: a JSON document of one entry a line (ASCII, so no entry spans two lines)."""
    lines = [json.dumps(_named_first(entry), separators=(",", ":")) for entry in entries]
    body = ",\n".join(lines)
    head = {"format": _FORMAT, "key": key, "crc32": zlib.crc32(body.encode("ascii"))}
    return json.dumps(head, separators=(",", ":"))[:-1] + ',"schema":[\n' + body + "\n]}\n"


def _named_first(entry: Any) -> Any:
    """``entry`` with its ``name`` and ``meta-type`` first, where ``_read_lines`` looks for them."""
    if (
        isinstance(entry, dict)
        and isinstance(entry.get("name"), str)
        and isinstance(entry.get("meta-type"), str)
    ):
        return {"name": entry["name"], "meta-type": entry["meta-type"], **entry}
    return entry


def _read_lines(text: str, key: str) -> list[Named] | None:
    """The entries of a file ``_document`` wrote, named but not parsed; None for another layout."""
    head, _, rest = text.partition("\n")
    if not head.endswith(',"schema":[') or not rest.endswith("\n]}\n"):
        return None
    try:
        document = json.loads(head[: -len(',"schema":[')] + "}")
    except ValueError:
        return None  # parsed whole, it says what is wrong
    _check_head(document, key)
    body = rest[: -len("\n]}\n")]
    if zlib.crc32(body.encode("utf-8")) != document.get("crc32"):
        return None  # edited or damaged: parsed whole, it is used if it parses, as any layout is
    named: list[Named] = []
    for line in body.split(",\n") if body else []:
        if not line.startswith('{"name":"'):
            return None
        name, quote, after = line[9:].partition('","meta-type":"')
        meta = after[: after.find('"')]
        if not quote or "\\" in name or '"' in name:
            return None
        named.append((meta, name, line))
    return named


def _read_document(text: str, key: str) -> list[Any]:
    """The entries of a cache file of any layout, parsed whole."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise _NotACache(f"unreadable ({err.__class__.__name__})") from None
    _check_head(document, key)
    entries = document.get("schema")
    if not isinstance(entries, list):
        raise _NotACache("not a qmpshell schema cache")
    return [entry for entry in entries if isinstance(entry, dict) and isinstance(entry.get("name"), str)]


def _check_head(document: Any, key: str) -> None:
    if not isinstance(document, dict) or document.get("format") != _FORMAT or document.get("key") != key:
        raise _NotACache("not a qmpshell schema cache")


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
