"""The shell's HMP side: one object per shell that runs HMP lines over QMP (``qmpshell.hmp.engine``).

It keeps what lasts between lines: the server's QMP commands (asked once per
connection, or the schema's with ``--quiet-monitor``), the session's HMP history
(``info history``).  The shell hands it how to send a command (so ``-v`` shows
it and Ctrl-C stops the wait) and how to type values (the schema typer).  The
shell imports this module only when an HMP line runs, so a QMP one-shot never
loads the HMP tables.
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.hmp import engine
from qmpshell.hmp.engine import Result
from qmpshell.language.untyped import ArgumentTyper
from qmpshell.protocol.server import identify
from qmpshell.protocol.session import QmpSession
from qmpshell.schema.index import index_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Message: TypeAlias = "dict[str, Any]"
Exchange = Callable[[str, Message], Message]


class _Port:
    def __init__(
        self, exchange: Exchange, typer: Callable[[], ArgumentTyper | None], cpu: int | None
    ) -> None:
        self.exchange, self._typer, self.cpu_index = exchange, typer, cpu

    def typer(self) -> ArgumentTyper | None:
        return self._typer()


class HmpSide:
    """Runs HMP lines for a shell: translated, answered by the shell, or left to pass through."""

    def __init__(
        self,
        client: Callable[[], QmpSession],
        exchange: Exchange,
        typer: Callable[[], ArgumentTyper | None],
        timeout: float | None,
        knowledge: Callable[[], object] = lambda: None,
    ) -> None:
        self._client, self._exchange, self._typer, self._timeout = client, exchange, typer, timeout
        self._knowledge = knowledge  # the shell's schema knowledge (--quiet-monitor: its command list)
        self.history: list[str] = []  # HMP "info history"
        self._server: tuple[QmpSession, frozenset[str]] | None = None

    def server_commands(self) -> frozenset[str]:
        """The QMP commands this server has, once per connection: the list ``identify`` asked
        for (``query-commands``, marked as the shell's own) or, with ``--quiet-monitor``, the
        schema's; nothing else is asked."""
        client = self._client()
        if self._server is None or self._server[0] is not client:
            names = frozenset(identify(client, timeout=self._timeout).commands)
            if not names:
                index = index_of(self._knowledge())  # a batch's schema is read now
                names = frozenset(index.commands) if index is not None else names
            if not names:
                return names  # asked again once the schema is there
            self._server = (client, names)
        return self._server[1]

    def via(self, wanted: str) -> str:
        """``auto`` is ``qmp`` on a server without HMP (qemu-storage-daemon)."""
        return wanted if engine.PASSTHROUGH in self.server_commands() or wanted == "passthrough" else "qmp"

    def check(self, line: str, via: str) -> None:
        """Refuse, before anything is sent, a line that cannot run as ``via`` asks (UsageError)."""
        if self.via(via) == "qmp":
            engine.route(engine.resolve(line), "qmp", self.server_commands())

    def run(self, line: str, via: str, cpu_index: int | None) -> Result | None:
        """Run a line over QMP; None: the caller sends it to ``human-monitor-command``."""
        port = _Port(self._exchange, self._typer, cpu_index)
        server = self.server_commands()
        return engine.run_line(port, line, via=self.via(via), server=server, history=self.history)

    def note(self, via: str) -> str:
        """Said at the switch to HMP mode: what this server offers."""
        return engine.describe_offer(self.server_commands(), via)

    def help(self, name: str, *, shell: str, qmp_help: Callable[[str], str | None]) -> str:
        from qmpshell.hmp.helptext import hmp_help

        return hmp_help(name, self.server_commands(), shell=shell, qmp_help=qmp_help)
