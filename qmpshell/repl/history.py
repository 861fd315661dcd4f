"""The history file: appended to, private, and never holding a secret.

Like iredis' ``entry.py``, a ``FileHistory`` subclass refuses lines that carry
secrets (``object-add qom-type=secret``, password commands, ``password=`` and
``*-secret=`` arguments; see ``qmpshell.language.redact``); they are not even kept in
memory for the up arrow.  Entries are appended (in ``FileHistory``'s format),
so two shells running at once never truncate each other's lines.

The file is opened once, as ``qmpshell.protocol.privatefile`` says (no link
followed, the user's own regular file, 0600).  A history that cannot be
written (full disk, read-only directory, a directory in its place) is said
once and kept in memory for the session: Enter always runs the command.
``/dev/null`` means "no file", and the device is never opened.
"""

from __future__ import annotations

import datetime
import itertools
import os
from collections.abc import Callable, Iterable

from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from qmpshell.language.redact import line_has_secret, redact_url_credentials
from qmpshell.language.script import history_entries as entries
from qmpshell.protocol.privatefile import Warn, is_discard, open_append


class SecretFreeHistory(FileHistory):
    """``FileHistory`` that keeps secret-bearing lines out (``is_hmp`` picks the language)."""

    def __init__(
        self,
        filename: str,
        *,
        is_hmp: Callable[[], bool],
        size: int = 10_000,
        warn: Warn = lambda text: None,
    ) -> None:
        super().__init__(filename)
        self._path = filename
        self._is_hmp = is_hmp
        self._size = size
        self._warn = warn
        self._fd: int | None = None
        try:
            self._fd = open_append(filename, what="history file", warn=warn)
        except OSError as err:
            self._cannot_write(err)

    def load_history_strings(self) -> Iterable[str]:
        """The newest ``size`` entries (the file itself is never cut: other shells append to it).

        Read through a descriptor of its own (``O_NOFOLLOW``), which must be the file
        opened for appending: the path is never trusted twice.
        """
        if self._fd is None:
            return ()
        try:
            data = self._read_back()
        except OSError as err:
            self._warn(f"cannot read the history file {self._path}: {err.strerror or err}")
            return ()
        return list(itertools.islice(reversed(entries(data)), self._size))

    def _read_back(self) -> bytes:
        fd = os.open(self._path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            mine, there = os.fstat(self._fd) if self._fd is not None else None, os.fstat(fd)
            if mine is None or (mine.st_dev, mine.st_ino) != (there.st_dev, there.st_ino):
                raise OSError("the file changed since it was opened")
            return file.read()

    def append_string(self, string: str) -> None:
        """A line with a secret is dropped; credentials in a URL are redacted, the rest kept."""
        string = redact_url_credentials(string)
        if line_has_secret(string, hmp=self._is_hmp()) or any(
            line_has_secret(line, hmp=self._is_hmp()) for line in string.splitlines()[1:]
        ):
            return
        super().append_string(string)

    def store_string(self, string: str) -> None:
        """Append one entry with one ``write``; a failure is said once, then history stays in memory."""
        if self._fd is None:
            return
        lines = "".join(f"+{line}\n" for line in string.split("\n"))
        data = f"\n# {datetime.datetime.now()}\n{lines}".encode("utf-8", errors="replace")
        try:
            os.write(self._fd, data)
        except OSError as err:
            self._cannot_write(err)

    def _cannot_write(self, err: OSError) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._warn(
            f"cannot write the history file {self._path}: {err.strerror or err}; "
            "this session's history is kept in memory only"
        )


def make_history(
    filename: str | None, *, is_hmp: Callable[[], bool], size: int = 10_000, warn: Warn = lambda text: None
) -> History:
    """The history for ``Settings.history_file`` (None or /dev/null: this session only, in memory).

    ``Refused`` (exit status 2) when the path holds a link, a device or another user's file.
    """
    if filename is None or is_discard(filename):
        return InMemoryHistory()
    return SecretFreeHistory(filename, is_hmp=is_hmp, size=size, warn=warn)
