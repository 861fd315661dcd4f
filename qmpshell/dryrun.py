"""``--dry-run``: every statement parsed and typed, its JSON printed, nothing sent.

It is how a script author turns shorthand into the JSON for a test file or a
bug report.  With a server's schema (read by the caller from the cache, or
fetched: the only thing that reaches the server) values are typed as a real
run types them; without one they are guessed, as with ``-N``.  QEMU is never
asked anything else, so ``device_add`` driver properties the schema does not
list are guessed too.  Lines that send nothing (``/wait``, ``/help``, the
``/hmp`` and ``/qmp`` switches, HMP ``cpu N``) print nothing; ``/quit`` ends
the script.  The first statement that does not parse ends the run (status 2).
"""

from __future__ import annotations

from collections.abc import Iterable

from qmpshell import commands
from qmpshell.batch import report
from qmpshell.errors import EXIT_OK, QmpShellError, UsageError
from qmpshell.language.hmp import parse_cpu_command
from qmpshell.language.parse import parse_statement
from qmpshell.language.prefix import split_target
from qmpshell.language.requests import HmpRequest, Request, ShellRequest, message_for
from qmpshell.language.statements import Statement, read_statements
from qmpshell.output.render import json_text
from qmpshell.printer import Printer
from qmpshell.protocol.pending import QmpError
from qmpshell.qmptypes import Message
from qmpshell.shell import Knowledge

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def dry_run(
    lines: Iterable[str],
    printer: Printer,
    *,
    knowledge: Knowledge | None,
    hmp: bool = False,
    one_per_line: bool = False,
    hmp_via: str = "passthrough",
) -> int:
    """Print the message of each statement, one JSON document a line; the exit status."""
    if one_per_line:
        statements: Iterable[Statement] = [Statement(n, text) for n, text in enumerate(lines, start=1)]
    else:
        statements = read_statements(lines, hmp=hmp)
    state = _State(knowledge, hmp, hmp_via)
    for statement in statements:
        try:
            request = state.parse(statement.text)
            if request is not None and not state.step(request, printer):
                break
        except QmpShellError as err:
            return report(printer, statement, err)
    return EXIT_OK


class _State:
    """What a real run would keep between statements: the mode and HMP's CPU."""

    def __init__(self, knowledge: Knowledge | None, hmp: bool, hmp_via: str) -> None:
        self.typer = knowledge.typer_for(_not_asked) if knowledge is not None else None
        self.hmp = hmp
        self.hmp_via = hmp_via
        self.cpu_index: int | None = None

    def parse(self, text: str) -> Request | None:
        """A line's request; an ``@NAME`` prefix (a target of a many-target script) is left out."""
        return parse_statement(split_target(text).text, hmp=self.hmp, typer=self.typer)

    def step(self, request: Request, printer: Printer) -> bool:
        """Print what ``request`` would send, or follow what it changes; False at ``/quit``."""
        line = request.command_line if isinstance(request, HmpRequest) else ""
        if isinstance(request, ShellRequest) and request.name == "hmp":
            line = request.rest
        if line and self.hmp_via != "passthrough" and parse_cpu_command(line) is None:
            from qmpshell.hmp.engine import dry_messages  # an HMP line translated as a real run would

            translated = dry_messages(line, typer=self.typer, cpu_index=self.cpu_index)
            if translated is not None:
                for sent in translated:
                    printer.write(json_text(sent))
                return True
            if self.hmp_via == "qmp":
                raise UsageError(f"HMP command '{line.split()[0]}' has no QMP translation qmpshell can show")
        message = message_for(request, cpu_index=self.cpu_index)
        if message is not None:
            printer.write(json_text(message))
        elif isinstance(request, ShellRequest):
            return self._shell_command(request)
        elif isinstance(request, HmpRequest):
            self._select_cpu(request.command_line)
        return True

    def _shell_command(self, request: ShellRequest) -> bool:
        if request.name in ("hmp", "qmp") and not request.rest:
            self.hmp = request.name == "hmp"
        elif request.name == "hmp":
            self._select_cpu(request.rest)
        command = commands.lookup(request.name)
        return command is None or command.name != "quit"

    def _select_cpu(self, command_line: str) -> None:
        cpu = parse_cpu_command(command_line)
        if isinstance(cpu, str):
            raise UsageError("cpu: expected a CPU index, e.g. 'cpu 0'")
        if cpu is not None:
            self.cpu_index = cpu


def _not_asked(command: str, arguments: Message) -> Any:
    """What the typer would ask QEMU (a device's properties) stays unknown: the value is guessed."""
    raise QmpError({"error": {"class": "GenericError", "desc": f"{command} is not sent in a dry run"}})
