"""The documentation of the connected server: found, read (or loaded from the cache) when first asked.

The shell keeps one ``ServerDocs`` per connection and calls ``help_text`` for
``/help NAME`` and ``example`` for ``/example``.  Nothing is read before then.
"""

from __future__ import annotations

import gzip
import os
import re
import threading
from collections.abc import Callable, Mapping

from qmpshell.docs.locate import Found, binary_of, find_source, server_kind
from qmpshell.docs.model import Manual
from qmpshell.docs.store import DocsCache
from qmpshell.schema.help import wrap_line
from qmpshell.schema.index import SchemaIndex

Warn = Callable[[str], None]
NO_DOCS = (
    "(QEMU's own documentation is not on this machine: install QEMU's documentation "
    "(Debian: qemu-system-common, with /usr/share/man) or point --qapi-dir at a QEMU source tree)"
)


class ServerDocs:
    """One server's documentation source and its parsed manual (read once, on first use)."""

    def __init__(
        self, *, qapi_dir: str | None, peer_pid: int | None, server_version: str, use_cache: bool, warn: Warn
    ) -> None:
        self.qapi_dir = qapi_dir
        self.binary = binary_of(peer_pid)
        self.server_version = server_version
        self.use_cache = use_cache
        self.warn = warn
        self.found: Found | None = None
        self._manual: Manual | None = None
        self._read = False

    def manual(self, index: SchemaIndex | None) -> Manual | None:
        """The parsed manual (None when there is none or it cannot be read: said once)."""
        if not self._read:
            self._read = True
            commands = set(index.commands) if index is not None else set()
            self.found = find_source(
                qapi_dir=self.qapi_dir, binary=self.binary, kind=server_kind(self.binary, commands)
            )
            if self.found is not None:
                self._manual = self._load(self.found)
        return self._manual

    @property
    def read(self) -> bool:
        """Whether the source was read (or found missing) already."""
        return self._read

    def header(self) -> list[str]:
        """The lines said above the help: another version's text, or a source that may not fit."""
        lines = [f"note: {self.found.note}"] if self.found is not None and self.found.note else []
        manual = self._manual
        if manual is not None and manual.version and self.server_version:
            if _release(manual.version) != _release(self.server_version):
                lines.insert(
                    0,
                    f"note: this documentation is QEMU {manual.version}'s ({manual.source}), "
                    f"the server is QEMU {self.server_version}",
                )
        return lines

    def _load(self, found: Found) -> Manual | None:
        try:
            files = _source_files(found)
        except OSError as err:  # docs.qapi_dir names no folder, or one that cannot be read
            self.warn(f"cannot read QEMU's documentation {found.path}: {err.strerror or err}")
            return None

        cache = DocsCache() if self.use_cache else None
        cache = cache if cache is not None and cache.usable(self.warn) else None
        manual = cache.load(found.path, files, warn=self.warn) if cache is not None else None
        if manual is not None:
            return manual
        try:
            manual = _parse(found)
        except (OSError, UnicodeDecodeError, EOFError) as err:
            self.warn(
                f"cannot read QEMU's documentation {found.path}: {getattr(err, 'strerror', None) or err}"
            )
            return None
        if cache is not None:
            self._store(cache, found.path, files, manual)
        return manual

    def _store(self, cache: DocsCache, source: str, files: list[str], manual: Manual) -> None:
        """Cache the whole manual: a page read on demand is parsed to the end on a thread of its own
        (not a daemon: a one-shot ``/help`` waits for it at exit, so the next run finds it cached)."""
        if found_lazy(manual):
            thread = threading.Thread(
                target=cache.store,
                args=(source, files, manual),
                kwargs={"warn": self.warn},
                name="qmpshell-docs",
            )
            thread.start()
        else:
            cache.store(source, files, manual, warn=self.warn)


def _release(version: str) -> tuple[str, ...]:
    """Major and minor: a stable release's micro versions share one interface."""
    return tuple(re.findall(r"\d+", version)[:2])


def _source_files(found: Found) -> list[str]:
    if found.kind == "man":
        return [found.path]
    from qmpshell.docs.qapi import qapi_folder

    folder = qapi_folder(found.path)
    return [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".json")]


def _parse(found: Found) -> Manual:
    if found.kind == "qapi":
        from qmpshell.docs.qapi import read_tree

        return read_tree(found.path)
    from qmpshell.docs.pages import lazy_manual

    opener = gzip.open if found.path.endswith(".gz") else open
    with opener(found.path, "rb") as file:
        return lazy_manual(file.read().decode("utf-8"), found.path)


def found_lazy(manual: Manual) -> bool:
    """Whether the manual's definitions are still being parsed on demand."""
    return not isinstance(manual.definitions, dict)


def help_text(
    docs: ServerDocs, index: SchemaIndex, name: str, narrow: Mapping[str, str], tree: str, width: int
) -> str:
    """The schema's tree for NAME with the documentation under it (or the line saying how to get it)."""
    manual = docs.manual(index)
    if manual is None:
        return "\n".join([tree, *wrap_line(NO_DOCS, width)])
    from qmpshell.docs.render import docs_lines, wrap

    header = docs.header()  # one line each, whatever the width: a script can find it
    lines = [wrapped for line in docs_lines(index, manual, name, narrow) for wrapped in wrap(line, width)]
    return "\n".join([*header, tree, *lines])


def documentation_alone(docs: ServerDocs, name: str, width: int) -> str:
    """NAME's documentation without a schema to join it to (qemu-ga has none); '' when not documented."""
    manual = docs.manual(None)
    if manual is None or name not in manual.definitions:
        return ""
    from qmpshell.docs.render import standalone_lines, wrap

    lines = [*docs.header(), *standalone_lines(manual, name)]
    return "\n".join(wrapped for line in lines for wrapped in wrap(line, width))


def example(docs: ServerDocs, index: SchemaIndex | None, name: str, number: int) -> str:
    """Example ``number`` (1-based) of NAME as a qmpshell line; ``ValueError`` saying why not."""
    manual = docs.manual(index)
    if manual is None:
        raise ValueError(NO_DOCS)
    definition = manual.definitions.get(name)
    if definition is None or not definition.examples:
        raise ValueError(f"the documentation has no example of {name}")
    if not 1 <= number <= len(definition.examples):
        raise ValueError(
            f"{name} has {len(definition.examples)} example(s) in the documentation, not {number}"
        )
    from qmpshell.docs.examples import example_line

    line = example_line(definition.examples[number - 1])
    if line is None:
        raise ValueError(f"example {number} of {name} sends no command the shell can write as a line")
    return line
