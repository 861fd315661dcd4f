"""The shorthand language: one tokenizer for execution, highlighting and completion.

Grammar of one line (``ws`` is spaces and tabs)::

    line        := ws* ( shell | raw-json | close | call ) ws*
    shell       := "/" NAME ( ws+ ( KEY "=" value | WORD ) )*      e.g. /wait STOP timeout=5
    raw-json    := "{" ... "}" [ ws+ pipe ]                         sent as written
    call        := NAME [ "(" ] ( ws+ arg )* [ ws+ ")" ] [ ws+ pipe ]   "(" only after transaction
    pipe        := "|" ws* "json" ws*                               show this reply as JSON
    arg         := KEY "=" value          KEY := segment ( "." segment )*
    value       := quoted | json | bare | (nothing: the empty string)
    quoted      := '"' chars '"' | "'" chars "'"                   backslash escapes
    json        := "{" ... "}" | "[" ... "]"                        may contain ws
    bare        := any run of non-ws characters

``tokenize`` never raises: a fault becomes an ``ERROR`` token carrying a message,
and ``incomplete`` says whether more lines could still complete it (an open
bracket), which is what multi-line input needs.  Parsing, highlighting and the
completer all start from these tokens.
"""

from __future__ import annotations

import enum
import re

from qmpshell.errors import ParseError
from qmpshell.records import NamedTuple


class Kind(enum.Enum):
    """What a token is, as far as highlighting and parsing care."""

    WS = "ws"
    COMMAND = "command"
    SHELL = "shell"
    OPEN = "open"
    CLOSE = "close"
    KEY = "key"
    EQUALS = "equals"
    STRING = "string"
    NUMBER = "number"
    LITERAL = "literal"
    WORD = "word"
    JSON = "json"
    RAW_JSON = "raw-json"
    TEXT = "text"
    COMMENT = "comment"
    PIPE = "pipe"  # a trailing "| json": show this one reply as JSON
    ERROR = "error"


VALUE_KINDS = frozenset({Kind.STRING, Kind.NUMBER, Kind.LITERAL, Kind.WORD, Kind.JSON})


class Token(NamedTuple):
    """A slice ``text`` of the line at ``[start, end)``."""

    kind: Kind
    start: int
    end: int
    text: str
    error: str = ""
    incomplete: bool = False


_WS = re.compile(r"[ \t\r\n]+")
_WORD = re.compile(r"[^ \t\r\n]+")
_KEY = re.compile(r"[^ \t\r\n=]+")
# What only some lines need stays a string, compiled (and kept by re's cache) on first use: a
# one-shot without arguments never pays for it.
_QUOTED = {'"': r'"(?:[^"\\]|\\.)*"', "'": r"'(?:[^'\\]|\\.)*'"}  # with re.S
_JSON_STOP = re.compile(r'["{}\[\]]')
_JSON_STRING = _QUOTED['"']
_NUMBER = (
    r"[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+"
    r"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)"
)
_LITERALS = frozenset({"true", "false", "null"})
_PIPE_JSON = re.compile(r"\|[ \t]*json[ \t\r\n]*")
_CLOSERS = {"{": "}", "[": "]"}


def tokenize(text: str, *, hmp: bool = False) -> list[Token]:
    """Split one (possibly multi-line) statement into tokens; never raises."""
    return _Lexer(text).line(hmp=hmp)


