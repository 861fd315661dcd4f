"""The command-line modes of this package: ``--history-script``, ``--to-script`` and ``--replay``.

``--replay`` sends a log's commands one at a time, each as recorded (its id
aside: the client gives its own), waits for the reply and compares it with
the recorded one (``qmpshell.replay.compare``).  Each command gets one line,
``LINE: COMMAND: ok``, or a summary and the indented diff; with ``--events``
the events that came between one command and the next are compared too, as a
set.  Exit status 0 when everything matched, 1 when anything differed, 2 when
the log cannot be read, 3 when the connection ends.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

from qmpshell.config import Settings
from qmpshell.errors import EXIT_FAILED, EXIT_OK, CommandTimeout, ConnectionLost, UsageError
from qmpshell.language.script import history_entries, history_script
from qmpshell.language.untyped import ArgumentTyper
from qmpshell.output.safe import visible
from qmpshell.protocol.address import Address
from qmpshell.protocol.pending import QmpError
from qmpshell.protocol.session import QmpSession, make_client
from qmpshell.records import NamedTuple
from qmpshell.replay.compare import Ignored, diff_lines, event_set, same, summary
from qmpshell.replay.logs import Exchange, command_name, read_log
from qmpshell.replay.toscript import raw_json, script_statement

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from qmpshell.protocol.logfile import MessageLog

Message: TypeAlias = "dict[str, Any]"
Write: TypeAlias = "Callable[[str], Any]"
EVENT_GRACE = 1.0  # seconds an event recorded after a command may take to come when replayed


def print_history_script(history_file: str | None, last: int, write: Write) -> int:
    """``--history-script [N]``: the last N statements of the history (0: all) as a script."""
    if history_file is None:
        raise UsageError("--history-script: there is no history file (--no-history)")
    try:
        fd = os.open(history_file, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return EXIT_OK  # nothing typed yet: an empty script
    except OSError as err:
        raise UsageError(f"cannot read the history file {history_file}: {err.strerror or err}") from None
    with os.fdopen(fd, "rb") as file:
        data = file.read()
    write(history_script(history_entries(data), last or None))
    return EXIT_OK


def print_script(path: str, write: Write, *, typer: ArgumentTyper | None = None) -> int:
    """``--to-script LOG`` (and ``--replay LOG -n``): the log's commands as a script, one statement each.

    A command that failed when recorded is written as JSON: it may not be typed
    as any schema types it (QEMU refused it), and a reproducer must send it as it was.
    """
    for exchange in read_log(path):
        failed = exchange.reply is not None and "error" in exchange.reply
        command = {k: v for k, v in exchange.command.items() if k != "id"}
        write((raw_json(command) if failed else script_statement(command, typer=typer)) + "\n")
    return EXIT_OK


def not_asked(command: str, arguments: Message) -> Any:
    """Converting sends nothing: what the typer would ask QEMU (a device's properties) stays unknown."""
    raise QmpError({"error": {"class": "GenericError", "desc": f"{command} is not sent while converting"}})


class ReplayOptions(NamedTuple):
    ignore: list[str]  # --ignore KEY...
    events: bool  # --events: compare them too


def replay(
    exchanges: list[Exchange],
    address: Address,
    settings: Settings,
    log: MessageLog | None,
    options: ReplayOptions,
) -> int:
    """``--replay``: connect, send every command of the log, compare; the exit status."""
    write = _stdout_writer()
    ignored = Ignored(options.ignore)
    replayer = Replayer(write, ignored=ignored, events=options.events, timeout=settings.timeout)
    client = make_client(
        address,
        on_event=replayer.on_event,
        log=log,
        negotiate=settings.negotiate,
        connect_timeout=settings.connect_timeout,
        oob=any("exec-oob" in exchange.command for exchange in exchanges),
    )
    client.connect()
    try:
        return replayer.run(client, exchanges)
    finally:
        client.close()


def _stdout_writer() -> Write:
    """Lines on stdout: flushed one by one for a person watching, at the end for a pipe or file."""
    if not sys.stdout.isatty():
        return sys.stdout.write

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    return write


class Replayer:
    """Sends each command of a log and compares what comes back with what was recorded."""

    def __init__(self, write: Write, *, ignored: Ignored, events: bool, timeout: float | None) -> None:
        self.write, self.ignored = write, ignored
        self.compare_events, self.timeout = events, timeout
        self.received: list[Message] = []  # events since the command in flight was sent
        self._arrived = threading.Condition()
        self.matched = self.differed = 0

    def on_event(self, event: Message) -> None:
        """The client's event sink (its reader thread)."""
        with self._arrived:
            self.received.append(event)
            self._arrived.notify_all()

    def run(self, client: QmpSession, exchanges: list[Exchange]) -> int:
        for exchange in exchanges:
            self.one(client, exchange)
        total = self.matched + self.differed
        self.write(f"{total} commands replayed: {self.matched} matched, {self.differed} differed\n")
        return EXIT_FAILED if self.differed else EXIT_OK

    def one(self, client: QmpSession, exchange: Exchange) -> None:
        with self._arrived:
            self.received = []
        command = {k: v for k, v in exchange.command.items() if k != "id"}
        where = f"{exchange.lineno}: {visible(command_name(command))}"
        try:
            reply = self._exchange(client, command)
        except CommandTimeout as err:
            self.differed += 1
            self.write(f"{where}: {err}\n")
            return
        except ConnectionLost as err:
            raise type(err)(f"{where}: {err}") from None  # exit status 3, naming the command
        problems = self._reply_problems(exchange.reply, reply)
        if self.compare_events:
            problems += self._event_problems(exchange.events)
        if problems:
            self.differed += 1
            self.write(f"{where}: {problems[0]}\n" + "".join(line + "\n" for line in problems[1:]))
        else:
            self.matched += 1
            self.write(f"{where}: ok\n")

    def _exchange(self, client: QmpSession, command: Message) -> Message:
        pending = client.send(command)  # the user's command: logged without a source
        try:
            return pending.wait(self.timeout)
        except BaseException:
            client.abandon(pending)
            raise

    def _reply_problems(self, recorded: Message | None, got: Message) -> list[str]:
        got = self.ignored.clean(got)
        if recorded is None:
            return ["no reply recorded; replayed:", *diff_lines({}, got)]
        recorded = self.ignored.clean(recorded)
        if same(recorded, got):
            return []
        return [summary(recorded, got), *diff_lines(recorded, got)]

    def _event_problems(self, recorded: list[Message]) -> list[str]:
        deadline = time.monotonic() + EVENT_GRACE
        with self._arrived:
            while len(self.received) < len(recorded) and (left := deadline - time.monotonic()) > 0:
                self._arrived.wait(left)
            received = list(self.received)
        want, got = event_set(recorded, self.ignored), event_set(received, self.ignored)
        if same(want, got):
            return []
        names = " ".join(str(event.get("event")) for event in got) or "none"
        return [f"the events differ (replayed: {visible(names)})", *diff_lines(want, got)]
