"""The prompt_toolkit completer: a thin layer over ``qmpshell.schema.suggest`` and ``qmpshell.schema.live``.

It asks ``suggest`` what may come next, turns each candidate into a
``Completion`` with its type as ``display_meta``, and adds the live values the
suggestion asks for when they are already known (``LiveValues.answer`` waits
only on Tab, so typing never freezes).  The source is a callable so that the REPL
can swap index and live values on reconnect; wrap the completer in
``ThreadedCompleter`` as pgcli does.  When Tab asks for live values that are
still being fetched (or those known are not final: a statement ran or runs),
``on_waiting`` is told the text, so that the front-end can show them as soon as
they arrive (one Tab is enough); host paths are completed by prompt_toolkit's
``PathCompleter``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from itertools import chain

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from qmpshell import commands
from qmpshell.language.prefix import ALL, split_target
from qmpshell.language.syntax import Kind, tokenize
from qmpshell.schema.live import Answer, CompletionSource, LiveItem
from qmpshell.schema.suggest import suggest
from qmpshell.schema.suggestions import Candidate, Suggestions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SHELL_NAMES = tuple(commands.names(aliases=True))
_TARGET_BEING_NAMED = re.compile(r"\s*@([A-Za-z0-9_.-]*)")
_TARGET_ARGUMENT = re.compile(r"\s*(?:/use|/migrate(?: +\S+)?) +(\S*)")
LIVE_WAIT = 1.0  # seconds a Tab waits for a live answer before the menu is left to refresh itself


class ShellCompleter(Completer):
    """Completes QMP lines from the schema and live values, or HMP command names in HMP mode."""

    def __init__(
        self,
        source: Callable[[], CompletionSource | None],
        *,
        hmp: Callable[[], bool] = lambda: False,
        hmp_commands: Callable[[], Iterable[str]] = lambda: (),
        hmp_completer: Callable[[], Completer] | None = None,
        on_waiting: Callable[[str | None], None] = lambda text: None,
        source_ready: Callable[[float], object] = lambda seconds: None,
        target_source: Callable[[str], CompletionSource | None] | None = None,
        target_names: Callable[[], Iterable[str]] = lambda: (),
        hints: Callable[[], Any] = lambda: None,
    ) -> None:
        if not callable(source):
            raise TypeError("ShellCompleter takes a callable that returns the current CompletionSource")
        self._source = source
        self._hmp = hmp
        self._hmp_commands = hmp_commands
        self._hmp_completer = hmp_completer  # for "/hmp LINE": HMP names and arguments
        self._on_waiting = on_waiting
        self._source_ready = source_ready
        self._target_source = target_source  # with several targets: ``@NAME LINE`` completes from NAME's
        self._target_names = target_names
        self._paths = PathCompleter(expanduser=True)
        self._hints = hints  # QEMU's docs of arguments (qmpshell.docs.hints.DocHints), or None

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        named = _TARGET_BEING_NAMED.fullmatch(text)
        if named is not None:  # ``@sr`` -> ``@src ``: the targets' names, and ``all``
            names = [*self._target_names(), "all"] if self._target_names() else []
            start = -len(named[1]) - 1
            return [Completion(f"@{name} ", start) for name in names if name.startswith(named[1])]
        argument = _TARGET_ARGUMENT.fullmatch(text)
        if argument is not None:  # ``/use d`` -> ``/use dst``; ``/migrate src d`` -> ``dst``
            word = argument[1]
            return [Completion(name, -len(word)) for name in self._target_names() if name.startswith(word)]
        target, line = split_target(text)
        if target and target != ALL and (pick := self._target_source) is not None:
            return self._complete(line, document, complete_event, lambda: pick(target))
        if self._hmp():
            return self._hmp_names(text)
        if text.lstrip().startswith("/hmp "):
            line = text.lstrip()[5:]
            if self._hmp_completer is not None:
                return self._hmp_completer().get_completions(Document(line), complete_event)
            return self._hmp_names(line)
        return self._complete(text, document, complete_event, self._source)

    def _complete(
        self,
        text: str,
        document: Document,
        complete_event: CompleteEvent,
        source_now: Callable[[], CompletionSource | None],
    ) -> Iterable[Completion]:
        requested = complete_event.completion_requested
        if requested:  # said before looking, so that an answer arriving meanwhile is not missed
            self._on_waiting(document.text)
        if requested and source_now() is None:
            self._source_ready(LIVE_WAIT)  # the schema is still being read after connecting
        source = source_now()
        found = suggest(text, source.index if source else None, shell_commands=[f"{n}" for n in SHELL_NAMES])
        if found.what == "file":
            self._on_waiting(None)
            return _with_slash(self._paths.get_completions(Document(found.word), complete_event))
        # On Tab, wait a moment for a live answer (this runs on a completion thread, never the UI's).
        answer = _live_answer(found, source, wait=LIVE_WAIT if requested else 0.0)
        if requested and source is not None and answer.final:
            self._on_waiting(None)
        live = answer.items
        described = _described(found, text, self._hints() if found.what == "argument" else None)
        if live and found.live is not None and found.live.kind in ("device-ids", "qom-paths") and source:
            live = _marked_unplugging(live, source.unplugging())
        return chain(_schema_completions(described), _live_completions(found, live or []))

    def _hmp_names(self, text: str) -> Iterable[Completion]:
        stripped = text.lstrip()
        if any(c.isspace() for c in stripped):
            return []
        names = sorted(set(self._hmp_commands()))
        return [Completion(n, -len(stripped), display_meta="HMP") for n in names if n.startswith(stripped)]


def _schema_completions(found: Suggestions) -> Iterable[Completion]:
    for candidate in found.candidates:
        yield Completion(
            candidate.insert or candidate.text,
            -len(found.word),
            display=candidate.text,
            display_meta=candidate.meta,
        )


def _described(found: Suggestions, text: str, hints: Any) -> Suggestions:
    """Each argument's meta followed by the first sentence of its documentation."""
    command = next((t.text for t in tokenize(text) if t.kind is Kind.COMMAND), "")
    if hints is None or not command:
        return found
    word = text.split()[-1] if text and not text[-1].isspace() else ""
    parents = tuple(word.split(".")[:-1])
    candidates = tuple(
        Candidate(c.text, hints.meta(command, parents, c.text, c.meta), c.insert) for c in found.candidates
    )
    return replace(found, candidates=candidates)


