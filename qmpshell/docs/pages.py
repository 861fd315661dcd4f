"""A manual page read on demand: one quick scan finds each definition, which is parsed when first asked.

Parsing all of 7.2's page takes ~0.3 s; ``/help blockdev-add driver=qcow2``
needs about ten of its 890 definitions.  The scan looks only for the lines
that start a definition (``.SS \\fBNAME\\fP (Command)`` in 7.x, ``.B Command
NAME`` in 10.x) and the chapter headings (``.SH``) that end one; each chunk
goes through ``troff.Reader`` alone the first time its name is looked up.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping

from qmpshell.docs.model import Definition, Manual
from qmpshell.docs.troff import Reader, is_new_layout, unescape, version_of

_OLD_START = re.compile(r"^\.SS \\fB(.+?)\\fP \((?:Command|Event|Object|Enum|Alternate)\)$", re.M)
_NEW_START = re.compile(
    r"^(?:\.TP\n)?\.B (?:Command|Event|Object|Enum|Alternate)  (\S+)(?:  \(Since: [^)\n]*\))?$", re.M
)
_CHAPTER = re.compile(r"^\.SH", re.M)


class LazyDefinitions(Mapping[str, Definition]):
    """Definitions by name, each parsed from its chunk of the page the first time it is asked for."""

    def __init__(self, text: str, *, new_layout: bool) -> None:
        self._text = text
        self._new = new_layout
        self._chunks: dict[str, tuple[int, int]] = {}
        self._parsed: dict[str, Definition | None] = {}
        self._scan()

    def _scan(self) -> None:
        starts = [
            (m.start(), unescape(m.group(1)))
            for m in (_NEW_START if self._new else _OLD_START).finditer(self._text)
        ]
        chapters = [m.start() for m in _CHAPTER.finditer(self._text)]
        ends = sorted({*(start for start, _ in starts), *chapters, len(self._text)})
        for start, name in starts:
            end = ends[bisect.bisect_right(ends, start)]
            self._chunks.setdefault(name, (start, end))

    def __getitem__(self, name: str) -> Definition:
        if name not in self._parsed:  # two threads may parse it: both keep the first one stored
            self._parsed.setdefault(name, self._parse(name))
        found = self._parsed[name]
        if found is None:
            raise KeyError(name)
        return found

    def _parse(self, name: str) -> Definition | None:
        span = self._chunks.get(name)
        if span is None:
            return None
        scratch = Manual("")
        reader = Reader(scratch, new_layout=self._new)
        for line in self._text[span[0] : span[1]].splitlines():
            reader.feed(line)
        reader.close()
        return scratch.definitions.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._chunks)

    def __len__(self) -> int:
        return len(self._chunks)


def lazy_manual(text: str, source: str) -> Manual:
    """The page's definitions, each parsed when first used."""
    manual = Manual(source, version_of(text[:20000].splitlines()))
    manual.definitions = LazyDefinitions(text, new_layout=is_new_layout(text))  # type: ignore[assignment]
    return manual
