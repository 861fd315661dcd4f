"""What completion offers: candidates, a question for the running QEMU, and where the word starts.

Plain records (no UI library): ``schema.suggest`` makes them from the text
before the cursor, and the front-end's completer shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """One completion: ``text`` replaces the word, ``insert`` is what is typed in (``text=``)."""

    text: str
    meta: str = ""
    insert: str = ""


@dataclass(frozen=True)
class LiveQuery:
    """A question for the running QEMU: ``kind`` is one of ``qmpshell.schema.live.KINDS``."""

    kind: str
    arg: str = ""


@dataclass(frozen=True)
class Suggestions:
    """``what`` is being completed (command, argument, value, action, shell, event, file or '').

    ``file``: a host path; the front-end completes file names itself.
    """

    word: str = ""
    what: str = ""
    candidates: tuple[Candidate, ...] = ()
    live: LiveQuery | None = None
    used: frozenset[str] = frozenset()

    @property
    def texts(self) -> set[str]:
        return {c.text for c in self.candidates}


NOTHING = Suggestions()


def matching(word: str, names: Iterable[str]) -> list[str]:
    return [name for name in names if name.startswith(word)]
