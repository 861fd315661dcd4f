"""A small scripted QMP server, for faults a real QEMU will not produce.

It listens on a UNIX socket, accepts one client, and plays a script: a list of
steps, each either bytes to send (``Send``), a command to wait for and answer
(``Answer``), or the end of the conversation (``Close``, ``Hang``).  An
``Answer`` reads the client's next command and calls its ``reply`` function
with that command, so a reply can echo the client's id, or not.  What the
client sent is kept in ``received`` for the test to inspect.  After the last
step the server goes on reading, answering only ``query-qmp-schema`` (as
``CommandNotFound``, like qemu-ga, so qmpshell runs without a schema, unless a
``schema`` is given).  ``query-commands`` (which qmpshell asks for the schema
cache's key and before HMP) is answered the same way at any point, from
``commands`` when given.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Message = dict[str, Any]

GREETING: Message = {
    "QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "fake"}, "capabilities": []}
}


def line(message: Any) -> bytes:
    """One message as QEMU writes it: compact JSON and CRLF."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\r\n"


def echo_id(reply: Message) -> Callable[[Message], bytes]:
    """A reply function: ``reply`` with the command's id added."""

    def answer(command: Message) -> bytes:
        return line({**reply, "id": command["id"]} if "id" in command else reply)

    return answer


NO_SCHEMA = echo_id({"error": {"class": "CommandNotFound", "desc": "no query-qmp-schema here"}})
NO_COMMANDS = echo_id({"error": {"class": "CommandNotFound", "desc": "no query-commands here"}})


@dataclass
class Send:
    """Write these bytes, in chunks of ``chunk`` bytes (0: all at once)."""

    data: bytes
    chunk: int = 0


@dataclass
class Answer:
    """Read one command; write what ``reply(command)`` returns (in ``chunk``-byte writes)."""

    reply: Callable[[Message], bytes] = field(default_factory=lambda: echo_id({"return": {}}))
    chunk: int = 0


@dataclass
class Close:
    """Close the connection."""


@dataclass
class Hang:
    """Keep the connection open, reading nothing more, until the test ends."""


Step = Send | Answer | Close | Hang


def handshake() -> list[Step]:
    """The greeting and the answer to qmp_capabilities."""
    return [Send(line(GREETING)), Answer()]


class FakeServer:
    """Serves one client on ``path`` with ``steps``; use as a context manager."""

    def __init__(
        self,
        path: Path,
        steps: Iterable[Step],
        *,
        schema: list[Message] | None = None,
        commands: list[str] | None = None,
    ) -> None:
        self.path = str(path)
        self.steps = list(steps)
        self.schema = schema  # the answer to query-qmp-schema (None: CommandNotFound, like qemu-ga)
        self.commands = commands  # the names query-commands lists (None: CommandNotFound)
        self.received: list[Message] = []
        self.error: BaseException | None = None
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(1)
        self._stop = threading.Event()
        self._conn: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, name="fake-qmp", daemon=True)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes an accept() still waiting: no client came
        except OSError:
            pass
        self._listener.close()
        if self._conn is not None:
            try:
                self._conn.shutdown(socket.SHUT_RDWR)  # wakes a reader waiting for the client
            except OSError:
                pass
        self._thread.join(timeout=10)

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        self._conn = conn
        with conn:
            try:
                self._play(conn, _CommandReader(conn))
            except (OSError, ValueError) as err:
                self.error = err

    def _play(self, conn: socket.socket, reader: _CommandReader) -> None:
        for step in self.steps:
            if isinstance(step, Send):
                _send(conn, step)
            elif isinstance(step, Answer):
                command = self._read_command(conn, reader)
                if command is None:
                    return
                _send(conn, Send(step.reply(command), step.chunk))
            elif isinstance(step, Close):
                conn.shutdown(socket.SHUT_RDWR)
                return
            else:
                self._stop.wait(60)
                return
        while self._read_command(conn, reader) is not None:
            pass  # the script is over: answer only query-qmp-schema, until the client goes

    def _read_command(self, conn: socket.socket, reader: _CommandReader) -> Message | None:
        """The next command of the script; ``query-qmp-schema`` and ``query-commands`` are answered here."""
        while (command := reader.next()) is not None:
            self.received.append(command)
            if command.get("execute") == "query-qmp-schema":
                answer = NO_SCHEMA if self.schema is None else echo_id({"return": self.schema})
            elif command.get("execute") == "query-commands":  # asked for the schema cache's key
                names = [{"name": name} for name in self.commands or ()]
                answer = NO_COMMANDS if self.commands is None else echo_id({"return": names})
            else:
                return command
            conn.sendall(answer(command))
        return None


class _CommandReader:
    """JSON objects from the client, which (like QEMU's parser) need no newline between them."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._buffer = ""
        self._decoder = json.JSONDecoder()

    def next(self) -> Message | None:
        while True:
            text = self._buffer.lstrip()
            if text:
                try:
                    value, end = self._decoder.raw_decode(text)
                except json.JSONDecodeError:
                    pass
                else:
                    self._buffer = text[end:]
                    return value  # type: ignore[no-any-return]
            data = self._conn.recv(65536)
            if not data:
                return None
            self._buffer += data.decode()


def _send(conn: socket.socket, step: Send) -> None:
    if not step.chunk:
        conn.sendall(step.data)
        return
    for start in range(0, len(step.data), step.chunk):
        conn.sendall(step.data[start : start + step.chunk])


def _commands(conn: socket.socket, stop: threading.Event) -> Iterable[Message]:
    """The JSON commands a client writes on ``conn``, as they come (until it closes or ``stop``)."""
    decoder, pending = json.JSONDecoder(), ""
    while not stop.is_set():
        try:
            data = conn.recv(65536)
        except OSError:
            return
        if not data:
            return
        pending += data.decode()
        while pending.strip():
            try:
                command, end = decoder.raw_decode(pending.lstrip())
            except json.JSONDecodeError:
                break
            pending = pending.lstrip()[end:]
            yield command


class AnsweringServer:
    """A QMP server that answers every command as ``answer`` says, for tests a script of steps would
    make rigid (floods, bursts, hostile values).  Subclasses set their own attributes before calling
    ``__init__``: it starts serving at once.  ``on_command`` may do more than answer (start a burst)."""

    def __init__(self, path: str) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.received: list[Message] = []
        self.stop = threading.Event()
        self._write_lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def write(self, conn: socket.socket, data: bytes) -> None:
        with self._write_lock:
            conn.sendall(data)

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            self.write(conn, line(GREETING))
            for command in _commands(conn, self.stop):
                self.received.append(command)
                self.on_command(conn, command)

    def on_command(self, conn: socket.socket, command: Message) -> None:
        self.write(conn, line({**self.answer(command), "id": command.get("id")}))

    def answer(self, command: Message) -> Message:
        """The reply (without its id): ``{"return": {}}`` unless a subclass says otherwise."""
        return {"return": {}}
