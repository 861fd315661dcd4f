"""One client of the proxy: QMP as a server speaks it, with each command passed on to the one upstream.

The proxy answers the client's ``qmp_capabilities`` itself (the upstream
connection negotiated once, for everyone); before that, every other command
is refused, as a QMP server refuses it.  A command is sent upstream without
the client's id: the upstream client gives it one of its own, so ids of
different clients never clash, and the reply goes back with the client's id
restored.  Each reply is passed on as it comes (``PendingReply.then``): in-band
ones in order, an ``exec-oob`` one at once, overtaking a command still running.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable

from qmpshell.errors import QmpShellError
from qmpshell.language import strictjson
from qmpshell.protocol.pending import PendingReply
from qmpshell.protocol.session import QmpSession
from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from qmpshell.protocol.logfile import MessageLog

Message: TypeAlias = "dict[str, Any]"
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
NOT_A_COMMAND = "a QMP command is an object with 'execute' or 'exec-oob'"
OOB_NOT_ENABLED = "exec-oob needs the 'oob' capability (qmp_capabilities)"
SEND_TIMEOUT = 10  # seconds a client may leave its replies unread before it is disconnected
MAX_BUFFERED = 64 * 1024 * 1024  # a client's unfinished message larger than this ends its connection


class Traffic(NamedTuple):
    """What a client did, for the shell to show: ``arrow`` is ``→`` (it sent) or ``←`` (it was answered)."""

    client: str
    arrow: str
    message: Message


class Peer:
    """One connected client: reads its messages on a thread, answers or forwards each."""

    def __init__(
        self,
        sock: socket.socket,
        name: str,
        upstream: QmpSession,
        *,
        greeting: Message,
        log: MessageLog | None,
        watch: Callable[[Traffic], None] | None,
        gone: Callable[[Peer], None],
    ) -> None:
        self.sock, self.name, self.upstream = sock, name, upstream
        self.greeting = greeting
        self.log, self.watch, self.gone = log, watch, gone
        self.negotiated = False
        self.oob = False
        self._write_lock = threading.Lock()
        self._open = True

    def start(self) -> None:
        # Replies are written on the upstream's reader thread: a client that stops reading may hold
        # it this long before it is disconnected, never for good.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", SEND_TIMEOUT, 0))
        self.write(self.greeting)
        threading.Thread(target=self._read_loop, name=f"proxy-reader-{self.name}", daemon=True).start()

    # -- reading ----------------------------------------------------------------------

    def _read_loop(self) -> None:
        reader = _MessageReader()
        try:
            while data := self.sock.recv(65536):
                for message in reader.feed(data):
                    self.handle(message)
        except (OSError, ValueError):
            pass  # the client went away, or sent more than a message may hold
        finally:
            self.close()

    def handle(self, message: Any) -> None:
        """One message from the client: answered here, or sent upstream."""
        if isinstance(message, _Garbage):
            self.write(_error("GenericError", f"JSON parse error: {message.why}"))
            return
        if self.log is not None and isinstance(message, dict):
            self.log.sent(message)
        name = message.get("execute", message.get("exec-oob")) if isinstance(message, dict) else None
        if not isinstance(name, str):
            self.write(_error("GenericError", NOT_A_COMMAND, message))
        elif name == "qmp_capabilities":
            self._negotiate(message)
        elif not self.negotiated:
            self.write(_error("CommandNotFound", "negotiate first: send qmp_capabilities", message))
        elif "exec-oob" in message and not self.oob:
            self.write(_error("GenericError", OOB_NOT_ENABLED, message))
        else:
            self._forward(message)

    def _negotiate(self, message: Message) -> None:
        if self.negotiated:
            self.write(_error("CommandNotFound", "capabilities are already negotiated", message))
            return
        arguments = message.get("arguments") or {}
        enable = arguments.get("enable", []) if isinstance(arguments, dict) else None
        offered = self.greeting["QMP"]["capabilities"]
        if not isinstance(enable, list) or any(item not in offered for item in enable):
            self.write(_error("GenericError", f"capabilities offered: {offered or 'none'}", message))
            return
        self.negotiated, self.oob = True, "oob" in enable
        self.write(_with_id({"return": {}}, message))

    def _forward(self, message: Message) -> None:
        command = {k: v for k, v in message.items() if k != "id"}
        try:
            pending = self.upstream.send(command)
        except QmpShellError as err:
            self.write(_error("GenericError", f"upstream: {err}", message))
            return
        if self.watch is not None:
            self.watch(Traffic(self.name, "→", message))  # as the client sent it, its id too
        pending.then(lambda done: self._reply(done, message))

    # -- replies and events --------------------------------------------------------------

    def _reply(self, pending: PendingReply, message: Message) -> None:
        """On the upstream reader thread, as the reply comes: in-band replies keep their order, and an
        ``exec-oob`` reply is passed on as soon as QEMU sends it."""
        try:
            response = pending.wait(0)
        except QmpShellError:
            return  # the client or the upstream went away: nobody to answer
        response = _with_id(dict(response), message)
        if self.watch is not None:
            self.watch(Traffic(self.name, "←", response))
        self.write(response)

    def deliver(self, event: Message) -> None:
        """An upstream event: every client that has negotiated gets it."""
        if self.negotiated:
            self.write(event)

    def write(self, message: Message) -> None:
        data = (_ENCODER.encode(message) + "\r\n").encode("utf-8", "backslashreplace")
        with self._write_lock:
            if not self._open:
                return
            if self.log is not None:
                self.log.received(message)
            try:
                self.sock.sendall(data)
                return
            except OSError:
                self._open = False
        self._shut()  # a client that does not read its replies (or is gone) is let go

    def close(self) -> None:
        """End this client's connection (it left, or the upstream did); the others are not touched."""
        with self._write_lock:
            self._open = False
        self._shut()

    def _shut(self) -> None:
        if self.sock.fileno() < 0:
            return
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.gone(self)


