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

from qmpshell import guestnotes
from qmpshell.errors import CommandTimeout, ConnectionLost, UsageError
from qmpshell.language.parse import parse_statement
from qmpshell.language.requests import HmpRequest, QmpRequest, Request, ShellRequest, hmp_line_of, message_for
from qmpshell.notices import Warnings
from qmpshell.outcomes import (
    FrontEndCommand,
    HmpOutput,
    Info,
    Outcome,
    Reply,
)
from qmpshell.protocol import events as event_log
from qmpshell.protocol import traffic
from qmpshell.protocol.client import body_of
from qmpshell.protocol.events import EventLog
from qmpshell.protocol.pending import OWN, PendingReply, QmpError
from qmpshell.protocol.session import QmpSession
from qmpshell.qmptypes import Message
from qmpshell.records import NamedTuple, Protocol
from qmpshell.shellcommands import ShellCommands
from qmpshell.shellhmp import HmpLines

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.hmp.session import HmpSide
    from qmpshell.language.untyped import ArgumentTyper

FORMATS = ("auto", "json", "compact")  # /format and output.format: views, indented JSON, one-line JSON
HELP_WIDTH = 76


class Prepared(NamedTuple):
    """A request whose one message is ready to send (``Shell.prepare``)."""

    request: Request
    message: Message
    body: bytes | None  # the message encoded but for the id it gets when sent (``client.body_of``)
    no_reply: bool  # a guest agent command answered with nothing (guest-shutdown)


class Started(NamedTuple):
    """A request whose one message is sent; ``Shell.finish`` waits for the reply."""

    request: Request
    pending: PendingReply
    warning: str = ""  # deprecated or unstable: said when it finishes
    no_reply: bool = False  # a guest agent command answered with nothing (guest-shutdown)
    sent_at: int = 0  # the number of the next event when it was sent (its /wait window's start)


def _hmp_outcome(sent: Message, response: Message) -> Outcome:
    if "error" in response:
        return Reply(sent, response)
    value = response.get("return", "")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)  # not a repr
    from qmpshell.language.hmp import looks_like_error  # HMP's lines: loaded by the first

    return HmpOutput(text, looks_like_error(text), sent)


class Knowledge(Protocol):
    """What the schema index offers the shell (see ``qmpshell.schema.index``)."""

    def typer_for(self, ask: Callable[[str, Message], Any]) -> ArgumentTyper: ...

    def unknown_event(self, name: str) -> str: ...

    def help(self, name: str, narrow: Mapping[str, str] | None = None, width: int = 76) -> str | None: ...

    def hint_for_error(self, command: str, response: Message) -> str: ...

    def warning_for(self, command: str) -> str: ...


