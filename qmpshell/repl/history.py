"""The history file: appended to, private, and never holding a secret.

Like iredis' ``entry.py``, a ``FileHistory`` subclass refuses lines that carry
secrets (``object-add qom-type=secret``, password commands, ``password=`` and
``*-secret=`` arguments; see ``qmpshell.language.redact``); they are not even kept in
memory for the up arrow.  ``FileHistory`` appends each entry, so two shells
running at once never truncate each other's lines.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable

from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from qmpshell.language.redact import line_has_secret
from qmpshell.protocol.logfile import make_private_dirs


class SecretFreeHistory(FileHistory):
    """``FileHistory`` that keeps secret-bearing lines out (``is_hmp`` picks the language)."""

    def __init__(self, filename: str, *, is_hmp: Callable[[], bool], size: int = 10_000) -> None:
        _create_private(filename)
        super().__init__(filename)
        self._is_hmp = is_hmp
        self._size = size

    def load_history_strings(self) -> Iterable[str]:
        """The newest ``size`` entries (the file itself is never cut: other shells append to it)."""
        return itertools.islice(super().load_history_strings(), self._size)

    def append_string(self, string: str) -> None:
        if any(line_has_secret(line, hmp=self._is_hmp()) for line in string.splitlines()):
            return
        super().append_string(string)


def _create_private(filename: str) -> None:
    """The file 0600 and a directory we create 0700, before prompt_toolkit first appends."""
    make_private_dirs(os.path.dirname(filename))
    fd = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    os.close(fd)
    os.chmod(filename, 0o600)


def make_history(filename: str | None, *, is_hmp: Callable[[], bool], size: int = 10_000) -> History:
    """The history for ``Settings.history_file`` (None: this session only, in memory)."""
    if filename is None:
        return InMemoryHistory()
    return SecretFreeHistory(filename, is_hmp=is_hmp, size=size)
