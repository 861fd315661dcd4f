"""Bytes from the socket in, QMP messages out: a stream decoder, not a line reader.

QEMU ends every message with CRLF; with ``pretty=on`` one message spans many
lines, and its last line is a ``}`` in column 0.  So a decode is tried only on
a line that ends with ``}`` and starts in column 0: once per message in both
modes, which keeps a 100 MB reply linear.  qemu-ga's ``0xFF`` sync delimiter
(never part of valid UTF-8) is dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from qmpshell.errors import ConnectionLost
from qmpshell.language.strictjson import DECODER, MAX_DEPTH, may_be_too_deep, reason, too_deep
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_MAX_MESSAGE = 256 * 1024 * 1024
_DECODER = DECODER  # no NaN, no Infinity, no 1e400: what cannot be written back is refused
_SPACE = re.compile(r"[ \t\r\n]*")
_LINE_ENDS = ("\r\n", "\n")  # what may follow a message alone on its line
# What ``_DECODER.decode`` calls once it has skipped white space (typeshed leaves the attribute out)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_CUT = "the server closed the connection in the middle of a message"


class ProtocolError(ConnectionLost):
    """The server sent something that is not a QMP message."""


class InvalidJson(ProtocolError):
    """A message failed to decode: the connection's fault, not the fault of the line that waited.

    Batch mode says it as ``qmpshell: server sent invalid JSON: ...`` (the
    words issue 13 gives) and names the script line after it.
    """


class StreamDecoder:
    """Accumulates bytes and yields each complete JSON object."""

    def __init__(self, *, max_message: int = DEFAULT_MAX_MESSAGE) -> None:
        self.max_message = max_message
        self._partial: list[bytes] = []  # bytes of the current, unfinished line
        self._message: list[str] = []  # complete lines of an unfinished message
        self._size = 0
        self.line_number = 0

    def reset(self) -> None:
        """Forget a half-received message (the guest agent's 0xFF starts afresh)."""
        self._partial, self._message, self._size = [], [], 0

    def feed(self, data: bytes) -> list[Message]:
        """Add received bytes; return the messages they complete."""
        if b"\xff" in data:
            data = data.replace(b"\xff", b"")
        self._size += len(data)
        if self._size > self.max_message:
            limit = self.max_message // (1024 * 1024)
            raise ProtocolError(f"server sent a message larger than {limit} MiB")
        if not self._partial and not self._message and data.find(b"\n") == len(data) - 1:
            single = self._single_line(data)
            if single is not None:
                return [single]
        messages: list[Message] = []
        start = 0
        while (newline := data.find(b"\n", start)) >= 0:
            self._partial.append(data[start : newline + 1])
            start = newline + 1
            messages.extend(self._line(b"".join(self._partial)))
            self._partial = []
        if start < len(data):
            self._partial.append(data[start:])
        return messages

    def _single_line(self, data: bytes) -> Message | None:
        """The common case, one whole compact message in one read; None: take the general path.

        The decoder's scanner is called directly: ``decode`` would look for white
        space around the value with two regular expressions, where QEMU puts none
        before it and ``\r\n`` after (a reply's whole decoding is on the path
        between a reply and a strict script's next command)."""
        try:
            text = data.decode("utf-8")
            value, end = _SCAN(text, 0)
        except (StopIteration, ValueError, RecursionError):
            return None  # the general path says what is wrong
        if text[end:] not in _LINE_ENDS or not isinstance(value, dict) or may_be_too_deep(data):
            return None  # the general path checks the rest and the depth
        self.line_number += 1
        self._size = 0
        return value

    def finish(self) -> list[Message]:
        """End of stream: a last message without a newline still counts."""
        rest = b"".join(self._partial)
        self._partial = []
        if not rest.strip() and not self._message:
            return []
        messages = self._line(rest, final=True)
        if self._message:
            raise ProtocolError(_CUT)
        return messages

    def _line(self, raw: bytes, *, final: bool = False) -> list[Message]:
        self.line_number += 1
        text = self._text(raw)
        if not self._message and not text.strip():
            self._size = 0
            return []
        if not self._message and not text.lstrip().startswith("{"):
            raise self._not_an_object(text)
        self._message.append(text)
        stripped = text.rstrip()
        if not final and not (stripped.endswith("}") and not stripped[:1].isspace()):
            return []
        messages = self._decode("".join(self._message), final=final)
        if messages is not None:
            self._message = []
            self._size = 0
            return messages
        return []

    def _text(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ProtocolError(
                f"server sent invalid UTF-8 (line {self.line_number}, byte {err.start + 1}: "
                f"{raw[err.start : err.start + 1]!r})"
            ) from None

    def _decode(self, text: str, *, final: bool) -> list[Message] | None:
        """Every object in ``text``; None if it is an unfinished message."""
        messages: list[Message] = []
        pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
        while pos < len(text):
            try:
                value, pos = _DECODER.raw_decode(text, pos)
            except json.JSONDecodeError as err:
                if final and (err.pos >= len(text.rstrip()) or err.msg.startswith("Unterminated string")):
                    raise ProtocolError(_CUT) from None
                if err.pos >= len(text.rstrip()):
                    return None
                raise InvalidJson(self._invalid(err)) from None
            except ValueError as err:  # a 5,000-digit integer, 1e400, NaN: not a crash of the reader
                raise InvalidJson(self._invalid(err)) from None
            except RecursionError:
                raise ProtocolError(self._too_deep()) from None
            if not isinstance(value, dict):
                kind = type(value).__name__
                raise ProtocolError(f"server sent a JSON {kind}, not an object: {_clip(text)}")
            if may_be_too_deep(text) and too_deep(value):
                raise ProtocolError(self._too_deep())
            messages.append(value)
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        return messages

    def _too_deep(self) -> str:
        return f"server sent JSON nested more than {MAX_DEPTH} levels deep (line {self.line_number})"

    def _invalid(self, err: ValueError) -> str:
        return f"server sent invalid JSON: {reason(err)} (line {self.line_number})"

    def _not_an_object(self, text: str) -> ProtocolError:
        try:
            value = _DECODER.decode(text)
        except (json.JSONDecodeError, RecursionError):
            return ProtocolError(f"server sent non-JSON data (line {self.line_number}): {_clip(text)}")
        except ValueError as err:  # a 5,000-digit integer or 1e400 alone on a line
            return InvalidJson(self._invalid(err))
        return ProtocolError(f"server sent a JSON {type(value).__name__}, not an object: {_clip(text)}")


def _clip(text: str, width: int = 60) -> str:
    text = text.strip()
    return repr(text if len(text) <= width else text[:width] + "...")
