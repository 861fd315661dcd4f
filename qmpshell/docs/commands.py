"""The shell's documentation commands: ``/help NAME`` (text, properties) and ``/example``.

The shell makes one ``ShellDocs`` on the first ``/help NAME`` and hands it the
current client each time: a reconnect (to another QEMU, perhaps) gets the new
server's documentation.
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.docs.hints import DocHints
from qmpshell.docs.library import ServerDocs, documentation_alone, example, help_text
from qmpshell.docs.properties import QUESTIONS, properties_table
from qmpshell.errors import UsageError
from qmpshell.language.requests import ShellRequest
from qmpshell.protocol.pending import QmpError
from qmpshell.records import Protocol
from qmpshell.schema.index import index_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Ask: TypeAlias = "Callable[[str, dict[str, Any]], Any]"


class ShellLike(Protocol):
    """What these commands read of ``qmpshell.shell.Shell`` (which this layer may not import)."""

    client: Any
    knowledge: Any
    help_width: int

    def _ask(self, command: str, arguments: dict[str, Any]) -> Any: ...


class ShellDocs:
    """Documentation for the shell, one ``ServerDocs`` per client met."""

    def __init__(self, *, qapi_dir: str | None, use_cache: bool, warn: Callable[[str], None]) -> None:
        self.qapi_dir = qapi_dir
        self.use_cache = use_cache
        self.warn = warn
        self._client: object = None
        self._docs: ServerDocs | None = None
        self._hints: DocHints | None = None

    def server_docs(self, client: Any) -> ServerDocs:
        if self._docs is None or self._client is not client:
            self._client = client
            self._docs = ServerDocs(
                qapi_dir=self.qapi_dir,
                peer_pid=getattr(client, "peer_pid", None),
                server_version=str(getattr(client, "server_version", "") or ""),
                use_cache=self.use_cache,
                warn=self.warn,
            )
        return self._docs

    def help(self, shell: ShellLike, name: str, narrow: dict[str, str]) -> str | None:
        """The schema's tree with the documentation under it; None when NAME is no command or event.

        A server without a schema (the guest agent, ``-N``) gets the documentation alone.
        """
        properties = self.properties(name, narrow, shell._ask, shell.help_width)
        # The tree shows a type once (file: "as above"); nested keys narrow the documentation only.
        top = {key: value for key, value in narrow.items() if "." not in key}
        knowledge = shell.knowledge
        tree = knowledge.help(name, top, shell.help_width) if knowledge is not None else None
        index = index_of(knowledge) if knowledge is not None else None
        docs = self.server_docs(shell.client)
        if index is None:
            alone = documentation_alone(docs, name, shell.help_width)
            return alone or tree or f"no schema is known for this server, so there is no help for {name}"
        if tree is None:
            return None
        return help_text(docs, index, name, narrow, str(tree), shell.help_width) + properties

    def hints(self, client: Any, knowledge: object) -> DocHints | None:
        """Argument docs for completion and the toolbar (None without a schema)."""
        index = index_of(knowledge)
        if index is None:
            return None
        docs = self.server_docs(client)
        if self._hints is None or self._hints.docs is not docs or self._hints.index is not index:
            self._hints = DocHints(docs, index)
        return self._hints

    def properties(self, name: str, narrow: dict[str, str], ask: Ask, width: int) -> str:
        """``device_add driver=TYPE``, ``object-add qom-type=TYPE``: the type's properties, asked of QEMU.

        ``driver`` is no union discriminator of ``device_add``: it leaves ``narrow``
        so that the schema's tree is shown whole.
        """
        key, question = QUESTIONS.get(name, ("", ""))
        if not key or key not in narrow:
            return ""
        type_name = narrow[key]
        if name == "device_add":
            del narrow[key]
        try:
            rows = ask(question, {"typename": type_name})
        except QmpError as err:
            raise UsageError(f"/help {name} {key}={type_name}: {err}") from None
        return "\n" + properties_table(type_name, rows, width)

    def example(self, shell: ShellLike, request: ShellRequest) -> str:
        """``/example COMMAND [N]``: the line, or ``UsageError`` saying why there is none."""
        words, index, client = request.words, index_of(shell.knowledge), shell.client
        if not 1 <= len(words) <= 2 or (len(words) == 2 and not words[1].isdigit()) or request.options:
            raise UsageError("usage: /example COMMAND [N]")
        if index is not None and words[0] not in index.commands:  # without a schema: the docs alone
            raise UsageError(f"/example: no command named '{words[0]}'")
        number = int(words[1]) if len(words) == 2 else 1
        try:
            return example(self.server_docs(client), index, words[0], number)
        except ValueError as err:
            raise UsageError(f"/example: {err}") from None
