"""Reading recorded QMP traffic: which commands a client sent, the reply to each, the events around them.

Four kinds of record are read, told apart by their content:

- qmpshell's ``-l`` log: a JSON object a line, ``{"time", "direction", "message"}``;
  the shell's own traffic is not the user's and is left out: ``qmp_capabilities``,
  the schema query, and every record carrying a ``source`` (``qmpshell.protocol.logfile``);
- libvirt's debug log: ``QEMU_MONITOR_SEND_MSG ... msg={...}``, ``QEMU_MONITOR_RECV_REPLY
  ... reply={...}`` and ``QEMU_MONITOR_RECV_EVENT ... event={...}`` lines;
- ``-> {...}`` and ``<- {...}`` as QEMU's documentation writes them (a message may span lines);
- any other text holding QMP messages as JSON objects at the start of lines: qmp-shell's
  ``-l`` log (the command and its reply merged into one object, indented with ``-p``), an
  iotests ``.out`` file; lines that are not JSON are passed over.

``qmp_capabilities`` is never a command to replay: the replaying client negotiates for itself.
A log that cannot be read raises ``LogError`` with the line and why (exit status 2).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator

from qmpshell.errors import UsageError
from qmpshell.language import strictjson
from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Message: TypeAlias = "dict[str, Any]"
OWN_COMMANDS = frozenset({"qmp_capabilities"})  # negotiation is the replaying client's own
SHELL_QUERIES = frozenset({"query-qmp-schema"})  # what qmpshell asks for itself (unmarked in older logs)
_LIBVIRT = re.compile(r"QEMU_MONITOR_(SEND_MSG|RECV_REPLY|RECV_EVENT): mon=(\S+).*?\b(msg|reply|event)=")
_ARROW = re.compile(r"^[ \t]*(->|<-)[ \t]*", re.M)
_JSON_START = re.compile(r"^[ \t]*\{", re.M)


class LogError(UsageError):
    """The log cannot be read: where and why."""


class Exchange(NamedTuple):
    """One command of the log: the line it is on, the message, the recorded reply, the events after it."""

    lineno: int
    command: Message
    reply: Message | None
    events: list[Message]
    client: str = ""  # whose command, in a --proxy log


class Record(NamedTuple):
    """One message of a log: a command, a reply or an event, on ``lineno``; ``stream`` keeps ids apart."""

    lineno: int
    message: Message
    sent: bool  # from the client to the server
    stream: str = ""
    skip: bool = False  # traffic of the recording tool's own


def read_log(path: str) -> list[Exchange]:
    """The client's commands in ``path``, in order, each with its recorded reply and events."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as err:
        raise LogError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        lineno = data.count(b"\n", 0, err.start) + 1
        raise LogError(f"{path}:{lineno}: invalid UTF-8") from None
    try:
        kind, found = records(text)
        return exchanges(found, shell_log=kind == "qmpshell")
    except _BadLine as bad:
        raise LogError(f"{path}:{bad.lineno}: {bad.why}") from None


class _BadLine(Exception):
    def __init__(self, lineno: int, why: str) -> None:
        super().__init__(why)
        self.lineno, self.why = lineno, why


def records(text: str) -> tuple[str, list[Record]]:
    """What kind of log ``text`` is, and every message in it."""
    first = text.lstrip().split("\n", 1)[0]
    if "QEMU_MONITOR_" in text:
        return "libvirt", list(_libvirt_records(text))
    if _ARROW.search(text):
        return "arrows", list(_arrow_records(text))
    if first.startswith("{") and '"direction"' in first:
        return "qmpshell", list(_qmpshell_records(text))
    return "json", list(_json_records(text))


def _decode_at(text: str, pos: int) -> tuple[Any, int]:
    """The JSON value starting at ``pos`` and where it ends; ``_BadLine`` when there is none."""
    try:
        return strictjson.DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as err:
        where = min(err.pos, len(text.rstrip()))  # cut short at the end: the line it stops on
        raise _BadLine(text.count("\n", 0, where) + 1, f"invalid JSON: {err.msg}") from None
    except (ValueError, RecursionError) as err:
        why = strictjson.reason(err) if isinstance(err, ValueError) else "nested too deeply"
        raise _BadLine(text.count("\n", 0, pos) + 1, f"invalid JSON: {why}") from None


