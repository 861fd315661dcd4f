"""Where batch mode's lines come from: a ``-f`` script file, or stdin as it arrives.

Both are read as bytes and decoded line by line, so that one line of bad UTF-8
is reported with its number (a usage error, exit 2) instead of failing the
whole input, and an editor's byte-order mark before the first line is dropped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

from qmpshell.batch import IDLE, Printer
from qmpshell.errors import UsageError

_BOM = b"\xef\xbb\xbf"  # UTF-8 byte-order mark, which some editors put first


def read_script(path: str) -> list[str]:
    """The lines of a script file; bad UTF-8 is a usage error naming the line."""
    try:
        with open(path, "rb") as file:
            raw_lines = file.read().removeprefix(_BOM).split(b"\n")
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from err
    return [_decode_line(raw, f"{path}:{number}") for number, raw in enumerate(raw_lines, start=1)]


def _decode_line(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"{where}: invalid UTF-8 at byte {err.start + 1}") from None


def _stdin_raw_lines(*, idle: bool) -> Iterator[bytes]:
    """stdin's lines as bytes; with ``idle``, b"" each time no more is ready without waiting."""
    if not idle:
        yield from sys.stdin.buffer
        return
    import select  # here: only a pipelined stdin needs to know whether a read would wait

    fd, pieces = sys.stdin.fileno(), []
    while True:
        if not select.select([fd], [], [], 0)[0]:
            yield b""
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pieces.append(chunk)
        if b"\n" in chunk:
            *lines, rest = b"".join(pieces).split(b"\n")
            pieces = [rest] if rest else []
            yield from (line + b"\n" for line in lines)
    if pieces:
        yield b"".join(pieces)


def stdin_lines(
    printer: Printer, *, keep_going: bool = False, invalid: list[int] | None = None, idle: bool = False
) -> Iterator[str]:
    """stdin line by line as it arrives; an undecodable line is reported and its number added
    to ``invalid`` (exit status 2); it ends the input unless ``keep_going``, when it is skipped.

    With ``idle``, ``batch.IDLE`` comes whenever nothing more is ready to read (pipelining then
    finishes what is in flight before it waits for more input)."""
    number = 0
    for raw in _stdin_raw_lines(idle=idle):
        if not raw:
            yield IDLE
            continue
        number += 1
        if number == 1:
            raw = raw.removeprefix(_BOM)  # an editor's byte-order mark is not a command
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as err:
            skipped = "; line skipped" if keep_going else ""
            printer.error(f"{number}: ", f"invalid UTF-8 at byte {err.start + 1}{skipped}")
            if invalid is not None:
                invalid.append(number)
            if not keep_going:
                return
            yield "#"