class Shell(HmpLines, ShellCommands):
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
        hmp_via: str = "auto",
    ) -> None:
        self.client = client
        self.hmp_via = hmp_via  # auto | qmp | passthrough (qmpshell.hmp.engine)
        self._hmp_side: HmpSide | None = None
        self.on_send = on_send
        self.events = events
        self.knowledge = knowledge
        self.hmp = hmp
        self.timeout = timeout
        self.cpu_index: int | None = None
        self.help_width = HELP_WIDTH  # /help wraps here; the full screen sets its pane's width
        self.warnings = Warnings()  # this session's one channel: every front-end drains it
        self.last_reply: Reply | None = None  # for /json
        self.schema_cache = True  # /schema reload writes the cache (off with --no-schema-cache)
        self.load_schema: Callable[[], None] | None = None  # the full screen's, for /schema before it did
        self.qapi_dir: str | None = None  # --qapi-dir: QEMU's doc comments instead of its manual
        self.docs_cache = True
        self._warned: set[str] = set()  # deprecations said this session
        self._docs: Any = None  # qmpshell.docs.commands.ShellDocs, made by the first /help NAME
        self._pending: PendingReply | None = None
        self._cancel_lock = threading.Lock()
        self._cancelled = False
        self.doing = ""  # what a long /wait or /job awaits, for a status bar
        self.on_progress: Callable[[str], None] | None = None  # a /job's progress line, as it changes
        self._wait_ended = 0  # the event number where the previous /wait ended (since=last)
        self.unplugs = guestnotes.Unplugs()  # device_del asked, DEVICE_DELETED not yet come
        self.probe = True  # may ask QEMU on its own account (a device's property types); --quiet-monitor

    def parse(self, text: str) -> Request | None:
        """The request a statement makes; ParseError/UsageError and nothing sent if bad.

        Where the schema leaves a type open (``device_add`` properties), QEMU is
        asked: so parse, like ``run``, may wait for the server and be cancelled.
        """
        typer = self.knowledge.typer_for(self._ask) if self.knowledge is not None else None
        request = parse_statement(text, hmp=self.hmp, typer=typer)
        line = hmp_line_of(request)
        if line and self.hmp_via != "passthrough":
            self._hmp().check(line, self.hmp_via)  # refused before anything is sent
        return request

    def run(self, request: Request) -> Outcome:
        """Carry out one request and describe what happened."""
        started = self.start(request)
        if started is not None:
            return self.finish(started)
        reads, self.client.caller_reads = self.client.caller_reads, False  # /wait needs the reader thread
        try:
            if isinstance(request, HmpRequest):
                return self._run_hmp(request.command_line)
            assert isinstance(request, ShellRequest)  # message_for sends every QmpRequest
            return self._run_shell(request)
        finally:
            self.client.caller_reads = reads

    def start(self, request: Request, *, announce: bool = True) -> Started | None:
        """Send the one message ``request`` makes, without waiting for the reply; ``finish`` waits.

        None, and nothing sent, for a request that is more than one message
        (see ``message_for``): ``run`` it.  Pipelining starts several before
        finishing the first; it says each ``-v`` line itself (``announce=False``).
        """
        prepared = self.prepare(request)
        return None if prepared is None else self.send(prepared, announce=announce)

    def prepare(self, request: Request) -> Prepared | None:
        """What ``start`` works out before it sends, which nothing sent changes: batch mode does it
        while the command before runs (the message, encoded but for its id).  None: ``run`` it."""
        if self.hmp_via != "passthrough" and hmp_line_of(request):
            return None  # run translates it (qmpshell.hmp) or passes it through
        message = message_for(request, cpu_index=self.cpu_index)
        if message is None:
            return None
        no_reply = isinstance(request, QmpRequest) and self._sends_no_reply(request.command)
        return Prepared(request, message, body_of(message), no_reply)

    def send(self, prepared: Prepared, *, announce: bool = True) -> Started:
        """``start`` a prepared request."""
        request, message = prepared.request, prepared.message
        warning = self._deprecations(request) if isinstance(request, QmpRequest) else ""
        self.client.catch_up()  # events that came before the command are older than the mark
        sent_at = self.events.mark(str(message.get("execute") or message.get("exec-oob") or "command"))
        pending = self.client.send(message, body=prepared.body)
        if announce and self.on_send is not None:
            self.on_send(pending.sent)
        if prepared.no_reply:
            self.client.abandon(pending)  # were a reply to come after all, it is dropped by its id
        return Started(request, pending, warning, prepared.no_reply, sent_at)

    def _deprecations(self, request: QmpRequest) -> str:
        """A deprecated (or unstable) command or argument is warned about once a session."""
        if self.knowledge is None:
            return ""
        found = [self.knowledge.warning_for(request.command)]
        index = getattr(self.knowledge, "index", None) if request.message.get("arguments") else None
        if index is not None:
            from qmpshell.schema.deprecation import deprecated_members

            found += deprecated_members(index, request.command, request.message["arguments"])
        fresh = [text for text in found if text and text not in self._warned]
        self._warned.update(fresh)
        return "; ".join(fresh)

    def finish(self, started: Started, *, answered: Callable[[Message], None] | None = None) -> Outcome:
        """Wait for a started request's reply and describe it, as ``run`` would.

        ``answered(response)`` is called as soon as the reply is in, before it is
        described: batch mode sends its next command then (``pipeline.Pipeline.send``).
        """
        if started.warning:
            self.warnings.warn(started.warning)
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
        if answered is not None:
            answered(response)
        if not isinstance(request, QmpRequest):  # an HMP line
            return _hmp_outcome(sent, response)
        hint = ""
        if "error" in response and self.knowledge is not None:
            hint = self.knowledge.hint_for_error(request.command, response)
        arguments = request.message.get("arguments") or {}
        hint = hint or guestnotes.note_for(request.command, arguments, response)
        self.unplugs.asked(request.command, arguments, response, started.sent_at)  # a later one may be sent
        self.last_reply = Reply(sent, response, hint)
        return self.last_reply._replace(as_json=True) if request.as_json else self.last_reply

    def begin(self) -> None:
        """A statement starts (called before it is handed to a worker): ``cancel`` now stops it."""
        with self._cancel_lock:
            self._cancelled = False
        self.events.clear_interrupt()

    @property
    def cancelled(self) -> bool:
        """Ctrl-C since the statement began: a helper that polls (``/migrate``) stops waiting."""
        with self._cancel_lock:
            return self._cancelled

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
        """A question while typing a statement (a device's properties): not shown, not a /wait mark.

        With ``--quiet-monitor`` it is not asked: the typer then guesses, as in a dry run.
        """
        if not self.probe:
            quiet = f"{command} is not sent (--quiet-monitor)"
            raise QmpError({"error": {"class": "GenericError", "desc": quiet}})
        with traffic.own(traffic.TYPING):
            asked = self.client.send({"execute": command, "arguments": arguments}, source=OWN)
        response = self._await(asked, command)
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
            self._note_late_replies()

    def _note_late_replies(self) -> None:
        """Replies dropped since the last command (their command timed out): said as warnings,
        which batch mode writes to stderr and the screen to the output pane."""
        late: list[str] = getattr(self.client, "late", [])  # libvirt's transport has none
        while late:
            self.warnings.warn(late.pop(0))

    # -- HMP (the rest: qmpshell.shellhmp) ------------------------------------------------

    def _run_hmp(self, command_line: str) -> Outcome:
        """An HMP line ``start`` does not send: ``cpu N``, which the shell keeps."""
        from qmpshell.language.hmp import hmp_message, parse_cpu_command

        cpu = parse_cpu_command(command_line)
        if cpu is not None:
            return self._select_cpu(cpu)
        word, _, rest = command_line.strip().partition(" ")
        if word in ("help", "?") and self.hmp_via != "passthrough":
            return Info(self._hmp_help(rest.strip()))
        if self.hmp_via == "passthrough":  # message_for sends every other line
            raise UsageError(f"not an HMP line the shell runs itself: {command_line}")
        result = self._hmp().run(command_line, self.hmp_via, self.cpu_index)
        if result is None:
            pending = self.client.send(hmp_message(command_line, cpu_index=self.cpu_index))
            if self.on_send is not None:
                self.on_send(pending.sent)
            return self.finish(Started(HmpRequest(command_line), pending))
        return HmpOutput(result.text, result.error, result.sent, result.ok)

    # -- shell commands --------------------------------------------------------------

    def _run_shell(self, request: ShellRequest) -> Outcome:
        """A ``/command``: the table (``qmpshell.commands``, loaded by the first) says who carries it out."""
        from qmpshell import commands

        command = commands.lookup(request.name)
        if command is None:
            raise UsageError(f"unknown shell command '/{request.name}' (try /help)")
        if command.by_front_end:
            if request.name == "format" and (len(request.words) > 1 or set(request.words) - set(FORMATS)):
                raise UsageError("usage: /format [auto|json|compact]")
            return FrontEndCommand(request)
        handler: Callable[[ShellRequest], Outcome] = getattr(self, command.shell_handler)
        return handler(request)

    def pending_unplugs(self) -> set[str]:
        """Ids of devices whose unplug the guest has not finished (completion marks them)."""
        return self.unplugs.pending(lambda first: event_log.events_from(self.events, max(first, 0)))

    def progress(self, text: str) -> None:
        self.doing = text
        if self.on_progress is not None:
            self.on_progress(text)
