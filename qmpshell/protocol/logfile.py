"""The ``--logfile``: every message sent and received, one JSON object per line.

Each line is ``{"time": ISO-8601, "direction": "sent"|"received", "message": {...}}``
(with ``"source"`` on what the shell sent for itself rather than the user, and on the reply to it:
``"completion"``, ``"schema"``, ``"typing"``, ``"status"``, ``"job"``, ``"connection"``, ``"cpu"``
as ``qmpshell.protocol.traffic`` names them, else ``"qmpshell"``),
secrets redacted (credentials in URLs too, in both directions), control
characters escaped (``tail -f`` shows ``\\u009b``, never obeys it), written with
one ``write`` system call per record so that a crash loses nothing.  The file
is appended to and created 0600 (its directory 0700 when qmpshell makes it),
opened as ``privatefile`` says.  A record that cannot be written (a full disk,
or a log that cannot be opened at all: a read-only disk, a directory in its
place) is counted, never fatal: ``close`` reports how many were lost.
``-l /dev/null`` writes nothing at all.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime

from qmpshell.language.redact import redact_message, redact_reply, redact_url_credentials, reveals_secret
from qmpshell.language.strictjson import escape_controls
from qmpshell.protocol import traffic
from qmpshell.protocol.privatefile import Warn, is_discard, open_append

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class MessageLog:
    """Thread-safe writer of the message log (``fd`` None: discard everything)."""

    def __init__(self, fd: int | None, path: str = "") -> None:
        self._fd = fd
        self.path = path
        self._lock = threading.Lock()
        self.lost = 0  # records that could not be written
        self.failure = ""  # why the first of them could not
        self._secret_ids: set[str] = set()
        self._sources: dict[str, str] = {}  # id (as JSON) of a message of the shell's own -> its source

    @classmethod
    def open(cls, path: str, *, warn: Warn = lambda text: None) -> MessageLog:
        """Open ``path`` for appending; ``Refused`` (exit 2) when it must not be (a link, another's file).

        A log that cannot be opened (a read-only or full disk, a directory in its place)
        stops nothing: every record counts as lost, and ``close`` says how many.
        """
        if is_discard(path):
            return cls(None, path)
        try:
            return cls(open_append(path, what="log file", warn=warn, devices=True), path)
        except OSError as err:
            log = cls(None, path)
            log.failure = err.strerror or str(err)
            return log

    def sent(self, message: dict[str, Any], *, source: str = "") -> None:
        """A message sent; ``source`` names what sent it when that was not the user (``--replay``
        leaves those out): ``qmpshell`` for the schema, completion and status queries."""
        if reveals_secret(message) and "id" in message:
            self._secret_replies().add(json.dumps(message["id"]))
        source = traffic.current() or source  # what the shell asked for, named (traffic.own)
        if source and "id" in message:
            with self._lock:
                self._sources[json.dumps(message["id"])] = source  # its reply gets the same source
        self._write("sent", redact_message(message), source=source)

    def received(self, message: dict[str, Any]) -> None:
        """A reply to a request whose answer is a secret (``qom-get`` of ``data``) is logged redacted."""
        waiting = self._secret_replies()
        if waiting and "id" in message and "event" not in message:
            key = json.dumps(message["id"])
            if key in waiting:
                waiting.discard(key)
                message = redact_reply(message)
        source = ""
        if "id" in message and "event" not in message and self._sources:
            with self._lock:
                source = self._sources.pop(json.dumps(message["id"]), "")
        self._write("received", message, source=source or traffic.current())  # libvirt: in its context

    def _secret_replies(self) -> set[str]:
        """Ids (as JSON) of sent requests whose reply is a secret (a target's log keeps its own)."""
        return self._secret_ids

    def note(self, text: str) -> None:
        """A line of the shell's own (connect, reconnect, disconnect)."""
        self._write("note", {"text": text})

    def for_target(self, target: str) -> MessageLog:
        """This log for one of many targets (``qmpshell.targets``): its records say which."""
        return _TargetLog(self, target)

    def for_client(self, client: str) -> MessageLog:
        """This log for one client of ``--proxy``: its records say ``"client"``."""
        return _TargetLog(self, client, key="client")

    def _write(
        self, direction: str, message: dict[str, Any], target: str = "", source: str = "", key: str = "target"
    ) -> None:
        if self._fd is None:
            if self.failure:  # never opened: each record is one lost
                with self._lock:
                    self.lost += 1
            return
        record = {"time": datetime.now().astimezone().isoformat(), "direction": direction, "message": message}
        if target:
            record = {"time": record["time"], key: target, **record}
        if source:
            record["source"] = source
        line = escape_controls(redact_url_credentials(json.dumps(record, ensure_ascii=False))) + "\n"
        data = line.encode("utf-8", "backslashreplace")  # a lone surrogate becomes its JSON escape
        with self._lock:
            if self._fd is None:  # closed meanwhile (the reader thread may log after close)
                return
            try:
                if os.write(self._fd, data) != len(data):
                    raise OSError(f"only part of a record was written ({len(data)} bytes)")
            except (OSError, ValueError) as err:  # a full disk must not take the session down
                self.lost += 1
                self.failure = self.failure or (getattr(err, "strerror", None) or str(err))

    def close(self) -> str:
        """Close the file; the warning to give when records were lost, else ''."""
        with self._lock:
            fd, self._fd = self._fd, None
            if fd is not None:
                os.close(fd)
        if not self.lost:
            return ""
        records = "record" if self.lost == 1 else "records"
        return f"{self.lost} {records} could not be written to the log file {self.path}: {self.failure}"


class _TargetLog(MessageLog):
    """One target's (or proxy client's) records in a shared log: each gets ``"target"`` (or ``key``);
    file, lock and count stay the base's."""

    def __init__(self, base: MessageLog, target: str, *, key: str = "target") -> None:  # no super().__init__
        self._base = base
        self.target = target
        self._secret_ids = set()
        self.key = key
        self.path = base.path
        self._lock, self._sources = base._lock, base._sources  # for sent/received's sources

    def _write(
        self, direction: str, message: dict[str, Any], target: str = "", source: str = "", key: str = "target"
    ) -> None:
        self._base._write(direction, message, target or self.target, source, self.key)

    def close(self) -> str:
        return ""  # the base closes the file
