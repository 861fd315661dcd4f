"""The synchronous client against a real QEMU: greeting, ids, events, sizes, pretty monitors, endings."""

from __future__ import annotations

import queue
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from qmpshell.errors import CommandTimeout, ConnectionFailed, ConnectionLost, UsageError
from qmpshell.protocol.address import Address, parse_address
from qmpshell.protocol.client import Client
from qmpshell.protocol.logfile import MessageLog
from qmpshell.protocol.pending import Cancelled, PendingReply, QmpError
from tests.qemu_support import Qemu, qemu_version, wait_until


def connect(path: str, **options: Any) -> tuple[Client, queue.Queue[dict[str, Any]]]:
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    client = Client(parse_address(path), on_event=events.put, **options)
    client.connect()
    return client, events


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/tmp/qmp.sock", Address(path="/tmp/qmp.sock")),
        ("qmp.sock", Address(path="qmp.sock")),
        ("localhost:4444", Address(host="localhost", port=4444)),
        ("[::1]:4444", Address(host="::1", port=4444)),
        ("./odd:name", Address(path="./odd:name")),
    ],
)
def test_addresses(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "[::1]", "[::1]:0", "host:99999"])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_address(text)


def test_greeting_and_negotiation(qemu: Qemu) -> None:
    client, _ = connect(qemu.socket)
    try:
        assert client.greeting is not None and "QMP" in client.greeting
        major, minor, _ = qemu_version()
        assert client.server_version.startswith(f"{major}.{minor}.")
        assert client.execute("query-status")["running"] is True
    finally:
        client.close()


def test_event_may_arrive_before_the_reply_of_its_command(qemu: Qemu) -> None:
    order: list[str] = []
    client = Client(parse_address(qemu.socket), on_event=lambda e: order.append(e["event"]))
    client.connect()
    try:
        client.execute("stop")
        order.append("reply")
        assert order == ["STOP", "reply"]
    finally:
        client.close()


def test_every_command_carries_an_id_and_replies_are_routed(qemu: Qemu, tmp_path: Path) -> None:
    log_path = tmp_path / "log"
    log = MessageLog.open(str(log_path))
    client, _ = connect(qemu.socket, log=log)
    try:
        qemu.kill(signal.SIGSTOP)  # both are waiting at once: QEMU cannot answer the first in between
        first = client.send({"execute": "query-status"})
        second = client.send({"execute": "query-version"})
        qemu.kill(signal.SIGCONT)
        assert first.sent["id"] != second.sent["id"]
        assert "qemu" in second.wait(10)["return"]
        assert "status" in first.wait(10)["return"]
    finally:
        client.close()
        log.close()
    assert all('"id"' in line for line in log_path.read_text().splitlines() if '"sent"' in line)


def test_error_reply_raises_qmp_error(qemu: Qemu) -> None:
    client, _ = connect(qemu.socket)
    try:
        with pytest.raises(QmpError) as caught:
            client.execute("device_add", {"driver": "nosuch"})
        assert caught.value.error_class == "GenericError"
    finally:
        client.close()


def test_large_reply(qemu: Qemu) -> None:
    client, _ = connect(qemu.socket)
    try:
        schema = client.execute("query-qmp-schema")
        assert len(schema) > 1000
    finally:
        client.close()


def test_pretty_monitor_multi_line_json(short_dir: Path) -> None:
    path = short_dir / "pretty.sock"
    qemu = Qemu(
        short_dir,
        "-chardev",
        f"socket,id=pm,path={path},server=on,wait=off",
        "-mon",
        "chardev=pm,mode=control,pretty=on",
    )
    try:
        client, events = connect(str(path))
        try:
            assert client.execute("query-status")["running"] is True
            assert len(client.execute("query-qmp-schema")) > 1000
            client.execute("stop")
            assert events.get(timeout=10)["event"] == "STOP"
        finally:
            client.close()
    finally:
        qemu.stop()


@pytest.mark.parametrize("caller_reads", [False, True], ids=["reader thread", "the caller reads"])
def test_execute_timeout_then_late_reply_is_dropped(qemu: Qemu, caller_reads: bool) -> None:
    """Whoever reads the socket (batch mode: the waiting thread, protocol.reading), a reply that
    comes after its command gave up is dropped, not taken for the next command's."""
    client, _ = connect(qemu.socket)
    try:
        client.caller_reads = caller_reads
        assert client.execute("query-status", timeout=10)["running"] is True
        qemu.kill(signal.SIGSTOP)
        try:
            with pytest.raises(CommandTimeout):
                client.execute("query-version", timeout=0.3)
        finally:
            qemu.kill(signal.SIGCONT)
        assert client.execute("query-status", timeout=10)["running"] is True
        assert len(client.late) == 1
    finally:
        client.close()


def test_connection_end_fails_a_waiting_command_at_once(qemu: Qemu) -> None:
    client, _ = connect(qemu.socket)
    try:
        qemu.kill(signal.SIGSTOP)
        pending = client.send({"execute": "query-status"})
        qemu.kill(signal.SIGKILL)
        with pytest.raises(ConnectionLost, match="closed the connection|connection lost"):
            pending.wait(10)
        with pytest.raises(ConnectionLost):
            client.execute("query-status")
    finally:
        client.close()


def test_connection_end_names_the_shutdown_reason(qemu: Qemu) -> None:
    client, _ = connect(qemu.socket)
    try:
        qemu.aux.execute("quit")
        wait_until(lambda: client.lost is not None, what="the connection to end")
        assert client.shutdown_reason == "host-qmp-quit"
        with pytest.raises(ConnectionLost, match="SHUTDOWN event, reason host-qmp-quit"):
            client.execute("query-status")
    finally:
        client.close()


def test_no_greeting_suggests_another_client(qemu: Qemu) -> None:
    holder, _ = connect(qemu.socket)
    try:
        with pytest.raises(ConnectionFailed, match="another client may hold the socket"):
            Client(parse_address(qemu.socket), connect_timeout=0.3).connect()
    finally:
        holder.close()


def test_a_command_too_large_for_the_socket_does_not_hold_the_sender(qemu: Qemu) -> None:
    """Ctrl-C must stop the wait even while the command is still being written (issue 10)."""
    client, _ = connect(qemu.socket)
    value = "x" * 600_000  # well over a UNIX socket's buffer (~200 KB)
    sent: queue.Queue[PendingReply] = queue.Queue()
    message = {
        "execute": "qom-set",
        "arguments": {"path": "/machine", "property": "dt-compatible", "value": value},
    }
    try:
        qemu.kill(signal.SIGSTOP)  # QEMU reads nothing: the buffer fills and stays full
        sender = threading.Thread(target=lambda: sent.put(client.send(message)), daemon=True)
        sender.start()
        sender.join(10)
        assert not sender.is_alive(), "send() blocked until QEMU read the whole command"
        pending = sent.get_nowait()
        client.abandon(pending)
        with pytest.raises(Cancelled):
            pending.wait(10)
        qemu.kill(signal.SIGCONT)
        # The large command still went out whole, in order: the stream is intact and it took effect.
        assert (
            client.execute("qom-get", {"path": "/machine", "property": "dt-compatible"}, timeout=30) == value
        )
    finally:
        qemu.kill(signal.SIGCONT)
        client.close()