def _object_at(text: str, pos: int) -> tuple[Message, int]:
    value, end = _decode_at(text, pos)
    if not isinstance(value, dict):
        raise _BadLine(text.count("\n", 0, pos) + 1, "a QMP message must be a JSON object")
    return value, end


def _qmpshell_records(text: str) -> Iterator[Record]:
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = strictjson.loads(line)
        except (ValueError, RecursionError) as err:
            why = strictjson.reason(err) if isinstance(err, ValueError) else "nested too deeply"
            raise _BadLine(lineno, f"invalid JSON: {why}") from None
        if not isinstance(record, dict) or not isinstance(record.get("message"), dict):
            raise _BadLine(lineno, "expected a qmpshell log record with a message")
        direction = record.get("direction")
        if direction not in ("sent", "received"):
            continue  # a note of the shell's own (connected, reconnected)
        stream = f"{record.get('target', '')}/{record.get('client', '')}"
        yield Record(lineno, record["message"], direction == "sent", stream, "source" in record)


class _Lines:
    """Line numbers of positions met in order, counted once (a log may hold a million lines)."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.number = text, 0, 1

    def at(self, pos: int) -> int:
        self.number += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.number


def _libvirt_records(text: str) -> Iterator[Record]:
    lines = _Lines(text)
    for match in _LIBVIRT.finditer(text):
        message, _ = _object_at(text, match.end())
        yield Record(lines.at(match.start()), message, match.group(1) == "SEND_MSG", match.group(2))


def _arrow_records(text: str) -> Iterator[Record]:
    lines = _Lines(text)
    for match in _ARROW.finditer(text):
        message, _ = _object_at(text, match.end())
        yield Record(lines.at(match.start()), message, match.group(1) == "->")


def _json_records(text: str) -> Iterator[Record]:
    """JSON objects at the start of lines; each may hold a command and its reply (qmp-shell's log)."""
    pos, lines = 0, _Lines(text)
    while (match := _JSON_START.search(text, pos)) is not None:
        start = match.end() - 1
        message, pos = _object_at(text, start)
        lineno = lines.at(start)
        if _is_command(message):
            command = {k: v for k, v in message.items() if k not in ("return", "error")}
            yield Record(lineno, command, True)
            if "return" in message or "error" in message:
                reply = {k: v for k, v in message.items() if k in ("return", "error", "id")}
                yield Record(lineno, reply, False)
        else:
            yield Record(lineno, message, False)


def _is_command(message: Message) -> bool:
    return "execute" in message or "exec-oob" in message


def command_name(message: Message) -> str:
    return str(message.get("execute") or message.get("exec-oob") or "")


def exchanges(found: list[Record], *, shell_log: bool = False) -> list[Exchange]:
    """Pair every command with its reply (by id, else the oldest waiting) and the events after it."""
    result: list[Exchange] = []
    waiting: dict[str, list[int]] = defaultdict(list)  # stream+id -> indexes in result, oldest first
    skipped: set[str] = set()  # stream+id of own commands whose reply is skipped too
    for record in found:
        message = record.message
        if record.sent and _is_command(message):
            key = _reply_key(record.stream, message)
            name = command_name(message)
            if record.skip or name in OWN_COMMANDS or (shell_log and name in SHELL_QUERIES):
                skipped.add(key)
                continue
            waiting[key].append(len(result))
            result.append(Exchange(record.lineno, message, None, [], record.stream.split("/")[-1]))
        elif record.sent:
            continue  # not a command (a client's garbage): nothing to replay
        elif "event" in message:
            if result:
                result[-1].events.append(message)
        elif "return" in message or "error" in message:
            _pair(result, waiting, skipped, record)
    return result


def _reply_key(stream: str, message: Message) -> str:
    return f"{stream}\0{json.dumps(message.get('id'), sort_keys=True)}"


def _pair(result: list[Exchange], waiting: dict[str, list[int]], skipped: set[str], record: Record) -> None:
    key = _reply_key(record.stream, record.message)
    if key in skipped:
        skipped.discard(key)
        return
    queue = waiting.get(key)
    if not queue and "id" not in record.message:  # no id: the oldest command still waiting
        queue = next((q for k, q in waiting.items() if k.startswith(record.stream + "\0") and q), None)
    if queue:
        index = queue.pop(0)
        result[index] = result[index]._replace(reply=record.message)
