"""HMP for the ``Shell``: its HMP side (lines translated to QMP), ``cpu N`` and HMP mode's ``/help``.

Mixed into ``qmpshell.shell.Shell`` (as ``ShellCommands`` is): the HMP side
(``qmpshell.hmp``, the command tables) is made on first use, so a QMP session
never loads it.  The state and the methods it uses are the shell's, declared
here for the type checker.
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.errors import CommandFailed, ConnectionLost, UsageError
from qmpshell.outcomes import Info, Outcome
from qmpshell.protocol import traffic
from qmpshell.protocol.pending import PendingReply
from qmpshell.protocol.session import QmpSession
from qmpshell.qmptypes import Message
from qmpshell.shellcommands import wrapped_lines

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.hmp.session import HmpSide


class HmpLines:
    """The HMP lines a shell carries out or translates; mixed into ``qmpshell.shell.Shell``."""

    client: QmpSession
    knowledge: Any
    hmp_via: str
    timeout: float | None
    cpu_index: int | None
    help_width: int
    probe: bool
    on_send: Callable[[Message], None] | None
    _hmp_side: HmpSide | None

    def _await(self, pending: PendingReply, name: str) -> Message:
        raise NotImplementedError

    def _ask(self, command: str, arguments: Message) -> Any:
        raise NotImplementedError

    def _hmp(self) -> HmpSide:
        """The HMP side, made on first use: a QMP one-shot never loads the HMP tables."""
        if self._hmp_side is None:
            from qmpshell.hmp.session import HmpSide

            typer = lambda: self.knowledge.typer_for(self._ask) if self.knowledge else None  # noqa: E731
            knowledge = lambda: self.knowledge  # noqa: E731
            self._hmp_side = HmpSide(lambda: self.client, self._exchange, typer, self.timeout, knowledge)
        return self._hmp_side

    def _exchange(self, command: str, arguments: Message) -> Message:
        """One QMP command of a translated HMP line: sent (shown by -v), its whole response returned."""
        pending = self.client.send({"execute": command, **({"arguments": arguments} if arguments else {})})
        if self.on_send is not None:
            self.on_send(pending.sent)
        try:
            return self._await(pending, command)
        except ConnectionLost:
            if command == "quit" and self.client.shutdown_reason is not None:
                return {"return": {}}  # QEMU went before its reply: that is what quit asked
            raise

    def _hmp_help(self, name: str) -> str:
        """HMP mode's /help: what this server runs and how; for a NAME its usage and the QMP help."""
        from qmpshell import commands

        lines = ["Shell commands:", *("  " + command.help_line() for command in commands.COMMANDS)]

        def qmp_help(command: str) -> str | None:
            return self.knowledge.help(command, None, self.help_width) if self.knowledge else None

        return self._hmp().help(name, shell=wrapped_lines(lines, self.help_width), qmp_help=qmp_help)

    def _select_cpu(self, cpu: int | str) -> Outcome:
        """HMP ``cpu N`` is kept by the shell: each HMP command is sent with that cpu-index."""
        if isinstance(cpu, str):
            raise UsageError("cpu: expected a CPU index, e.g. 'cpu 0'")
        if self.probe:  # --quiet-monitor: not checked; QEMU refuses a command for a CPU it lacks
            self._check_cpu(cpu)
        self.cpu_index = cpu
        return Info(f"HMP commands now run on CPU {cpu}")

    def _check_cpu(self, cpu: int) -> None:
        with traffic.own(traffic.CPU):
            cpus = self.client.execute("query-cpus-fast", timeout=self.timeout) or []
        indexes = sorted(int(c.get("cpu-index", -1)) for c in cpus)
        if cpu not in indexes:
            have = ", ".join(map(str, indexes)) if indexes else "none (e.g. -M none)"
            raise CommandFailed(f"cpu {cpu}: no such CPU; this machine's CPUs: {have}")
