"""Text from the server, a guest or a file, made safe to write where a person reads it.

QEMU passes on what it was given: a qcow2 image's backing-file name, a device
id, a guest's answer.  Written raw to a terminal, an ``ESC`` or an 8-bit CSI
(U+009B) in such text is a command to the terminal, not a character.  Two
defences, both pure functions:

- ``visible``: C0 and C1 control characters shown the way ``cat -v`` does
  (``^[`` for ESC, ``^?`` for DEL, ``\\x9b`` for a C1), keeping ``\\n`` and ``\\t``
  where they are layout; and the invisible format characters that reorder or
  hide text (bidi overrides and isolates, zero-width spaces and joiners, line
  separators) as ``\\u202e``: a name must read as the bytes it holds;
- ``escape_json_controls``: JSON text from ``json.dumps(ensure_ascii=False)``
  with DEL and C1 escaped as ``\\u007f``/``\\u009b`` (the encoder escapes only C0).
  Outside strings JSON text is plain ASCII, so the substitution only ever
  touches string contents and the result is the same JSON value.
"""

from __future__ import annotations

import functools
import re

from qmpshell.language.strictjson import escape_controls

_INVISIBLE = "\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"  # bidi, zero-width, separators


@functools.cache
def _controls(one_line: bool) -> re.Pattern[str]:
    """Compiled when first needed (9 M instructions, a twentieth of a one-shot, which writes a reply to
    a pipe without ever asking); lone surrogates are here because no UTF-8 holds them."""
    c0 = "\x00-\x1f" if one_line else "\x00-\x08\x0b-\x1f"  # \t and \n are layout, unless on one line
    return re.compile(f"[{c0}\x7f-\x9f\ud800-\udfff{_INVISIBLE}]")


def escape_json_controls(text: str) -> str:
    """JSON text with DEL and the C1 controls as ``\\u00XX`` escapes (``strictjson.escape_controls``)."""
    return escape_controls(text)


def visible(text: str, *, one_line: bool = False) -> str:
    """``text`` with control characters shown, not obeyed; ``one_line`` shows ``\\n`` too."""
    pattern = _controls(one_line)
    if not pattern.search(text):
        return text
    return pattern.sub(_shown, text)


def display_width(text: str) -> int:
    """The cells ``text`` takes on a terminal (CJK: two a character; combining marks: none), as
    prompt_toolkit measures it (its ``wcwidth``; without loading prompt_toolkit in batch mode)."""
    if text.isascii():
        return len(text)
    from wcwidth import wcswidth

    width = int(wcswidth(text))
    return width if width >= 0 else len(text)  # a control left in: the caller made text visible first


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` display cells (``str.ljust`` counts code points)."""
    return text + " " * max(0, width - display_width(text))


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return "^" + chr(code + 0x40)
    if code == 0x7F:
        return "^?"
    if code > 0xFF:
        return f"\\u{code:04x}"  # a lone surrogate
    return f"\\x{code:02x}"


def with_caret(what: str, text: str, column: int) -> str:
    """A parse error's three lines: the message, the text made visible, a caret under the fault.

    The caret counts the columns of the visible text, so ``^@`` before the fault moves it by two.
    """
    flat = text.replace("\t", " ").replace("\n", " ")
    return f"{what} (column {column + 1})\n  {visible(flat)}\n  {' ' * len(visible(flat[:column]))}^"
