"""The shell commands the ``Shell`` carries out itself (``/help``, ``/hmp``, ``/wait``, ``/job``...).

Each is a method named by its row of the command table (``qmpshell.commands``:
``shell_handler``); ``Shell`` inherits them.  They read and change the shell's
state, declared here for the type checker; the methods they call on the shell
(asking QEMU, HMP lines) are the shell's own.
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.errors import UsageError
from qmpshell.language.requests import ShellRequest
from qmpshell.notices import Warnings
from qmpshell.outcomes import EventSeen, Exit, Info, ModeChanged, Outcome, ProgramOutput, Reply
from qmpshell.protocol import events as event_log
from qmpshell.protocol.events import EventLog
from qmpshell.protocol.session import QmpSession
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.hmp.session import HmpSide


class ShellCommands:
    """The ``/commands`` a shell runs itself; mixed into ``qmpshell.shell.Shell``."""

    client: QmpSession
    events: EventLog
    knowledge: Any
    hmp: bool
    hmp_via: str
    timeout: float | None
    help_width: int
    warnings: Warnings
    last_reply: Reply | None
    schema_cache: bool
    load_schema: Callable[[], None] | None
    qapi_dir: str | None
    docs_cache: bool
    doing: str
    _docs: Any
    _wait_ended: int

    def _run_hmp(self, command_line: str) -> Outcome:
        raise NotImplementedError

    def _hmp(self) -> HmpSide:
        raise NotImplementedError

    def _hmp_help(self, name: str) -> str:
        raise NotImplementedError

    def _ask(self, command: str, arguments: Message) -> Any:
        raise NotImplementedError

    def progress(self, text: str) -> None:
        raise NotImplementedError

    def hmp_command(self, request: ShellRequest) -> Outcome:
        """``/hmp LINE`` runs one HMP line; ``/hmp`` alone switches the shell to HMP mode."""
        if request.rest:
            return self._run_hmp(request.rest)
        self.hmp = True
        return ModeChanged(hmp=True, note=self._hmp().note(self.hmp_via))

    def qmp_command(self, request: ShellRequest) -> Outcome:
        self.hmp = False
        return ModeChanged(hmp=False)

    def quit_command(self, request: ShellRequest) -> Outcome:
        return Exit()

    def help_command(self, request: ShellRequest) -> Outcome:
        return Info(self._help(request))

    def json_command(self, request: ShellRequest) -> Outcome:
        if self.last_reply is None:
            raise UsageError("/json: no reply yet")
        return self.last_reply._replace(as_json=True)

    def example_command(self, request: ShellRequest) -> Outcome:
        """``/example COMMAND [N]``: the documentation's example as a line to edit (batch prints it)."""
        line = self.documentation().example(self, request)
        return Info(line, edit=line)

    def wait_command(self, request: ShellRequest) -> Outcome:
        """``/wait EVENT [FIELD=VALUE...] [timeout=SECONDS] [since=...]`` (``qmpshell.waiting``)."""
        from qmpshell import waiting  # only a /wait needs it (3 ms of every one-shot otherwise)

        unknown = self.knowledge.unknown_event if self.knowledge is not None else None
        try:
            return EventSeen(
                waiting.wait_for_event(
                    request,
                    self.client,
                    self.events,
                    unknown=unknown,
                    timeout=self.timeout,
                    last_wait_end=self._wait_ended,
                    doing=self._set_doing,
                )
            )
        finally:
            self.doing = ""
            self._wait_ended = event_log.position(self.events)

    def _set_doing(self, text: str) -> None:
        self.doing = text

    def job_command(self, request: ShellRequest) -> Outcome:
        """``/job [--complete] LINE``: start a job, follow it to its end, fail when it failed."""
        from qmpshell import jobs  # only a /job needs it

        typer = self.knowledge.typer_for(self._ask) if self.knowledge else None
        shell: Any = self  # the Shell this is mixed into (a jobs.JobShell)
        try:
            return jobs.run_job(shell, request.rest, typer)
        finally:
            self.progress("")  # the progress line goes

    def guest_exec_command(self, request: ShellRequest) -> Outcome:
        """``/guest-exec PROGRAM [ARG...]``: run it in the guest; its output, decoded."""
        from qmpshell.protocol.agent import guest_exec  # only for /guest-exec

        ran = guest_exec(self._ask, request.rest, timeout=self.timeout)
        return ProgramOutput(ran.stdout, ran.stderr, ran.exitcode, ran.signal)

    def schema_command(self, request: ShellRequest) -> Outcome:
        """``/schema``: where the schema came from; ``/schema reload``: fetch it from the server again."""
        from qmpshell.schema import origin  # only for /schema

        timeout = self.timeout if self.timeout is not None else 30.0
        if self.knowledge is None and self.load_schema is not None:
            self.load_schema()  # typed before the interactive shell's worker got to it
        if request.words == ("reload",) and not request.options:
            use_cache, warn = self.schema_cache, self.warnings.warn
            self.knowledge = origin.reload(self.client, use_cache=use_cache, timeout=timeout, warn=warn)
        elif request.words or request.options:
            raise UsageError(origin.USAGE)
        return Info(origin.describe(self.knowledge, self.client, timeout=timeout))

    def _help(self, request: ShellRequest) -> str:
        from qmpshell import commands  # the table: a script without /commands never loads it

        words = request.words
        if self.hmp and self.hmp_via != "passthrough" and (len(words) <= 1 or words[0] == "info"):
            return self._hmp_help(" ".join(words))
        if not words:
            server = f"server: QEMU {self.client.server_version}" if self.client.server_version else ""
            lines = ["Shell commands:", *("  " + command.help_line() for command in commands.COMMANDS)]
            return wrapped_lines([*lines, server] if server else lines, self.help_width)
        if len(words) > 1:
            raise UsageError(f"usage: /help [COMMAND|EVENT [TAG=VALUE...]] (one name, got {len(words)})")
        command = commands.lookup(words[0].removeprefix("/"))
        if command is not None and (words[0].startswith("/") or command.details):
            lines = [command.usage, "  " + command.summary]
            return wrapped_lines(lines + (["", command.details] if command.details else []), self.help_width)
        from qmpshell.language.untyped import flatten_tree  # the words' values: /help's narrowing

        narrow = {path: value.text for path, value in flatten_tree(request.options)}
        text: str | None = self.documentation().help(self, words[0], narrow)  # the schema's tree and the docs
        if text is None:
            raise UsageError(f"no command or event named '{words[0]}'")
        return text

    def documentation(self) -> Any:
        """QEMU's documentation, read on first use (``qmpshell.docs``: never at start-up)."""
        from qmpshell.docs.commands import ShellDocs

        if self._docs is None:
            self._docs = ShellDocs(qapi_dir=self.qapi_dir, use_cache=self.docs_cache, warn=self.warnings.warn)
        return self._docs


def wrapped_lines(lines: list[str], width: int) -> str:
    """Lines cut at word boundaries to ``width``, continued with a deeper indent."""
    import textwrap  # here: only /help wraps text (0.5 ms of every start otherwise)

    out: list[str] = []
    for line in lines:
        if len(line) <= width or width < 20:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        out.extend(textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False))
    return "\n".join(out)
