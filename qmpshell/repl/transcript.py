"""Text that leaves the full screen: the transcript printed on exit, and ``/save FILE``.

The full-screen shell draws on the terminal's alternate screen, which is gone
when it exits; printing the output pane's plain text (commands and replies,
without the panes' decoration) to the normal screen afterwards keeps the
session in the terminal's scrollback, where it can be searched and copied.
"""

from __future__ import annotations

import os
import shlex

from qmpshell.errors import UsageError
from qmpshell.output.safe import visible
from qmpshell.protocol.privatefile import Refused, Warn, open_private

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO


def last_lines(text: str, limit: int) -> str:
    """At most the last ``limit`` lines of ``text`` (0: none)."""
    if limit <= 0 or not text:
        return ""
    lines = text.split("\n")
    return "\n".join(lines[-limit:])


def in_time_order(lines: list[tuple[float, str]], events: list[tuple[float, str]]) -> str:
    """The output's lines with the events' lines put where they came (a line before an event of its time)."""
    import heapq

    merged = heapq.merge(((t, 0, text) for t, text in lines), ((t, 1, text) for t, text in events))
    return "\n".join(text for _, _, text in merged)


def print_transcript(text: str, stream: IO[str], *, limit: int) -> None:
    """The session's last ``limit`` lines on the normal screen, ending with a newline."""
    shown = visible(last_lines(text.rstrip("\n"), limit))  # the screen showed ^[, so does the terminal
    if shown:
        stream.write(shown + "\n")
        stream.flush()


def save_text(path: str, text: str, *, warn: Warn = lambda text: None) -> int:
    """Write ``text`` to ``path`` (0600, also over an existing file: replies may hold what QEMU
    holds); lines written.

    Opened as the log is (``privatefile``): a symlink is not followed, and a FIFO,
    a device or another user's file is refused at once instead of waited on.
    """
    path = os.path.expanduser(path)
    try:
        fd = open_private(path, what="file", warn=warn)
    except Refused as err:  # "refusing the file PATH: why" said as /save always said it
        raise UsageError(f"cannot write {path}: {str(err).rsplit(': ', 1)[-1]}") from None
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    body = text if text.endswith("\n") or not text else text + "\n"
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(body)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    return body.count("\n")


def quoted_words(text: str) -> tuple[str, ...]:
    """``/save``'s words as a shell reads them: ``/save "my notes.txt"`` names one file."""
    try:
        return tuple(shlex.split(text))
    except ValueError as err:  # an unclosed quote
        raise UsageError(f"/save: {err}") from None
