"""Highlighting of the input line from the core's own tokenizer, and JSON for replies.

The input ``Lexer`` maps each ``syntax.Kind`` to a style class, so what is
coloured is exactly what will be parsed; a syntax error is marked (an
unfinished bracket is not: more lines may follow).  Replies and events are
coloured by pygments' JSON lexer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import PygmentsTokens, StyleAndTextTuples, to_formatted_text
from prompt_toolkit.lexers import Lexer

from qmpshell.language.prefix import split_target
from qmpshell.language.syntax import Kind, Token, tokenize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pygments.lexer import Lexer as PygmentsLexer

_KIND_STYLE = {kind: f"class:input.{kind.value}" for kind in Kind}


def token_style(token: Token) -> str:
    if token.kind is Kind.ERROR and token.incomplete:
        return "class:input.incomplete"
    return _KIND_STYLE[token.kind]


def input_fragments(text: str, *, hmp: bool) -> StyleAndTextTuples:
    """The statement as styled fragments (may contain newlines); an ``@NAME`` prefix is the
    target's name, and the rest is the line that target reads."""
    target, rest = split_target(text)
    if target and text.lstrip().startswith("@"):
        prefix = text[: len(text) - len(rest)]
        return [("class:prompt.target", prefix), *input_fragments(rest, hmp=hmp)]
    tokens = tokenize(text, hmp=hmp)
    fragments: StyleAndTextTuples = [(token_style(t), t.text) for t in tokens]
    covered = tokens[-1].end if tokens else 0
    if covered < len(text):
        fragments.append(("", text[covered:]))
    return fragments


def split_lines(fragments: StyleAndTextTuples) -> list[StyleAndTextTuples]:
    """Fragments cut at newlines, one list per line."""
    lines: list[StyleAndTextTuples] = [[]]
    for fragment in fragments:
        style, text = fragment[0], fragment[1]
        parts = text.split("\n")
        for index, part in enumerate(parts):
            if index:
                lines.append([])
            if part:
                lines[-1].append((style, part))
    return lines


class InputLexer(Lexer):
    """Colours the line being typed; ``is_hmp`` says which language it is in."""

    def __init__(self, is_hmp: Callable[[], bool]) -> None:
        self._is_hmp = is_hmp

    def lex_document(self, document: Document) -> Callable[[int], StyleAndTextTuples]:
        lines = split_lines(input_fragments(document.text, hmp=self._is_hmp()))

        def get_line(number: int) -> StyleAndTextTuples:
            return lines[number] if number < len(lines) else []

        return get_line


@lru_cache(maxsize=1)
def _json_lexer() -> PygmentsLexer:
    """pygments' JSON lexer, made on the first reply or event shown: importing pygments' lexers
    is not the first prompt's business."""
    from pygments.lexers import JsonLexer

    lexer: PygmentsLexer = JsonLexer()
    return lexer


@lru_cache(maxsize=2048)
def _json_fragments_cached(text: str) -> tuple[tuple[str, str], ...]:
    tokens = list(_json_lexer().get_tokens(text))
    return tuple((f[0], f[1]) for f in to_formatted_text(PygmentsTokens(tokens)))


def json_fragments(text: str) -> StyleAndTextTuples:
    """JSON text coloured by pygments (the trailing newline pygments adds removed)."""
    fragments: StyleAndTextTuples = list(_json_fragments_cached(text))
    if fragments and fragments[-1][1].endswith("\n") and not text.endswith("\n"):
        style, last = fragments[-1][0], fragments[-1][1]
        fragments[-1] = (style, last[:-1])
    return fragments
