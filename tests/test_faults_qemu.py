"""Faults a real QEMU produces: killed, stopped, held by another client; and addresses that fail.

Batch mode reads stdin as it arrives, so a test can send a command, see its
reply, cause the fault, and send the next one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

from tests.inprocess import run_inprocess
from tests.qemu_support import Qemu, json_lines, log_records, qmpshell_argv, run_qmpshell, wait_until
from tests.test_faults_server import one_error_line

XDG = ("CACHE", "CONFIG", "STATE")


class Session:
    """qmpshell in batch mode on a pipe, its output collected as it comes."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            qmpshell_argv(*args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.out: list[str] = []
        self.err: list[str] = []
        for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=_collect, args=(stream, lines), daemon=True).start()

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()

    def finish(self, timeout: float = 20) -> int:
        """Close stdin and wait for the exit status."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        status = self.process.wait(timeout)
        wait_until(lambda: self._drained, what="qmpshell's output")
        return status

    @property
    def _drained(self) -> bool:
        return all(s is None or s.closed for s in (self.process.stdout, self.process.stderr))

    @property
    def stderr(self) -> str:
        return "".join(self.err)


def _collect(stream: IO[bytes], lines: list[str]) -> None:
    for raw in stream:
        lines.append(raw.decode("utf-8", "replace"))
    stream.close()


def logged(path: Path, direction: str = "received") -> list[dict[str, Any]]:
    records = log_records(path)
    return [r["message"] for r in records if r["direction"] == direction]


def replies_logged(path: Path, command: str) -> int:
    """How many replies to ``command`` the log holds (batch mode reads the schema only for lines
    with arguments, so none of these is its own).

    Batch mode without -k sends one command at a time, so a reply answers the last command sent.
    """
    count, last = 0, ""
    for record in log_records(path):
        message = record["message"]
        if record["direction"] == "sent":
            last = message["execute"]
        elif record["direction"] == "received" and "return" in message and last == command:
            count += 1
    return count


LOST = re.compile(r"closed the connection|connection lost: Connection reset by peer")


# -- QEMU killed ---------------------------------------------------------------------


def test_sigkill_while_idle(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    session = Session(qemu.socket, "--logfile", str(log))
    session.send("query-status\n")
    wait_until(lambda: session.out, what="the first reply")
    qemu.kill(signal.SIGKILL)
    qemu.process.wait(10)
    session.send("query-status\n")
    assert session.finish() == 3
    assert LOST.search(one_error_line(session.stderr, "2: "))
    assert [r["return"]["status"] for r in json_lines("".join(session.out))] == ["running"]
    assert replies_logged(log, "query-status") == 1


def test_sigkill_mid_command(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    session = Session(qemu.socket, "--logfile", str(log))
    session.send("query-status\n")
    wait_until(lambda: session.out, what="the first reply")
    qemu.kill(signal.SIGSTOP)
    session.send("query-status\n")
    wait_until(
        lambda: [m.get("execute") for m in logged(log, "sent")].count("query-status") == 2,
        what="the second command to be sent",
    )
    qemu.kill(signal.SIGKILL)
    assert session.finish() == 3
    assert LOST.search(one_error_line(session.stderr, "2: "))
    assert len(session.out) == 1
    assert replies_logged(log, "query-status") == 1


def test_sigkill_after_many_large_replies(qemu: Qemu, tmp_path: Path) -> None:
    """query-qmp-schema (about 190 KB) again and again, until QEMU dies; each reply fits in the
    socket buffer, so the kill usually falls between two replies (the next test cuts one)."""
    log = tmp_path / "qmp.log"
    session = Session(qemu.socket, "--logfile", str(log))
    session.send("query-qmp-schema\n" * 500)
    wait_until(lambda: len(session.out) >= 3, what="three schema replies")
    qemu.kill(signal.SIGKILL)
    assert session.finish() == 3
    line = one_error_line(session.stderr)
    assert LOST.search(line)
    assert all(json.loads(text)["return"][0]["name"] for text in session.out)
    # Every reply that arrived whole was printed, and nothing else was.
    assert len(session.out) == replies_logged(log, "query-qmp-schema") < 500
    assert line.startswith(f"qmpshell: {len(session.out) + 1}: ")


def test_sigkill_while_a_large_reply_streams(short_dir: Path, tmp_path: Path) -> None:
    """A monitor with pretty=on makes the schema reply larger than the socket buffer: with
    qmpshell stopped, QEMU writes until the buffer is full and is killed in mid-reply."""
    pretty = short_dir / "pretty.sock"
    chardev = f"socket,id=pretty,path={pretty},server=on,wait=off"
    qemu = Qemu(short_dir, "-chardev", chardev, "-mon", "chardev=pretty,mode=control,pretty=on")
    log = tmp_path / "qmp.log"
    session = Session(str(pretty), "--logfile", str(log))
    try:
        session.send("query-status\n")
        wait_until(lambda: session.out, what="the first reply")
        qemu.kill(signal.SIGSTOP)
        session.send("query-qmp-schema\n")
        wait_until(lambda: logged(log, "sent")[-1]["execute"] == "query-qmp-schema", what="the command")
        session.process.send_signal(signal.SIGSTOP)
        qemu.kill(signal.SIGCONT)
        wait_until(lambda: _queued_by(qemu.process.pid) > 100_000, what="QEMU to fill the socket")
        qemu.kill(signal.SIGKILL)
        session.process.send_signal(signal.SIGCONT)
        assert session.finish() == 3
    finally:
        session.process.send_signal(signal.SIGCONT)
        qemu.stop()
    one_error_line(session.stderr, "2: ", "in the middle of a message")
    assert [json.loads(text)["return"]["status"] for text in session.out] == ["running"]


def _queued_by(pid: int) -> int:
    """Bytes sent on ``pid``'s connected UNIX sockets and not yet read (``ss``'s Send-Q)."""
    table = subprocess.run(["ss", "-xpn"], capture_output=True, text=True, check=True).stdout
    rows = [row.split() for row in table.splitlines() if f"pid={pid}," in row and "ESTAB" in row]
    return max((int(row[3]) for row in rows), default=0)


def test_sigstop_mid_command_times_out(qemu: Qemu, tmp_path: Path) -> None:
    session = Session(qemu.socket, "--timeout", "1")
    session.send("query-status\n")
    wait_until(lambda: session.out, what="the first reply")
    qemu.kill(signal.SIGSTOP)
    try:
        started = time.monotonic()
        session.send("query-status\n")
        assert session.finish() == 1
        assert time.monotonic() - started < 5
    finally:
        qemu.kill(signal.SIGCONT)
    one_error_line(session.stderr, "2: no reply to query-status within 1 s")
    assert len(session.out) == 1
    assert qemu.aux.execute("query-status")["status"] == "running"  # QEMU itself is fine again


# -- connecting ------------------------------------------------------------------------


def test_socket_held_by_another_client(qemu: Qemu) -> None:
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    holder.connect(qemu.socket)
    try:
        holder.settimeout(10)
        assert b"QMP" in holder.recv(4096)  # the holder got the greeting
        started = time.monotonic()
        result = run_qmpshell(qemu.socket, "--connect-timeout", "1", "-c", "query-status")
        elapsed = time.monotonic() - started
    finally:
        holder.close()
    assert result.returncode == 3
    one_error_line(result.stderr, "no QMP greeting", "within 1 s", "another client may hold the socket")
    assert elapsed < 1 + 4  # the timeout plus interpreter start-up on a loaded machine


def test_missing_socket_path(tmp_path: Path) -> None:
    result = run_inprocess(str(tmp_path / "nowhere.sock"), "-c", "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, "cannot connect to", "no such file")


def test_a_path_that_is_not_a_socket(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("hello")
    result = run_inprocess(str(tmp_path / "plain"), "-c", "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, "cannot connect to", "not a socket")


def test_permission_denied(qemu: Qemu, short_dir: Path) -> None:
    """Root ignores modes, so as root qmpshell runs as nobody (setpriv); a normal user is refused as it is."""
    locked = short_dir / "locked"
    locked.mkdir()
    os.link(qemu.socket, locked / "qmp.sock")  # a second name for QEMU's socket, in a closed directory
    locked.chmod(0)
    short_dir.chmod(0o755)
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] if os.geteuid() == 0 else []
    result = subprocess.run(
        [*drop, *qmpshell_argv(str(locked / "qmp.sock"), "-c", "query-status")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": "/nonexistent", **{f"XDG_{d}_HOME": "/nonexistent" for d in XDG}},
    )
    assert result.returncode == 3
    one_error_line(result.stderr, "cannot connect to", "permission denied")


def test_refused_tcp_port() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_inprocess(f"127.0.0.1:{port}", "-c", "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, f"cannot connect to 127.0.0.1:{port}", "connection refused")


def test_unix_path_longer_than_108_bytes(qemu: Qemu, tmp_path: Path) -> None:
    """QEMU cannot bind such a path either; it binds short and we reach it through a long one."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (deep / "link").symlink_to(Path(qemu.socket).parent)
    long_path = deep / "link" / "qmp.sock"
    assert len(os.fsencode(str(long_path))) > 108
    result = run_qmpshell(str(long_path), "-c", "query-status")
    assert result.returncode == 0, result.stderr
    assert [r["return"]["status"] for r in json_lines(result.stdout)] == ["running"]


def test_a_socket_name_itself_too_long(tmp_path: Path) -> None:
    result = run_inprocess(str(tmp_path / ("s" * 120)), "-c", "query-status")
    assert result.returncode == 3
    one_error_line(result.stderr, "cannot connect to", "socket file name is longer than the 108-byte limit")


# -- output closed early ---------------------------------------------------------------


def test_stdout_closed_early_is_a_quiet_exit(qemu: Qemu) -> None:
    """``qmpshell ... | head -1``: the reader goes away; no BrokenPipeError, no traceback."""
    process = subprocess.Popen(
        qmpshell_argv(qemu.socket), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdin is not None and process.stdout is not None
    stdin = process.stdin
    threading.Thread(target=_write_quietly, args=(stdin, b"query-status\n" * 20000), daemon=True).start()
    first = process.stdout.readline()
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert json.loads(first)["return"]["status"] == "running"
    assert process.returncode == 0
    assert stderr == b""


def _write_quietly(stream: IO[bytes], data: bytes) -> None:
    try:
        stream.write(data)
        stream.close()
    except BrokenPipeError:
        pass
