"""Completion after a ``/``: the shell's own commands, their words, and events' fields for ``/wait``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qmpshell.language.syntax import Kind, Token
from qmpshell.schema.index import SchemaIndex
from qmpshell.schema.suggestions import NOTHING, Candidate, Suggestions, matching

_EVENTS_OPTIONS = ("on", "off", "clear", "filter")


def shell_words(
    tokens: list[Token],
    index: SchemaIndex | None,
    shell_commands: Sequence[str],
    *,
    event_fields: Callable[[list[Token], SchemaIndex, str], Suggestions],
) -> Suggestions:
    """After ``/``: the shell's commands, then the words each takes (``/events on``, ``/help NAME``,
    ``/wait EVENT`` and its fields through ``event_fields``)."""
    last = tokens[-1]
    head = tokens[0] if tokens[0].kind is Kind.SHELL else tokens[1]
    if last is head:
        names = [f"/{n}" for n in shell_commands]
        return Suggestions(
            last.text, "shell", tuple(Candidate(n, "shell", n) for n in matching(last.text, names))
        )
    positional = [t.text for t in tokens if t.kind is Kind.WORD and t is not last]
    if head.text == "/wait" and positional and index is not None:
        return event_fields(tokens, index, positional[0])
    word = last.text if last.kind is Kind.WORD else ("" if last.kind is Kind.WS else None)
    if word is None or index is None and head.text != "/events":
        return NOTHING
    if head.text == "/wait" and not positional:
        return _names(word, "event", sorted(index.events) if index else [])
    if head.text == "/help" and not positional and index is not None:
        return _names(word, "", sorted([*index.commands, *index.events]))
    if head.text == "/events" and not positional:
        return _names(word, "option", list(_EVENTS_OPTIONS))
    if head.text == "/events" and positional[:1] == ["filter"] and index is not None:
        return _names(word, "event", [e for e in sorted(index.events) if e not in positional])
    return NOTHING


def _names(word: str, what: str, names: Sequence[str]) -> Suggestions:
    return Suggestions(word, what, tuple(Candidate(n, what, n) for n in matching(word, names)))


# -- the signature toolbar ------------------------------------------------------------