class _Lexer:
    """A cursor over one statement; each method consumes one construct."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []
        self.in_transaction = False

    def line(self, *, hmp: bool) -> list[Token]:
        self.space()
        first = self.text[self.pos : self.pos + 1]
        if first == "/":
            self.shell_command()
        elif hmp and first:
            self.emit(Kind.TEXT, len(self.text))
        elif first == "{":
            self.raw_json()
        elif first == "#":
            self.emit(Kind.COMMENT, len(self.text))
        elif first:
            self.call()
        return self.tokens

    def emit(self, kind: Kind, end: int, error: str = "", *, incomplete: bool = False) -> None:
        self.tokens.append(Token(kind, self.pos, end, self.text[self.pos : end], error, incomplete))
        self.pos = end

    def space(self) -> bool:
        match = _WS.match(self.text, self.pos)
        if match:
            self.emit(Kind.WS, match.end())
        return self.pos >= len(self.text)

    def shell_command(self) -> None:
        match = _WORD.match(self.text, self.pos)
        assert match is not None
        self.emit(Kind.SHELL, match.end())
        if self.tokens[-1].text == "/hmp":
            if not self.space():
                self.emit(Kind.TEXT, len(self.text))
            return
        self.arguments(positional=True)

    def raw_json(self) -> None:
        end, error, incomplete = _scan_json(self.text, self.pos)
        if error:
            self.json_error(end, error, incomplete=incomplete)
            return
        self.emit(Kind.RAW_JSON, end)
        if not self.space() and not self.pipe():
            self.emit(Kind.ERROR, len(self.text), "unexpected text after the JSON object")

    def pipe(self) -> bool:
        """A trailing ``| json`` (after a space): True when it was there."""
        if self.tokens[-1].kind is not Kind.WS or not _PIPE_JSON.fullmatch(self.text, self.pos):
            return False
        self.emit(Kind.PIPE, len(self.text))
        return True

    def call(self) -> None:
        """A command, or in a transaction one action per line (and its ``)``).

        A loop, not recursion, so that a transaction of thousands of actions is fine.
        """
        while self._one_call():
            pass

    def _one_call(self) -> bool:
        """One command or action; True when the next line of a transaction follows."""
        match = _WORD.match(self.text, self.pos)
        assert match is not None
        end = match.end()
        if self.text.startswith(")", self.pos):
            self.emit(Kind.CLOSE, self.pos + 1)
        elif self.text.startswith("#", self.pos) and self.in_transaction:
            newline = self.text.find("\n", self.pos)
            self.emit(Kind.COMMENT, len(self.text) if newline < 0 else newline)
        elif self.text[self.pos : end].endswith("(") and end - self.pos > 1 and not self.in_transaction:
            self.emit(Kind.COMMAND, end - 1)
            self.emit(Kind.OPEN, end)
            self.in_transaction = True
            return not self.space()
        else:
            self.emit(Kind.COMMAND, end)
        return self.arguments(positional=False)

    def arguments(self, *, positional: bool) -> bool:
        """Arguments to the end; True when a transaction's next line (its next action) starts."""
        while not self.space():
            if self.tokens[-1].kind is not Kind.WS:
                self.emit(Kind.ERROR, len(self.text), "expected a space here")
                return False
            if self.in_transaction and "\n" in self.tokens[-1].text:
                return True
            if not positional and self.pipe():
                return False
            if not self.argument(positional=positional):
                return False
        return False

    def argument(self, *, positional: bool) -> bool:
        """One KEY=VALUE (or a positional word); False after an error token.

        ``COMMAND {JSON}`` is also accepted: the object is the whole arguments.
        """
        if self.text.startswith("{", self.pos) and self.tokens[-2].kind is Kind.COMMAND:
            return self.value()
        key = _KEY.match(self.text, self.pos)
        if key is None:  # the line continues with "=": a value without a key
            self.emit(Kind.ERROR, len(self.text), "expected a KEY before '='")
            return False
        if key.end() >= len(self.text) or self.text[key.end()] != "=":
            return self.word(key.end(), positional=positional)
        self.emit(Kind.KEY, key.end())
        self.emit(Kind.EQUALS, self.pos + 1)
        return self.value()

    def word(self, end: int, *, positional: bool) -> bool:
        if self.text[self.pos : end] == ")":
            self.emit(Kind.CLOSE, end)
        elif positional:
            self.emit(Kind.WORD, end)
        else:
            word = self.text[self.pos : end]
            self.emit(Kind.ERROR, len(self.text), f"expected KEY=VALUE, found '{word}'")
            return False
        return True

    def value(self) -> bool:
        first = self.text[self.pos : self.pos + 1]
        if first in _QUOTED:
            return self.quoted(first)
        if first in _CLOSERS:
            end, error, incomplete = _scan_json(self.text, self.pos)
            if error:
                self.json_error(end, error, incomplete=incomplete)
                return False
            self.emit(Kind.JSON, end)
            return True
        if first in ("", " ", "\t", "\r", "\n"):
            self.emit(Kind.STRING, self.pos)  # KEY= is the empty string
            return True
        match = _WORD.match(self.text, self.pos)
        assert match is not None
        self.emit(classify_bare(match.group()), match.end())
        return True

    def json_error(self, where: int, error: str, *, incomplete: bool) -> None:
        """An ERROR token from the fault (an open bracket is blamed on itself)."""
        if incomplete:
            self.emit(Kind.ERROR, len(self.text), error, incomplete=True)
            return
        self.emit(Kind.JSON, where)
        self.emit(Kind.ERROR, len(self.text), error)

    def quoted(self, quote: str) -> bool:
        match = re.compile(_QUOTED[quote], re.S).match(self.text, self.pos)
        if match is None:
            self.emit(Kind.ERROR, len(self.text), f"unterminated {quote}quoted{quote} string")
            return False
        self.emit(Kind.STRING, match.end())
        return True


