"""The schema read the first time a batch line needs it (``LazyKnowledge``).

A line without arguments needs no schema, so a one-shot such as ``qmpshell SOCK
-c query-status`` neither reads the cache nor loads ``schema.knowledge``: this
module is all it imports of the schema, and the loader it is given (batch mode's,
``batchrun``) imports the rest when it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.language.untyped import ArgTree, ArgumentTyper
    from qmpshell.schema.index import SchemaIndex
    from qmpshell.schema.knowledge import SchemaKnowledge
    from qmpshell.schema.livetypes import Ask


class LazyKnowledge:
    """``Knowledge`` that reads the schema the first time a line needs it.

    Needs it: arguments to type, a transaction, ``/help``, ``/wait`` (its event
    name is checked), an error reply to explain, and an ``x-`` command (QEMU's
    prefix for unstable interfaces, so that its warning is still given).  A
    command without arguments is sent unchecked until the schema is loaded; if
    the server does not know it, the error is reported as the parser would have
    (``unknown command ...; did you mean ...?``, status 2).  Raw JSON is never
    checked, as before.
    """

    def __init__(self, load: Callable[[], SchemaKnowledge | None]) -> None:
        self._load: Callable[[], SchemaKnowledge | None] | None = load
        self._knowledge: SchemaKnowledge | None = None
        self.unchecked: set[str] = set()  # command names sent before the schema was read

    @property
    def loaded(self) -> bool:
        """Whether the schema has been asked for (it may have turned out to be absent)."""
        return self._load is None

    def knowledge(self) -> SchemaKnowledge | None:
        """The schema's knowledge, loading it now if needed; None when the server has none."""
        if self._load is not None:
            load, self._load = self._load, None
            self._knowledge = load()
        return self._knowledge

    @property
    def index(self) -> SchemaIndex | None:
        knowledge = self.knowledge()
        return knowledge.index if knowledge is not None else None

    def typer_for(self, ask: Ask) -> ArgumentTyper:
        return _LazyTyper(self, ask)

    def full_typer(self, ask: Ask) -> ArgumentTyper:
        """The schema's typer (loading it), or the guessing rules when the server has no schema."""
        knowledge = self.knowledge()
        if knowledge is not None:
            return knowledge.typer_for(ask)
        from qmpshell.language.untyped import GuessingTyper

        return GuessingTyper()

    def unknown_event(self, name: str) -> str:
        knowledge = self.knowledge()
        return knowledge.unknown_event(name) if knowledge is not None else ""

    def help(self, name: str, narrow: Mapping[str, str] | None = None, width: int = 76) -> str | None:
        knowledge = self.knowledge()
        if knowledge is None:
            return f"no schema is known for this server, so there is no help for {name}"
        return knowledge.help(name, narrow, width)

    def hint_for_error(self, command: str, response: Message) -> str:
        knowledge = self.knowledge()
        if knowledge is None:
            return ""
        error = response.get("error")
        if command in self.unchecked and isinstance(error, dict) and error.get("class") == "CommandNotFound":
            knowledge.typer.convert(command, {})  # the parser's check, late: 'unknown command ...'
        return knowledge.hint_for_error(command, response)

    def warning_for(self, command: str) -> str:
        if not self.loaded and not command.startswith("x-"):
            return ""
        knowledge = self.knowledge()
        return knowledge.warning_for(command) if knowledge is not None else ""


class _LazyTyper:
    """The typer of a ``LazyKnowledge``: no schema for a command without arguments."""

    def __init__(self, owner: LazyKnowledge, ask: Ask) -> None:
        self._owner = owner
        self._ask = ask

    def convert(self, command: str, tree: ArgTree) -> dict[str, Any]:
        if not tree and not self._owner.loaded:
            self._owner.unchecked.add(command)
            return {}
        return self._owner.full_typer(self._ask).convert(command, tree)

    def convert_action(self, action: str, tree: ArgTree) -> dict[str, Any]:
        return self._owner.full_typer(self._ask).convert_action(action, tree)
