"""The lines of a script file or of stdin, bounded: what batch mode and ``--dry-run`` read.

Every line is read with a limit (``MAX_LINE``, 16 MiB; docs/limits.md): a
longer line, or input with no newline at all (``-f /dev/zero``), is refused
with one line naming where, never read whole into memory.  Each line must be
UTF-8; a byte-order mark is allowed only where an editor puts it, at the very
start, and anywhere else is refused with its line number (it would otherwise
become part of a command's name).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

from qmpshell.batch import IDLE
from qmpshell.errors import UsageError
from qmpshell.printer import Printer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

MAX_LINE = 16 * 1024 * 1024  # bytes
BOM = b"\xef\xbb\xbf"  # UTF-8 byte-order mark, which some editors put first


class BadLine(ValueError):
    """A line that cannot be a statement: too long, not UTF-8, a byte-order mark inside."""


def too_long() -> str:
    return f"line longer than {MAX_LINE // (1024 * 1024)} MiB (the limit; is this a script?)"


def decode_line(raw: bytes, number: int) -> str:
    """One line as text; ``BadLine`` says what is wrong with it."""
    body = raw[len(BOM) :] if number == 1 and raw.startswith(BOM) else raw
    if BOM in body:
        raise BadLine("a byte-order mark (U+FEFF) inside the script: save it as UTF-8 without BOM")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadLine(f"invalid UTF-8 at byte {err.start + 1}") from None


def bounded_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream's lines (newline kept) as they come, each at most ``MAX_LINE`` bytes."""
    while line := stream.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            raise BadLine(too_long())
        yield line


def read_script(path: str) -> list[str]:
    """The lines of a script file; a bad line is a usage error naming ``PATH:LINE``."""
    lines: list[str] = []
    number = 0
    try:
        with open(path, "rb") as file:
            for number, raw in enumerate(bounded_lines(file), start=1):  # noqa: B007 - said on error
                lines.append(_decoded(raw.removesuffix(b"\n"), f"{path}:{number}", number))
    except BadLine as err:  # from bounded_lines: the line after the last one read is too long
        raise UsageError(f"{path}:{number + 1}: {err}") from None
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from err
    return lines


def _decoded(raw: bytes, where: str, number: int) -> str:
    try:
        return decode_line(raw, number)
    except BadLine as err:
        raise UsageError(f"{where}: {err}") from None


def _stdin_raw_lines(*, idle: bool) -> Iterator[bytes]:
    """stdin's lines as bytes; with ``idle``, b"" each time no more is ready without waiting."""
    if not idle:
        yield from bounded_lines(sys.stdin.buffer)
        return
    import select  # here: only a pipelined stdin needs to know whether a read would wait

    fd, pieces, size = sys.stdin.fileno(), [], 0
    while True:
        if not select.select([fd], [], [], 0)[0]:
            yield b""
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pieces.append(chunk)
        size += len(chunk)
        if b"\n" in chunk:
            *lines, rest = b"".join(pieces).split(b"\n")
            pieces, size = ([rest] if rest else []), len(rest)
            for line in lines:
                if len(line) >= MAX_LINE:
                    raise BadLine(too_long())
                yield line + b"\n"
        if size > MAX_LINE:
            raise BadLine(too_long())
    if pieces:
        yield b"".join(pieces)


def stdin_lines(
    printer: Printer, *, keep_going: bool = False, invalid: list[int] | None = None, idle: bool = False
) -> Iterator[str]:
    """stdin line by line as it arrives; a bad line is reported and its number added to
    ``invalid`` (exit status 2); it ends the input unless ``keep_going``, when it is skipped
    (a line too long always ends it: its end is not known).

    With ``idle``, ``batch.IDLE`` comes whenever nothing more is ready to read (what is in flight
    is then finished before the wait for more input), and before a bad line is reported."""
    number = 0
    lines = _stdin_raw_lines(idle=idle)
    while True:
        try:
            raw = next(lines)
        except StopIteration:
            return
        except BadLine as err:
            if idle:
                yield IDLE  # what is in flight is shown before the complaint, as it ran before
            _bad(printer, number + 1, str(err), invalid)
            return
        if not raw:
            yield IDLE
            continue
        number += 1
        try:
            yield decode_line(raw, number)
        except BadLine as err:
            if idle:
                yield IDLE
            _bad(printer, number, f"{err}{'; line skipped' if keep_going else ''}", invalid)
            if not keep_going:
                return
            yield "#"  # the line's place, so the next keeps its number


def _bad(printer: Printer, number: int, text: str, invalid: list[int] | None) -> None:
    printer.error(f"{number}: ", text)
    if invalid is not None:
        invalid.append(number)
