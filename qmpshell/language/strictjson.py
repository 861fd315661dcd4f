"""JSON as RFC 8259 has it: no ``NaN``/``Infinity``, no number that overflows to infinity.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``1e400`` (read as ``inf``)
and writes them back as ``Infinity``, which no JSON reader (QEMU included)
accepts; and it raises a bare ``ValueError`` for an integer of more than 4300
digits (``sys.get_int_max_str_digits``).  Both the server's messages and the
JSON a user types are read with ``DECODER``; every failure is a ``ValueError``
whose text ``reason`` turns into words.  ``escape_controls`` is the writing side:
``json.dumps(ensure_ascii=False)`` escapes C0 only, so DEL and the C1 controls
(an 8-bit CSI is U+009B) would reach whoever reads the JSON on a terminal.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys


class NumberError(ValueError):
    """A number JSON cannot carry (or Python will not read)."""


def finite_float(text: str) -> float:
    """``float(text)``, refusing what overflows to infinity (``1e400``) or is not a number."""
    number = float(text)
    if not math.isfinite(number):
        raise NumberError(f"number {_clip(text)} is out of range")
    return number


def _constant(name: str) -> float:
    raise NumberError(f"{name} is not a JSON value")


DECODER = json.JSONDecoder(parse_float=finite_float, parse_constant=_constant)


def loads(text: str) -> object:
    """``json.loads`` for RFC 8259 JSON: ``ValueError`` (often ``JSONDecodeError``) otherwise;
    ``RecursionError`` for a value nested more than ``MAX_DEPTH`` deep, as for one Python cannot read."""
    value = DECODER.decode(text)
    if may_be_too_deep(text) and too_deep(value):
        raise RecursionError(f"nested more than {MAX_DEPTH} levels deep")
    return value


def reason(err: ValueError) -> str:
    """What was wrong, in words: the decoder's message, or the number that could not be read."""
    if isinstance(err, json.JSONDecodeError):
        return err.msg
    if "integer string conversion" in str(err):
        return f"an integer of more than {sys.get_int_max_str_digits()} digits"
    return str(err)


@functools.cache
def _c1_and_del() -> re.Pattern[str]:
    """DEL, C1 and lone surrogates (no UTF-8 holds them); compiled when text first needs it."""
    return re.compile("[\x7f-\x9f\ud800-\udfff]")


def escape_controls(text: str) -> str:
    """JSON text with DEL and the C1 controls as ``\\u00XX`` escapes, a lone surrogate as ``\\udXXX``.

    Outside strings JSON text is plain ASCII, so only string contents change and
    the text still reads back as the same value.
    """
    if text.isascii() and "\x7f" not in text:  # nearly every reply: no pattern needed
        return text
    pattern = _c1_and_del()
    if not pattern.search(text):
        return text
    return pattern.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _clip(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[:width] + "..."


# How deep a JSON value may nest, from the server or typed (docs/limits.md).  QEMU's replies nest
# a few levels (each image of a backing chain adds one); the shell renders, logs and redacts values
# with Python code that recurses once a level, so anything near Python's recursion limit (1000)
# would end in a RecursionError somewhere.  Deeper is refused, with this number in the message.
MAX_DEPTH = 512


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests more than ``limit`` containers deep (walked without recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def may_be_too_deep(text: str | bytes, limit: int = MAX_DEPTH) -> bool:
    """A cheap first test: fewer opening brackets than ``limit`` cannot nest deeper."""
    if isinstance(text, bytes):
        return text.count(b"[") + text.count(b"{") > limit
    return text.count("[") + text.count("{") > limit
