"""One statement in, one outcome out: the shell's behaviour without any I/O of its own.

Both front-ends drive a ``Shell``: parse a statement (nothing is sent if that
fails), run the request through the client, and render the ``Outcome`` their
own way.  Failures are exceptions from ``qmpshell.errors``; a QMP error reply
is an outcome (``Reply`` with ``ok`` false) because scripts print it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol

from qmpshell.config import seconds
from qmpshell.errors import CommandFailed, CommandTimeout, ConnectionLost, UsageError
from qmpshell.language.hmp import hmp_message, looks_like_error, parse_cpu_command
from qmpshell.language.parse import (
    ArgTree,
    ArgumentTyper,
    HmpRequest,
    QmpRequest,
    Request,
    ShellRequest,
    Value,
    guess_value,
    parse_statement,
)
from qmpshell.protocol.client import Cancelled, PendingReply, QmpError
from qmpshell.protocol.events import EventLog, WaitInterrupted, event_matcher
from qmpshell.protocol.session import QmpSession

Message = dict[str, Any]

FORMATS = ("auto", "json", "compact")  # /format and output.format: views, indented JSON, one-line JSON
SHELL_COMMANDS: dict[str, str] = {
    "help": "/help [NAME [TAG=VALUE...]]  this text, or what a command or event takes",
    "hmp": "/hmp [LINE]         run one HMP command line, or switch to HMP mode",
    "qmp": "/qmp                switch back to QMP mode",
    "wait": "/wait EVENT [FIELD=VALUE...] [timeout=SECONDS]  wait for an event",
    "events": "/events [on|off|clear|show [N]|filter PATTERN...]  the events pane",
    "find": "/find [TEXT]        search the output pane (no TEXT: stop searching)",
    "save": "/save [reply] FILE  write the output pane (or the last reply) to FILE",
    "json": "/json               the last reply again, as indented JSON (or end a line in | json)",
    "format": "/format [auto|json|compact]  replies as tables and text, indented or one-line JSON",
    "guest-exec": "/guest-exec PROGRAM [ARG...]  run a program through the guest agent, show its output",
    "schema": "/schema [reload]    where the schema came from (server or cache file, key); reload it",
    "clear": "/clear              clear the output pane (also Ctrl-L)",
    "reconnect": "/reconnect          try to reconnect now",
    "relaunch": "/relaunch           start the --launch QEMU again after it exited",
    "quit": "/quit               leave (also /exit, Ctrl-D)",
}
HELP_WIDTH = 76
FRONT_END_COMMANDS = ("events", "reconnect", "relaunch", "clear", "find", "save", "format")


class Reply(NamedTuple):
    """A QMP response to a command (``sent`` is the message as sent, id included)."""

    sent: Message
    response: Message
    hint: str = ""
    as_json: bool = False  # show as JSON whatever the format ("| json", /json)

    @property
    def ok(self) -> bool:
        return "error" not in self.response

    @property
    def command(self) -> str:
        """The command's name (views are chosen by it)."""
        return str(self.sent.get("execute") or self.sent.get("exec-oob") or "")


class HmpOutput(NamedTuple):
    """The text an HMP command printed; ``error`` when it is HMP's error text."""

    text: str
    error: bool
    sent: Message = {}


class EventSeen(NamedTuple):
    """The event a ``/wait`` was waiting for."""

    event: Message


class Info(NamedTuple):
    """Text for the user: help, notices."""

    text: str


class ProgramOutput(NamedTuple):
    """What ``/guest-exec`` ran printed, and how it ended (``exitcode`` None: killed by ``signal``)."""

    stdout: str
    stderr: str
    exitcode: int | None
    signal: int | None = None

    @property
    def ok(self) -> bool:
        return self.exitcode == 0

    @property
    def ending(self) -> str:
        """'' for exit code 0, else ``exit code 3`` or ``killed by signal 9``."""
        if self.exitcode is None:
            return f"killed by signal {self.signal}" if self.signal is not None else "ended, no exit code"
        return "" if self.exitcode == 0 else f"exit code {self.exitcode}"


class ModeChanged(NamedTuple):
    hmp: bool


class Exit(NamedTuple):
    pass


class FrontEndCommand(NamedTuple):
    """A shell command only the interactive front-end acts on (``/events``, ``/reconnect``)."""

    request: ShellRequest


Outcome = Reply | HmpOutput | EventSeen | Info | ProgramOutput | ModeChanged | Exit | FrontEndCommand


class Started(NamedTuple):
    """A request whose one message is sent; ``Shell.finish`` waits for the reply."""

    request: Request
    pending: PendingReply
    warning: str = ""  # deprecated or unstable: said when it finishes
    no_reply: bool = False  # a guest agent command answered with nothing (guest-shutdown)


