"""The table of shell commands: every ``/command`` declared once.

Dispatch (``Shell``, the front-ends' handlers), ``/help``, completion, the man
page and the dry run all read ``COMMANDS``; adding a ``/command`` is one entry
here plus its handler.  An entry says where the command means something
(``where``) and who carries it out: the ``Shell`` itself (``run``), or, for a
command that acts on a screen or a script's output (``/events``, ``/find``,
``/format``), the front-end, which gets it as a ``FrontEndCommand``; each
front-end keeps a handler per name, and a test checks that the names agree.
This is pgcli's ``pgspecial.register(handler, name, syntax, help, aliases)``.
(A NamedTuple, not a dataclass: a one-shot imports this, and dataclasses costs
``inspect``.)
"""

from __future__ import annotations

from qmpshell.records import NamedTuple

BATCH, SCREEN, LINE, DRY_RUN = "batch", "full screen", "line mode", "dry run"
EVERYWHERE = frozenset({BATCH, SCREEN, LINE, DRY_RUN})
INTERACTIVE = frozenset({SCREEN, LINE})
USAGE_COLUMN = 20  # /help aligns each command's summary here


class ShellCommand(NamedTuple):
    """One ``/command``: how it is written, what it does, where it applies, who runs it."""

    name: str
    usage: str
    summary: str
    shell_handler: str = ""  # the Shell method that runs it; "" for a front-end's command
    aliases: tuple[str, ...] = ()
    where: frozenset[str] = EVERYWHERE
    details: str = ""  # more for ``/help NAME``

    @property
    def by_front_end(self) -> bool:
        """Acts on the screen or the output: the front-end carries it out."""
        return not self.shell_handler

    def help_line(self) -> str:
        """``/usage`` and the summary, aligned at ``USAGE_COLUMN`` (two spaces after a long usage)."""
        return self.usage + " " * max(2, USAGE_COLUMN - len(self.usage)) + self.summary


COMMANDS: tuple[ShellCommand, ...] = (
    ShellCommand(
        "help",
        "/help [NAME [TAG=VALUE...]]",
        "this text, or what a command or event takes",
        shell_handler="help_command",
    ),
    ShellCommand(
        "example",
        "/example COMMAND [N]",
        "example N of COMMAND from QEMU's documentation, as a line to edit",
        shell_handler="example_command",
    ),
    ShellCommand(
        "hmp", "/hmp [LINE]", "run one HMP command line, or switch to HMP mode", shell_handler="hmp_command"
    ),
    ShellCommand("qmp", "/qmp", "switch back to QMP mode", shell_handler="qmp_command"),
    ShellCommand(
        "wait",
        "/wait EVENT [FIELD=VALUE...] [timeout=SECONDS] [since=start|last|HH:MM:SS[.mmm]]",
        "wait for an event (one that came since the previous command was sent counts)",
        shell_handler="wait_command",
        details=(
            "Which events count: those that came after the previous command was sent (even before /wait "
            "was typed), except one an earlier /wait took. since=start: every event of the session; "
            "since=last: those after the previous /wait ended; since=HH:MM:SS[.mmm]: those QEMU stamped "
            "at or after that local time (as the events pane shows it). On a timeout the message says "
            "when a matching event came before the window. Interactively (full screen and line mode) the "
            "wait runs beside the shell: commands typed meanwhile run, its result prints when it ends, and "
            "Ctrl-C stops it, keeping what is typed."
        ),
    ),
    ShellCommand(
        "job",
        "/job [--complete] COMMAND ARGS...",
        "start a job, follow it to its end, dismiss it; fail if it failed",
        shell_handler="job_command",
        details=(
            "Runs a job-starting command (blockdev-create, block-commit, blockdev-mirror, blockdev-backup, "
            "block-stream, snapshot-save...) and follows the job named by its job-id (or device) on one "
            "line until it ends. A job that becomes ready is completed with --complete, else left ready. "
            "A concluded job is dismissed; one that concluded with an error fails with QEMU's error text "
            "(exit status 1 in a script)."
        ),
    ),
    ShellCommand(
        "events",
        "/events [on|off|clear|show [N]|list [N] [PATTERN]|filter PATTERN...]",
        "the events pane; list prints the last N events in full",
        where=INTERACTIVE,
    ),
    ShellCommand(
        "find", "/find [TEXT]", "search the output pane (no TEXT: stop searching)", where=INTERACTIVE
    ),
    ShellCommand(
        "save",
        "/save [reply|script] FILE",
        "write the output pane, the last reply or the session as a script",
        where=INTERACTIVE,
    ),
    ShellCommand(
        "json",
        "/json",
        "the last reply again, as indented JSON (or end a line in | json)",
        shell_handler="json_command",
    ),
    ShellCommand(
        "format",
        "/format [auto|json|compact]",
        "replies as tables and text, indented or one-line JSON",
        where=frozenset({BATCH, SCREEN, LINE}),
    ),
    ShellCommand(
        "migrate",
        "/migrate SRC DST [URI]",
        "migrate SRC to DST and check both ends (several targets)",
        where=frozenset({BATCH, SCREEN, LINE}),
    ),
    ShellCommand("use", "/use NAME", "send lines without @NAME to that target", where=INTERACTIVE),
    ShellCommand(
        "targets", "/targets", "each target: kind, version, run state, connection", where=INTERACTIVE
    ),
    ShellCommand(
        "guest-exec",
        "/guest-exec PROGRAM [ARG...]",
        "run a program through the guest agent, show its output",
        shell_handler="guest_exec_command",
    ),
    ShellCommand(
        "schema",
        "/schema [reload]",
        "where the schema came from (server or cache file, key); reload it",
        shell_handler="schema_command",
    ),
    ShellCommand("clear", "/clear", "clear the output pane (also Ctrl-L)", where=INTERACTIVE),
    ShellCommand("reconnect", "/reconnect", "try to reconnect now", where=INTERACTIVE),
    ShellCommand("relaunch", "/relaunch", "start the --launch QEMU again after it exited", where=INTERACTIVE),
    ShellCommand(
        "quit", "/quit", "leave (also /exit, Ctrl-D)", shell_handler="quit_command", aliases=("exit", "q")
    ),
)

_BY_NAME = {name: command for command in COMMANDS for name in (command.name, *command.aliases)}


def lookup(name: str) -> ShellCommand | None:
    """The command ``/name`` (an alias finds its command), or None."""
    return _BY_NAME.get(name)


def names(*, aliases: bool = False) -> list[str]:
    """Every command's name, in the table's order (and their aliases, for completion)."""
    if not aliases:
        return [command.name for command in COMMANDS]
    return [name for command in COMMANDS for name in (command.name, *command.aliases) if name != "q"]


def front_end_names(where: str) -> set[str]:
    """The commands a front-end of kind ``where`` must carry out itself."""
    return {command.name for command in COMMANDS if command.by_front_end and where in command.where}
