"""Test support: a real QEMU on UNIX sockets in a temporary directory, and a tiny raw QMP peer.

The peer is deliberately independent of qmpshell's own client, so tests that
trigger events or check what QEMU holds do not trust the code under test.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The two QEMU generations scripts/setup provides: Debian's own, and backports' unpacked in .venv.
SYSTEM_QEMU = "/usr/bin/qemu-system-x86_64"
BACKPORTS_QEMU = str(ROOT / ".venv" / "qemu-backports" / "bin" / "qemu-system-x86_64")
# Names another qemu-system-x86_64 to test against (tests/conftest.py puts it first on $PATH).
QEMU_BINARY_ENV = "QMPSHELL_TEST_QEMU"
QEMU_ARGV = ["qemu-system-x86_64", "-M", "none", "-nodefaults", "-display", "none"]


@functools.cache
def qemu_version() -> tuple[int, int, int]:
    """The version of the ``qemu-system-x86_64`` the suite runs against (first on ``$PATH``)."""
    text = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout
    found = re.search(r"version (\d+)\.(\d+)\.(\d+)", text)
    assert found, f"cannot read QEMU's version from {text!r}"
    major, minor, micro = (int(part) for part in found.groups())
    return major, minor, micro


def qemu_banner() -> str:
    """How the status bar names that QEMU, up to the minor version (``QEMU 7.2``)."""
    major, minor, _ = qemu_version()
    return f"QEMU {major}.{minor}"


def status_return(status: str, *, running: bool) -> dict[str, Any]:
    """What ``query-status`` returns, in QEMU's member order; ``singlestep`` went in QEMU 10.0."""
    legacy = {"singlestep": False} if qemu_version() < (10, 0, 0) else {}
    return {"status": status, **legacy, "running": running}


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (from every thread: QEMU follows the thread that spawned it)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    """Running or stopped: not gone, and not a zombie waiting to be reaped (that has ended too)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_until(predicate: Any, *, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


def listening(path: str) -> bool:
    """True once QEMU listens on ``path`` (the file appears at ``bind()``, a moment before
    ``listen()``).  Read from Linux's table of UNIX sockets, without connecting: a probe would sit
    in QEMU's one-place accept queue and make the next client's connection look busy."""
    wanted = os.fsencode(path)
    with open("/proc/net/unix", "rb") as table:
        for row in table.read().splitlines()[1:]:
            fields = row.split(None, 7)
            if len(fields) == 8 and fields[7] == wanted and int(fields[3], 16) & 0x10000:
                return True
    return False


class RawPeer:
    """A minimal blocking QMP client over a UNIX socket, for the tests' side of things."""

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.file = self.sock.makefile("rb")
        self.events: list[dict[str, Any]] = []
        self.greeting = self._read()
        self.execute("qmp_capabilities")

    def _read(self) -> dict[str, Any]:
        line = self.file.readline()
        if not line:
            raise ConnectionError("QEMU closed the connection")
        return json.loads(line)  # type: ignore[no-any-return]

    def request(self, command: str, **arguments: Any) -> dict[str, Any]:
        message: dict[str, Any] = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self.sock.sendall(json.dumps(message).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            return reply

    def execute(self, command: str, **arguments: Any) -> Any:
        reply = self.request(command, **arguments)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["return"]

    def close(self) -> None:
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


class Qemu:
    """A running ``qemu-system-x86_64 -M none`` with two QMP monitors.

    ``socket`` is for the code under test; ``aux_socket`` is a second monitor the
    test uses to cause events (``stop``/``cont``) or inspect state.
    """

    def __init__(self, directory: Path, *extra: str) -> None:
        self.directory = directory
        self.socket = str(directory / "qmp.sock")
        self.aux_socket = str(directory / "aux.sock")
        argv = [
            *QEMU_ARGV,
            *extra,
            "-qmp",
            f"unix:{self.socket},server=on,wait=off",
            "-qmp",
            f"unix:{self.aux_socket},server=on,wait=off",
        ]
        self.stderr_path = directory / "qemu.stderr"
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=stderr)
        wait_until(self._ready, what="QEMU's QMP sockets")
        self._aux: RawPeer | None = None

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"QEMU exited: {self.stderr_path.read_text()}")
        return listening(self.socket) and listening(self.aux_socket)

    @property
    def aux(self) -> RawPeer:
        """A connection on the second monitor (opened on first use)."""
        if self._aux is None:
            self._aux = RawPeer(self.aux_socket)
        return self._aux

    def kill(self, sig: int = 9) -> None:
        """Send ``sig``; after SIGSTOP, return only once QEMU is really stopped (kill(2) only queues it)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            if sig == signal.SIGSTOP:
                wait_until(self._stopped, what="QEMU stopped by SIGSTOP")

    def _stopped(self) -> bool:
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        return stat[stat.rindex(")") + 2] == "T"  # the state field follows the command name

    def stop(self) -> None:
        if self._aux is not None:
            self._aux.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def qmpshell_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "qmpshell", *args]


def run_qmpshell(
    *args: str, input: str | bytes | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run qmpshell to completion with stdin as given (a pipe, so batch mode)."""
    data = input.encode() if isinstance(input, str) else input
    result = subprocess.run(
        qmpshell_argv(*args),
        input=data if data is not None else b"",
        capture_output=True,
        timeout=timeout,
        env=env,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


class Driven:
    """qmpshell in batch mode driven line by line through a pipe, as another program would."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            qmpshell_argv(*args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # A thread reads stdout, so that waiting for a line can have a deadline.
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_lines, daemon=True).start()

    def _read_lines(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put("")

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text)
        self.process.stdin.flush()

    def reply(self, *, timeout: float = 30) -> Any:
        """The next JSON line on stdout; fails the test if none comes within ``timeout`` seconds."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line on stdout within {timeout} s") from None
        assert line, "stdout closed before the line came"
        return json.loads(line)

    def finish(self, *, timeout: float = 30) -> tuple[int, str]:
        """Close stdin, wait for the exit; returns (status, stderr)."""
        assert self.process.stdin is not None and self.process.stderr is not None
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        status = self.process.wait(timeout=timeout)
        return status, self.process.stderr.read()

    def __enter__(self) -> Driven:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def log_records(path: Path, *, still_written: bool = False) -> list[dict[str, Any]]:
    """The records of a ``--logfile`` (none before it exists).

    A shell that is still running may be half-way through writing a long record
    (a schema reply is written in several pieces): ``still_written`` leaves a last
    line without its newline out, where a finished log must parse whole.
    """
    if not path.exists():
        return []
    lines = path.read_text().split("\n")
    complete = lines[:-1] if still_written else lines
    return [json.loads(line) for line in complete if line]


def sent_messages(path: Path, command: str | None = None) -> list[dict[str, Any]]:
    """What the log says was sent (only ``command``, if given), read while the shell may still write."""
    sent = [r["message"] for r in log_records(path, still_written=True) if r["direction"] == "sent"]
    return [m for m in sent if command is None or m.get("execute") == command]