def message_for(request: Request, *, cpu_index: int | None = None) -> Message | None:
    """The one message ``Shell.run`` sends for ``request`` when that is all it does, else None.

    None for what acts on the shell's own state or on more than one message
    (``/wait``, the ``/hmp`` and ``/qmp`` switches, HMP ``cpu N``, ``/help``...):
    pipelining finishes everything in flight before them, and a dry run prints
    nothing for them.
    """
    if isinstance(request, QmpRequest):
        return request.message
    if isinstance(request, HmpRequest):
        line = request.command_line
    else:
        line = request.rest if request.name == "hmp" else ""
    if not line or parse_cpu_command(line) is not None:
        return None
    return hmp_message(line, cpu_index=cpu_index)


def _hmp_outcome(sent: Message, response: Message) -> Outcome:
    if "error" in response:
        return Reply(sent, response)
    value = response.get("return", "")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)  # not a repr
    return HmpOutput(text, looks_like_error(text), sent)


class Knowledge(Protocol):
    """What the schema index offers the shell (see ``qmpshell.schema.index``)."""

    def typer_for(self, ask: Callable[[str, Message], Any]) -> ArgumentTyper: ...

    def unknown_event(self, name: str) -> str: ...

    def help(self, name: str, narrow: Mapping[str, str] | None = None, width: int = 76) -> str | None: ...

    def hint_for_error(self, command: str, response: Message) -> str: ...

    def warning_for(self, command: str) -> str: ...


