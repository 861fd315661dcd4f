"""Which completer the input line uses, and what it draws on for the current connection.

In HMP mode, the server's own command names and ``info`` subcommands; in QMP
mode the schema completer (``ShellCompleter``, written alongside) over a
``CompletionSource`` rebuilt after each (re)connect, as pgcli's completion
refresher does.  Both modules are optional: without them there is simply no
completion in QMP mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prompt_toolkit.completion import Completer, DynamicCompleter, ThreadedCompleter

from qmpshell.protocol.session import QmpSession
from qmpshell.repl.completer import ShellCompleter
from qmpshell.repl.hmpcomplete import HmpCompleter, HmpNames
from qmpshell.schema.live import CompletionSource, source_for
from qmpshell.shell import Shell


class Completions:
    """Holds the completion data of the current connection; ``completer()`` follows it."""

    def __init__(self, *, is_hmp: Callable[[], bool]) -> None:
        self.hmp_names = HmpNames({}, {})
        self.source: CompletionSource | None = None
        self._is_hmp = is_hmp
        self._schema = _schema_completer(lambda: self.source, is_hmp, lambda: self.hmp_names.commands)

    def completer(self) -> Completer:
        """For the input line: computed off the UI thread, switched with the mode."""
        return ThreadedCompleter(DynamicCompleter(self._current))

    def _current(self) -> Completer | None:
        if self._is_hmp():
            return HmpCompleter(self.hmp_names)
        return self._schema

    def refresh(
        self, shell: Shell, client: QmpSession, names: HmpNames, *, on_ready: Callable[[], None]
    ) -> None:
        """After (re)connecting: new HMP names and live values for this server."""
        if names.commands:
            self.hmp_names = names
        self.close()
        self.source = source_for(shell.knowledge, client.execute, on_ready=on_ready)

    def close(self) -> None:
        if self.source is not None and self.source.live is not None:
            self.source.live.close()
        self.source = None


def _schema_completer(
    source: Callable[[], CompletionSource | None],
    is_hmp: Callable[[], bool],
    hmp_commands: Callable[[], Iterable[str]],
) -> Completer:
    return ShellCompleter(source, hmp=is_hmp, hmp_commands=hmp_commands)
