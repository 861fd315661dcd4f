"""The parser's front door: a statement of the shorthand to the request it makes.

``parse_statement`` turns a statement (one line, or several joined by the
``statements`` module) into a ``QmpRequest``, ``HmpRequest`` or
``ShellRequest`` (``language.requests``); it raises ``ParseError`` (with a
column) and sends nothing.  Value types come from an ``ArgumentTyper``: the
schema when one is known, else ``GuessingTyper``, whose rules are the language's
defaults.

A line that is a command's name and nothing else is read here, as the grammar
would read it (``tests/test_syntax.py`` compares the two); everything else goes
to ``language.grammar``, loaded then with the tokenizer: a one-shot such as
``qmpshell SOCK -c query-status`` does not load them (issue 26).
"""

from __future__ import annotations

from qmpshell.language.requests import Request, call_request

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.language.untyped import ArgumentTyper


def parse_statement(text: str, *, hmp: bool = False, typer: ArgumentTyper | None = None) -> Request | None:
    """Parse one statement; ``None`` for an empty line or a comment."""
    name = text.strip()
    if not hmp and is_bare_name(name):
        arguments = typer.convert(name, {}) if typer is not None else {}  # the schema's check of the name
        return call_request(name, arguments)
    from qmpshell.language.grammar import parse_tokens

    return parse_tokens(text, hmp=hmp, typer=typer)


_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def is_bare_name(text: str) -> bool:
    """A QMP command's name alone (a letter, then letters, digits, ``-`` and ``_``)."""
    return text[:1].isalpha() and text[:1].isascii() and _NAME_CHARACTERS.issuperset(text)