def _live_answer(found: Suggestions, source: CompletionSource | None, *, wait: float) -> Answer:
    """The live values asked for (none asked: an empty final answer)."""
    if found.live is None or source is None or source.live is None:
        return Answer([], final=True)
    return source.live.answer(found.live, wait=wait)


def _live_completions(found: Suggestions, items: list[LiveItem]) -> Iterable[Completion]:
    known = found.texts | found.used
    suffix = "=" if found.what == "argument" else ""
    for item in items:
        if item.text.startswith(found.word) and item.text not in known:
            yield Completion(item.text + suffix, -len(found.word), display=item.text, display_meta=item.meta)


def _marked_unplugging(items: list[LiveItem], pending: set[str]) -> list[LiveItem]:
    """A device whose ``device_del`` waits for the guest says so (until ``DEVICE_DELETED``)."""
    if not pending:
        return items
    return [
        LiveItem(item.text, f"{item.meta} (unplug pending)")
        if item.text.rstrip("/").rsplit("/", 1)[-1] in pending
        else item
        for item in items
    ]


def _with_slash(completions: Iterable[Completion]) -> Iterable[Completion]:
    """A directory completes with its ``/`` (``PathCompleter`` only shows it), ready for what is in it."""
    for completion in completions:
        if completion.display_text.endswith("/") and not completion.text.endswith("/"):
            completion = Completion(
                completion.text + "/", completion.start_position, display=completion.display
            )
        yield completion
