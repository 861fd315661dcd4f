"""HMP arguments by QEMU's ``args_type`` conventions (monitor/hmp.c), without QEMU.

A spec is ``name:TYPE,...``; ``?`` after the type makes it optional.  Types:

- ``s`` ``B`` ``F``: one word, or a ``"quoted string"`` with ``\\"``-style escapes;
- ``S``: the rest of the line;  ``O``: one word of QemuOpts (``driver,k=v,...``);
- ``i`` ``l``: an integer (decimal, ``0x`` hex);  ``M``: an integer of MiB, as bytes;
- ``o``: a size, ``2G`` ``512k``; without a suffix it is MiB (``qemu_strtosz_MiB``);
- ``b``: ``on`` or ``off``;  ``-f``: a flag, true when ``-f`` is given;
  ``-fs``: ``-f VALUE``;  ``/``: an ``x``-style ``/fmt`` (kept as text).

Flags may stand anywhere before the argument that follows them in the spec
(``change ide1-cd0 -f file.iso``).  ``opts`` splits QemuOpts strings (``,,`` is
a comma, a bare key is ``key=on``, the first item may omit its implied key).
"""

from __future__ import annotations

import re

from qmpshell.errors import UsageError
from qmpshell.hmp.table import Spec, usage
from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class HmpArgError(UsageError):
    """A line that does not fit the command's spec: nothing is sent."""


class ArgSpec(NamedTuple):
    name: str
    kind: str  # s B F S O i l M o b / - .
    optional: bool
    flag: str = ""  # the letter of a "-x" flag
    takes_value: bool = False  # "-xs": the flag is followed by a value


def parse_spec(args_type: str) -> list[ArgSpec]:
    """``device:B,size:o`` -> its arguments in order."""
    specs: list[ArgSpec] = []
    for item in filter(None, args_type.split(",")):
        name, _, kind = item.partition(":")
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        if kind.startswith("-"):
            specs.append(ArgSpec(name, "-", True, kind[1:2], kind[2:] == "s"))
        else:
            specs.append(ArgSpec(name, kind[:1], optional))
    return specs


_SIZE = re.compile(r"(\d+(?:\.\d*)?|0[xX][0-9a-fA-F]+)\s*([bBkKmMgGtTpPeE]?)")
_SHIFTS = {"b": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50, "e": 60}
_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|\d+)")


def parse_size(text: str, *, default_suffix: str = "M") -> int:
    """``qemu_strtosz`` as HMP reads sizes: ``2G``, ``512k``, ``100`` (MiB by default)."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"invalid size '{text}'")
    digits, suffix = match.groups()
    number = int(digits, 16) if digits[:2].lower() == "0x" else float(digits)
    value = number * (1 << _SHIFTS[(suffix or default_suffix).lower()])
    if value != int(value) or value >= 1 << 63:
        raise ValueError(f"invalid size '{text}'")
    return int(value)


def parse_int(text: str) -> int:
    if not _INT.fullmatch(text):
        raise ValueError(f"invalid number '{text}'")
    return int(text, 0) if not re.fullmatch(r"[-+]?0\d+", text) else int(text, 10)


def split_words(text: str) -> list[str]:
    """HMP words: whitespace-separated, ``"..."`` quoted with escapes."""
    words: list[str] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return words
        word, pos = _word(text, pos)
        words.append(word)


def _word(text: str, pos: int) -> tuple[str, int]:
    if text[pos] != '"':
        end = pos
        while end < len(text) and not text[end].isspace():
            end += 1
        return text[pos:end], end
    out: list[str] = []
    pos += 1
    escapes = {"n": "\n", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
    while pos < len(text) and text[pos] != '"':
        if text[pos] == "\\" and pos + 1 < len(text):
            pos += 1
            if text[pos] not in escapes:
                raise HmpArgError(f"unsupported escape code: '\\{text[pos]}'")
            out.append(escapes[text[pos]])
        else:
            out.append(text[pos])
        pos += 1
    if pos >= len(text):
        raise HmpArgError("unterminated string")
    return "".join(out), pos + 1


class _Reader:
    """The words of a line, with the rest of the line at hand for ``S`` arguments."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str | None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        if self.pos >= len(self.text):
            return None
        return _word(self.text, self.pos)[0]

    def take(self) -> str:
        self.peek()
        word, self.pos = _word(self.text, self.pos)
        return word

    def rest(self) -> str:
        rest = self.text[self.pos :].strip()
        self.pos = len(self.text)
        return rest


def parse_args(spec: Spec, text: str, *, prefix: str = "") -> dict[str, Any]:
    """The arguments of one HMP line (without its command name) by ``spec``; HmpArgError if bad."""
    where = f"{prefix}{spec.name}"
    specs = parse_spec(spec.args_type)
    flags = {s.flag: s for s in specs if s.kind == "-"}
    reader = _Reader(text)
    args: dict[str, Any] = {}
    for arg in specs:
        _take_flags(reader, flags, args, where)
        if arg.kind in "-.":
            continue
        word = reader.peek()
        if word is None:
            if arg.optional:
                break
            raise HmpArgError(f"{where}: missing argument '{arg.name}' (usage: {usage(where)})")
        args[arg.name] = _value(arg, reader, where)
    _take_flags(reader, flags, args, where)
    if reader.peek() is not None:
        raise HmpArgError(f"{where}: too many arguments (usage: {usage(where)})")
    return args


def _take_flags(reader: _Reader, flags: dict[str, ArgSpec], args: dict[str, Any], where: str) -> None:
    while (word := reader.peek()) is not None and re.fullmatch(r"-[A-Za-z]+", word):
        letters = word[1:]
        if any(letter not in flags for letter in letters):
            if flags:
                raise HmpArgError(f"{where}: unsupported option {word}")
            return  # a value that starts with '-' (a command without flags)
        reader.take()
        for letter in letters:
            flag = flags[letter]
            if flag.takes_value:
                if reader.peek() is None:
                    raise HmpArgError(f"{where}: option -{letter} needs a value")
                args[flag.name] = reader.take()
            else:
                args[flag.name] = True


def _value(arg: ArgSpec, reader: _Reader, where: str) -> Any:
    if arg.kind == "S":
        return reader.rest()
    word = reader.take()
    try:
        if arg.kind in "il":
            return parse_int(word)
        if arg.kind == "M":
            return parse_int(word) << 20
        if arg.kind == "o":
            return parse_size(word)
        if arg.kind == "b":
            if word not in ("on", "off"):
                raise ValueError(f"expected 'on' or 'off', not '{word}'")
            return word == "on"
    except ValueError as err:
        raise HmpArgError(f"{where}: {arg.name}: {err}") from None
    return word


def opts(text: str, implied: str = "") -> dict[str, Any]:
    """QemuOpts ``driver,k=v,a.b=c`` -> ``{"driver": ..., "k": ..., "a": {"b": ...}}`` (texts)."""
    items = re.split(r"(?<!,),(?!,)", text.replace(",,", "\x00"))
    result: dict[str, Any] = {}
    for position, item in enumerate(items):
        item = item.replace("\x00", ",")
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq:
            key, value = (implied, key) if position == 0 and implied else (key, "on")
        _put(result, key.split("."), value)
    return result


def _put(tree: dict[str, Any], path: list[str], value: str) -> None:
    for part in path[:-1]:
        node = tree.setdefault(part, {})
        if not isinstance(node, dict):
            raise HmpArgError(f"'{'.'.join(path)}' conflicts with '{part}={node}'")
        tree = node
    tree[path[-1]] = value