def _with_id(response: Message, message: Message) -> Message:
    if "id" in message:
        response["id"] = message["id"]
    return response


def _error(error_class: str, desc: str, message: Any = None) -> Message:
    response: Message = {"error": {"class": error_class, "desc": desc}}
    return _with_id(response, message) if isinstance(message, dict) else response


class _Garbage(NamedTuple):
    why: str


class _MessageReader:
    """JSON values from a byte stream: QMP clients need not end a message with a newline."""

    def __init__(self) -> None:
        self._text = ""
        self._bytes = b""

    def feed(self, data: bytes) -> list[Any]:
        self._bytes += data
        try:
            self._text += self._bytes.decode("utf-8")
            self._bytes = b""
        except UnicodeDecodeError as err:
            if err.start < len(self._bytes) - 3:
                self._bytes = b""
                return [_Garbage("invalid UTF-8")]
            self._text += self._bytes[: err.start].decode("utf-8")
            self._bytes = self._bytes[err.start :]
        if len(self._text) > MAX_BUFFERED:
            raise ValueError("message too large")
        return self._messages()

    def _messages(self) -> list[Any]:
        found: list[Any] = []
        text, pos = self._text, 0
        while True:
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            if pos >= len(text):
                break
            try:
                value, pos = strictjson.DECODER.raw_decode(text, pos)
            except json.JSONDecodeError as err:
                if err.pos >= len(text.rstrip()) or err.msg.startswith("Unterminated string"):
                    break  # not all of it has come yet
                found.append(_Garbage(err.msg))
                newline = text.find("\n", err.pos)
                pos = len(text) if newline < 0 else newline + 1
                continue
            except (ValueError, RecursionError) as err:
                found.append(_Garbage(str(err) or "nested too deeply"))
                pos = len(text)
                continue
            found.append(value)
        self._text = text[pos:]
        return found