def classify_bare(word: str) -> Kind:
    """The kind a bare value is guessed to be when no schema says otherwise."""
    if word in _LITERALS:
        return Kind.LITERAL
    if re.fullmatch(_NUMBER, word):
        return Kind.NUMBER
    return Kind.WORD


def _scan_json(text: str, start: int) -> tuple[int, str, bool]:
    """Find the end of the JSON object or array at ``start``.

    Returns ``(end, error, incomplete)``; brackets inside strings do not count.
    A stack of expected closers (not recursion) keeps deep nesting cheap.
    """
    expected: list[str] = []
    pos = start
    while True:
        match = _JSON_STOP.search(text, pos)
        if match is None:
            return len(text), f"unclosed '{_opener(expected)}'", True
        char = match.group()
        if char == '"':
            string = re.compile(_JSON_STRING, re.S).match(text, match.start())
            if string is None:
                return len(text), "unterminated string inside JSON", True
            pos = string.end()
            continue
        pos = match.end()
        if char in _CLOSERS:
            expected.append(_CLOSERS[char])
        elif not expected or expected.pop() != char:
            return match.start(), f"unbalanced '{char}' in JSON", False
        if not expected:
            return pos, "", False


_IN_STRING = r'(?:[^"\\]|\\.)*'  # with re.S


class OpenJson:
    """A JSON value still open at the end of the text read so far, read further piece by piece.

    By ``_scan_json``'s rules (brackets inside strings do not count), but
    resumable: the closers still expected, and whether the text stopped inside
    a string, are kept.  Statement assembly then reads each new line once, not
    the whole statement again (10,000 lines of pretty JSON took 88 s).
    """

    def __init__(self) -> None:
        self.expected: list[str] = []
        self.in_string = False
        self.escaped = False  # the text stopped just after a backslash inside a string

    def more(self, text: str) -> bool:
        """Read ``text``; True while the value stays open, False once it closes or goes wrong."""
        pos = 0
        while pos < len(text):
            if self.in_string:
                pos = self._string(text, pos)
                continue
            match = _JSON_STOP.search(text, pos)
            if match is None:
                return True
            char, pos = match.group(), match.end()
            if char == '"':
                self.in_string = True
            elif char in _CLOSERS:
                self.expected.append(_CLOSERS[char])
            elif not self.expected or self.expected.pop() != char or not self.expected:
                return False
        return bool(self.expected)

    def _string(self, text: str, pos: int) -> int:
        if self.escaped:
            self.escaped = False
            pos += 1
        end = re.compile(_IN_STRING, re.S).match(text, pos).end()  # type: ignore[union-attr]
        if end == len(text):
            return end
        if text[end] == "\\":  # a backslash ends this piece: its escaped character comes next
            self.escaped = True
            return len(text)
        self.in_string = False
        return end + 1


def _opener(expected: list[str]) -> str:
    return "{" if expected and expected[-1] == "}" else "["


def unquote(token_text: str) -> str:
    """The string a quoted token stands for: quotes removed, escapes applied."""
    body = token_text[1:-1]
    if "\\" not in body:
        return body
    return re.sub(_ESCAPE, _unescape_one, body, flags=re.S)


_ESCAPE = r"\\(u[0-9a-fA-F]{4}|.)"  # with re.S
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0"}


def _unescape_one(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) == 5:
        return chr(int(code[1:], 16))
    return _SIMPLE_ESCAPES.get(code, code)


def first_error(tokens: list[Token]) -> Token | None:
    """The ERROR token of a line, if it has one (there is at most one)."""
    if tokens and tokens[-1].kind is Kind.ERROR:
        return tokens[-1]
    return None


def is_incomplete(text: str, *, hmp: bool = False) -> bool:
    """True when more lines could still complete this statement (open bracket)."""
    error = first_error(tokenize(text, hmp=hmp))
    return error is not None and error.incomplete


def raise_for_error(tokens: list[Token], text: str) -> None:
    """Turn the line's ERROR token, if any, into a ParseError with its column."""
    error = first_error(tokens)
    if error is not None:
        raise ParseError(error.error, text, error.start)


def significant(tokens: list[Token]) -> list[Token]:
    """The tokens without whitespace and comments."""
    return [t for t in tokens if t.kind not in (Kind.WS, Kind.COMMENT)]
