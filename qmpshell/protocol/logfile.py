"""The ``--logfile``: every message sent and received, one JSON object per line.

Each line is ``{"time": ISO-8601, "direction": "sent"|"received", "message": {...}}``,
secrets redacted, flushed at once so that a crash loses nothing.  The file is
appended to and created 0600 (its directory 0700 when qmpshell makes it).
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from typing import IO, Any

from qmpshell.errors import UsageError
from qmpshell.language.redact import redact_message


def open_private(path: str, mode: str = "a") -> IO[str]:
    """Open a text file for appending, creating it (and missing parents) private."""
    make_private_dirs(os.path.dirname(path))
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
    return os.fdopen(fd, mode, encoding="utf-8")


def make_private_dirs(directory: str) -> None:
    """Create ``directory`` and any missing parents, each 0700.

    (``os.makedirs(mode=...)`` gives the mode to the last directory only.)
    """
    if not directory or os.path.isdir(directory):
        return
    make_private_dirs(os.path.dirname(os.path.abspath(directory)))
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        return  # made by someone else meanwhile: not ours to change
    os.chmod(directory, 0o700)  # exactly 0700 whatever the umask


class MessageLog:
    """Thread-safe writer of the message log."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str) -> MessageLog:
        try:
            return cls(open_private(path))
        except OSError as err:
            raise UsageError(f"cannot open log file {path}: {err.strerror or err}") from err

    def sent(self, message: dict[str, Any]) -> None:
        self._write("sent", redact_message(message))

    def received(self, message: dict[str, Any]) -> None:
        self._write("received", message)

    def note(self, text: str) -> None:
        """A line of the shell's own (connect, reconnect, disconnect)."""
        self._write("note", {"text": text})

    def _write(self, direction: str, message: dict[str, Any]) -> None:
        record = {"time": datetime.now().astimezone().isoformat(), "direction": direction, "message": message}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                self._stream.write(line)
                self._stream.flush()
            except (OSError, ValueError):
                pass  # a full disk must not take the session down; the shell goes on

    def close(self) -> None:
        with self._lock:
            self._stream.close()