class Shell:
    """Parses and runs statements against one client (swapped on reconnect)."""

    def __init__(
        self,
        client: QmpSession,
        events: EventLog,
        *,
        knowledge: Knowledge | None = None,
        hmp: bool = False,
        timeout: float | None = None,
        on_send: Callable[[Message], None] | None = None,
    ) -> None:
        self.client = client
        self.on_send = on_send
        self.events = events
        self.knowledge = knowledge
        self.hmp = hmp
        self.timeout = timeout
        self.cpu_index: int | None = None
        self.help_width = HELP_WIDTH  # /help wraps here; the full screen sets its pane's width
        self.warnings: list[str] = []
        self.last_reply: Reply | None = None  # for /json
        self.schema_cache = True  # /schema reload writes the cache (off with --no-schema-cache)
        self.load_schema: Callable[[], None] | None = None  # the full screen's, for /schema before it did
        self._pending: PendingReply | None = None
        self._cancel_lock = threading.Lock()
        self._cancelled = False

    def parse(self, text: str) -> Request | None:
        """The request a statement makes; ParseError/UsageError and nothing sent if bad.

        Where the schema leaves a type open (``device_add`` properties), QEMU is
        asked: so parse, like ``run``, may wait for the server and be cancelled.
        """
        typer = self.knowledge.typer_for(self._ask) if self.knowledge is not None else None
        return parse_statement(text, hmp=self.hmp, typer=typer)

    def run(self, request: Request) -> Outcome:
        """Carry out one request and describe what happened."""
        started = self.start(request)
        if started is not None:
            return self.finish(started)
        if isinstance(request, HmpRequest):
            return self._run_hmp(request.command_line)
        assert isinstance(request, ShellRequest)  # message_for sends every QmpRequest
        return self._run_shell(request)

    def start(self, request: Request, *, announce: bool = True) -> Started | None:
        """Send the one message ``request`` makes, without waiting for the reply; ``finish`` waits.

        None, and nothing sent, for a request that is more than one message
        (see ``message_for``): ``run`` it.  Pipelining starts several before
        finishing the first; it says each ``-v`` line itself (``announce=False``).
        """
        message = message_for(request, cpu_index=self.cpu_index)
        if message is None:
            return None
        if not isinstance(request, QmpRequest):
            self._check_hmp()
        warning = ""
        if isinstance(request, QmpRequest) and self.knowledge is not None:
            warning = self.knowledge.warning_for(request.command)
        self.events.mark()
        pending = self.client.send(message)
        if announce and self.on_send is not None:
            self.on_send(pending.sent)
        no_reply = isinstance(request, QmpRequest) and self._sends_no_reply(request.command)
        if no_reply:
            self.client.abandon(pending)  # were a reply to come after all, it is dropped by its id
        return Started(request, pending, warning, no_reply)

    def finish(self, started: Started) -> Outcome:
        """Wait for a started request's reply and describe it, as ``run`` would."""
        if started.warning:
            self.warnings.append(started.warning)
        request, sent = started.request, started.pending.sent
        if started.no_reply:
            return Info(f"{sent.get('execute')} sent; the guest agent answers it with no reply")
        try:
            response = self._await(started.pending, str(sent.get("execute", "command")))
        except ConnectionLost:
            if (
                isinstance(request, QmpRequest)
                and request.command == "quit"
                and self.client.shutdown_reason is not None
            ):
                return Reply({"execute": "quit"}, {"return": {}})
            raise
        if not isinstance(request, QmpRequest):  # an HMP line
            return _hmp_outcome(sent, response)
        hint = ""
        if "error" in response and self.knowledge is not None:
            hint = self.knowledge.hint_for_error(request.command, response)
        self.last_reply = Reply(sent, response, hint)
        return self.last_reply._replace(as_json=request.as_json)

    def begin(self) -> None:
        """A statement starts (called before it is handed to a worker): ``cancel`` now stops it."""
        with self._cancel_lock:
            self._cancelled = False
        self.events.clear_interrupt()

    def cancel(self) -> None:
        """Stop waiting (Ctrl-C): the pending reply is dropped when it comes.

        It also holds when it comes before the command is sent (Ctrl-C in the
        same key burst as Enter): the wait then ends as soon as it starts.
        """
        with self._cancel_lock:
            self._cancelled = True
            pending = self._pending
        if pending is not None:
            self.client.abandon(pending)
        self.events.interrupt("stopped waiting")

    # -- QMP -------------------------------------------------------------------------

    def _sends_no_reply(self, command: str) -> bool:
        """A guest agent answers some commands with nothing (guest-shutdown): not waited for."""
        if not getattr(self.client, "agent", False):
            return False
        from qmpshell.protocol.agent import sends_no_reply  # only for a guest agent

        return sends_no_reply(self.client, command)

    def _ask(self, command: str, arguments: Message) -> Any:
        """A question while typing a statement (a device's properties): not shown, not a /wait mark."""
        response = self._await(self.client.send({"execute": command, "arguments": arguments}), command)
        if "error" in response:
            raise QmpError(response)
        return response.get("return")

    def _await(self, pending: PendingReply, name: str) -> Message:
        """The reply, unless ``cancel`` stops the wait (even one called before it began)."""
        with self._cancel_lock:
            self._pending = pending
            cancelled = self._cancelled
        if cancelled:
            self.client.abandon(pending)
        try:
            return pending.wait(self.timeout)
        except CommandTimeout:
            self.client.abandon(pending)
            if getattr(self.client, "agent", False):
                from qmpshell.protocol.agent import resync_agent

                resync_agent(self.client, timeout=self.timeout or 5.0)
            raise CommandTimeout(f"no reply to {name} within {self.timeout:g} s") from None
        finally:
            with self._cancel_lock:
                self._pending = None

    # -- HMP -------------------------------------------------------------------------

    def _check_hmp(self) -> None:
        """Refuse HMP (exit status 2, nothing sent) on a server without ``human-monitor-command``."""
        from qmpshell.protocol.server import hmp_refusal_for

        if self.client.greeting is None and not getattr(self.client, "agent", False):
            return  # -N: nothing is asked of the server, and HMP is the user's to try
        why = hmp_refusal_for(self.client, timeout=self.timeout or 5.0)
        if why:
            raise UsageError(why)

    def _run_hmp(self, command_line: str) -> Outcome:
        """An HMP line ``start`` does not send: ``cpu N``, which the shell keeps."""
        cpu = parse_cpu_command(command_line)
        if cpu is None:  # message_for sends every other line
            raise UsageError(f"not an HMP line the shell runs itself: {command_line}")
        return self._select_cpu(cpu)

    def _select_cpu(self, cpu: int | str) -> Outcome:
        """HMP ``cpu N`` is kept by the shell: each HMP command is sent with that cpu-index."""
        if isinstance(cpu, str):
            raise UsageError("cpu: expected a CPU index, e.g. 'cpu 0'")
        cpus = self.client.execute("query-cpus-fast", timeout=self.timeout) or []
        indexes = sorted(int(c.get("cpu-index", -1)) for c in cpus)
        if cpu not in indexes:
            have = ", ".join(map(str, indexes)) if indexes else "none (e.g. -M none)"
            raise CommandFailed(f"cpu {cpu}: no such CPU; this machine's CPUs: {have}")
        self.cpu_index = cpu
        return Info(f"HMP commands now run on CPU {cpu}")

    # -- shell commands --------------------------------------------------------------

    def _run_shell(self, request: ShellRequest) -> Outcome:
        name = request.name
        if name == "hmp":
            self._check_hmp()
            return self._run_hmp(request.rest) if request.rest else ModeChanged(hmp=True)
        if name == "qmp":
            return ModeChanged(hmp=False)
        if name in ("quit", "exit", "q"):
            return Exit()
        if name == "help":
            return Info(self._help(request))
        if name == "wait":
            return self._wait(request)
        if name == "json":
            if self.last_reply is None:
                raise UsageError("/json: no reply yet")
            return self.last_reply._replace(as_json=True)
        if name == "format" and (len(request.words) > 1 or set(request.words) - set(FORMATS)):
            raise UsageError("usage: /format [auto|json|compact]")
        if name == "schema":
            return self._schema(request)
        if name == "guest-exec":
            return self._guest_exec(request)
        if name in FRONT_END_COMMANDS:
            return FrontEndCommand(request)
        raise UsageError(f"unknown shell command '/{name}' (try /help)")

    def _guest_exec(self, request: ShellRequest) -> Outcome:
        """``/guest-exec PROGRAM [ARG...]``: run it in the guest; its output, decoded."""
        from qmpshell.protocol.agent import guest_exec  # only for /guest-exec

        ran = guest_exec(self._ask, request.rest, timeout=self.timeout)
        return ProgramOutput(ran.stdout, ran.stderr, ran.exitcode, ran.signal)

    def _schema(self, request: ShellRequest) -> Outcome:
        """``/schema``: where the schema came from; ``/schema reload``: fetch it from the server again."""
        from qmpshell.schema import origin  # only for /schema

        timeout = self.timeout if self.timeout is not None else 30.0
        if self.knowledge is None and self.load_schema is not None:
            self.load_schema()  # typed before the interactive shell's worker got to it
        if request.words == ("reload",) and not request.options:
            use_cache, warn = self.schema_cache, self.warnings.append
            self.knowledge = origin.reload(self.client, use_cache=use_cache, timeout=timeout, warn=warn)
        elif request.words or request.options:
            raise UsageError(origin.USAGE)
        return Info(origin.describe(self.knowledge, self.client, timeout=timeout))

    def _help(self, request: ShellRequest) -> str:
        words = request.words
        if not words:
            server = f"server: QEMU {self.client.server_version}" if self.client.server_version else ""
            lines = ["Shell commands:", *("  " + text for text in SHELL_COMMANDS.values())]
            return _wrapped([*lines, server] if server else lines, self.help_width)
        if len(words) > 1:
            raise UsageError(f"usage: /help [COMMAND|EVENT [TAG=VALUE...]] (one name, got {len(words)})")
        if self.knowledge is None:
            return f"no schema is known for this server, so there is no help for {words[0]}"
        narrow = {path: value.text for path, value in _flatten(request.options)}
        text = self.knowledge.help(words[0], narrow, self.help_width)
        if text is None:
            raise UsageError(f"no command or event named '{words[0]}'")
        return text

    def _wait(self, request: ShellRequest) -> Outcome:
        if len(request.words) != 1:
            raise UsageError("usage: /wait EVENT [FIELD=VALUE ...] [timeout=SECONDS]")
        if self.knowledge is not None and (unknown := self.knowledge.unknown_event(request.words[0])):
            raise UsageError(unknown)
        options = dict(request.options)
        timeout = _timeout_option(options.pop("timeout", None), self.timeout)
        tests = {path: _value_test(value) for path, value in _flatten(options)}
        matcher = event_matcher(request.words[0], tests)
        self.client.listen_for_events()
        try:
            event = self.events.wait_for(matcher, timeout)
        except WaitInterrupted as stop:
            if self.client.lost is not None:
                raise self.client.lost from None
            raise Cancelled(str(stop)) from None
        if event is None:
            fields = " ".join(f"{path}={value.text}" for path, value in _flatten(options))
            what = f"{request.words[0]} with {fields}" if fields else f"{request.words[0]} event"
            raise CommandTimeout(f"no {what} within {timeout:g} s")
        return EventSeen(event)


def _wrapped(lines: list[str], width: int) -> str:
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


def _timeout_option(value: Value | ArgTree | None, default: float | None) -> float | None:
    if value is None:
        return default
    if not isinstance(value, Value):
        raise UsageError("timeout= needs a number of seconds")
    try:
        return seconds(value.text)
    except ValueError as err:
        raise UsageError(f"timeout=: {err}") from None


def _flatten(tree: ArgTree, prefix: str = "") -> list[tuple[str, Value]]:
    items: list[tuple[str, Value]] = []
    for key, value in tree.items():
        if isinstance(value, dict):
            items.extend(_flatten(value, f"{prefix}{key}."))
        else:
            items.append((f"{prefix}{key}", value))
    return items


def _value_test(value: Value) -> Any:
    """Match an event field against a value as typed: ``id=123`` matches 123 and "123"."""
    guessed = guess_value(value)
    text = value.text

    def test(actual: Any) -> bool:
        if actual == guessed and type(actual) is type(guessed):
            return True
        if isinstance(actual, str):
            return actual == text
        return json.dumps(actual) == text

    return test
