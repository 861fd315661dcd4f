"""Strict scripts read ahead and read their own replies (issue 26), and nothing a script shows changes.

While QEMU runs a command, batch mode reads and parses the next line (``pipeline.parse_ahead``), and
sends it as soon as the reply is in and fine, before printing that reply; the thread that waits for
a reply reads the socket itself (``protocol.reading``) while the reader thread is parked, and takes
over again whenever the script waits for input.  These tests hold the strict semantics: after a
failure nothing more is sent (not even the questions a later line's typing would ask), errors come
in script order, and events are still seen at once while qmpshell waits for its input.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from qmpshell.errors import ConnectionLost
from qmpshell.protocol.address import parse_address
from qmpshell.protocol.client import Client
from tests.qemu_support import (
    Driven,
    Qemu,
    json_lines,
    qmpshell_argv,
    run_qmpshell,
    sent_messages,
    status_return,
    wait_until,
)

NOSUCH = '{"execute": "nosuch"}'  # raw JSON: not checked, QEMU refuses it (CommandNotFound)
ASKING = [
    "qom-set path=/machine property=type value=x",  # typed by asking QEMU (qom-list)
    "device_add driver=virtio-net-pci id=net0",  # typed by asking (qom-list-types, device-list-properties)
    "query-name",
]
# What those lines send when they run, their typing's questions included
ASKED = {"qom-list", "qom-set", "qom-list-types", "device-list-properties", "device_add", "query-name"}


def commands_sent(log: Path) -> list[str]:
    return [str(message.get("execute")) for message in sent_messages(log)]


@pytest.mark.parametrize("first", ["query-status", "qom-get path=/machine property=type"])
def test_after_a_failure_nothing_of_the_next_lines_is_sent(qemu: Qemu, tmp_path: Path, first: str) -> None:
    """Not even what typing a line read ahead would ask: a strict run would never have parsed it.
    ``first`` leaves the schema unread, or reads it.  (The error's hint may read the schema.)"""
    log = tmp_path / "qmp.log"
    result = run_qmpshell("-l", str(log), qemu.socket, input="\n".join([first, NOSUCH, *ASKING]) + "\n")
    assert result.returncode == 1
    assert len(json_lines(result.stdout)) == 2
    assert result.stderr == "qmpshell: 2: CommandNotFound: The command nosuch has not been found\n"
    assert "nosuch" in commands_sent(log)
    assert not ASKED & set(commands_sent(log))
    control = tmp_path / "control.log"  # the same lines after a command that succeeds: all of it is sent
    run_qmpshell("-k", "-l", str(control), qemu.socket, input="\n".join([first, *ASKING]) + "\n")
    assert ASKED <= set(commands_sent(control))


def test_a_line_that_does_not_parse_after_a_failure_is_not_reported(qemu: Qemu) -> None:
    """It was read (and tokenized) while the failing command ran, but a strict run stops before it."""
    result = run_qmpshell(qemu.socket, input=f"query-status\n{NOSUCH}\nquery-status a={{1\nquery-name\n")
    assert result.returncode == 1
    assert result.stderr == "qmpshell: 2: CommandNotFound: The command nosuch has not been found\n"


def merged_output(qemu: Qemu, script: bytes) -> list[str]:
    """stdout and stderr in the one order a reader of both sees (``2>&1``)."""
    result = subprocess.run(
        qmpshell_argv(qemu.socket), input=script, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60
    )
    return result.stdout.decode().splitlines()


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        (b"bad-line oops", "qmpshell: 2: expected KEY=VALUE, found 'oops' (column 10)"),
        (b"query-\xff", "qmpshell: 2: invalid UTF-8 at byte 7"),
    ],
)
def test_a_bad_line_is_reported_after_the_reply_before_it(qemu: Qemu, bad: bytes, complaint: str) -> None:
    """The bad line was read while the command before it ran: its complaint still comes after that reply."""
    out = merged_output(qemu, b"query-status\n" + bad + b"\nquery-name\n")
    assert json.loads(out[0])["return"]["status"] == "running"
    assert out[1] == complaint
    assert '{"return": {}}' not in out  # query-name: the run stopped at the bad line


def test_replies_keep_their_order_with_verbose_lines_and_events(qemu: Qemu) -> None:
    """Each -v line before the events its command causes and its reply.  (The first line is a query:
    its reply is read by the reader thread, which may show an event before the main thread its -v
    line, as before issue 26.)"""
    script = "query-name\nstop\nquery-status\ncont\nquery-status\n"
    result = run_qmpshell("-v", "--events", qemu.socket, input=script)
    assert result.returncode == 0, result.stderr
    kinds = []
    for message in json_lines(result.stdout):
        kinds.append(message.get("execute") or message.get("event") or json.dumps(message.get("return")))
    status = json.dumps
    assert kinds == [
        "query-name",
        "{}",
        "stop",
        "STOP",
        "{}",
        "query-status",
        status(status_return("paused", running=False)),
        "cont",
        "RESUME",
        "{}",
        "query-status",
        status(status_return("running", running=True)),
    ]


def test_events_are_shown_at_once_while_it_waits_for_input(qemu: Qemu) -> None:
    """The reader thread reads again whenever no line is ready: an event needs no next command."""
    with Driven("--events", qemu.socket) as shell:
        shell.send("query-status\n")
        assert "return" in shell.reply()
        qemu.aux.execute("stop")
        assert shell.reply(timeout=10)["event"] == "STOP"
        shell.send("cont\n")
        assert shell.reply()["event"] == "RESUME"
        assert shell.reply() == {"return": {}}
        assert shell.finish() == (0, "")


def connected(qemu: Qemu, seen: list[tuple[str, str]]) -> Client:
    """A client whose events are noted with the name of the thread that read them."""

    def note(event: dict[str, Any]) -> None:
        seen.append((str(event["event"]), threading.current_thread().name))

    client = Client(parse_address(qemu.socket), on_event=note)
    client.connect()
    return client


def test_the_waiting_thread_reads_its_reply_itself_and_hands_back(qemu: Qemu) -> None:
    seen: list[tuple[str, str]] = []
    client = connected(qemu, seen)
    try:
        client.caller_reads = True  # the reader thread parks after the read it is in
        qemu.aux.execute("stop")
        wait_until(lambda: len(seen) == 1, what="STOP read by the reader thread")
        qemu.aux.execute("cont")  # nobody reads it now: it waits in the socket
        assert client.execute("query-status")["status"] == "running"
        assert len(seen) == 2  # RESUME came before the reply: read with it, on this thread
        client.caller_reads = False  # the reader thread takes over again
        qemu.aux.execute("stop")
        wait_until(lambda: len(seen) == 3, what="STOP read by the reader thread again")
    finally:
        client.close()
    assert seen == [("STOP", "qmp-reader"), ("RESUME", "MainThread"), ("STOP", "qmp-reader")]


def test_the_end_of_the_server_while_reading_itself(qemu: Qemu) -> None:
    client = connected(qemu, [])
    try:
        client.caller_reads = True
        assert client.execute("query-status")["running"] is True
        qemu.kill(signal.SIGKILL)
        qemu.process.wait(timeout=10)
        with pytest.raises(ConnectionLost, match="the server closed the connection"):
            client.execute("query-status", timeout=10)
    finally:
        client.close()


class Interrupted(BaseException):
    """What the test's SIGUSR1 handler raises, as SIGINT raises KeyboardInterrupt."""


def in_recv(thread_id: int) -> bool:
    """Whether the thread is blocked in recvfrom (45 on x86-64, the only machine the suite runs on)."""
    return Path(f"/proc/self/task/{thread_id}/syscall").read_text().split()[0] == "45"


def test_a_signal_while_reading_itself_leaves_the_client_usable(qemu: Qemu) -> None:
    """Ctrl-C in a script raises in the thread blocked in recv; the read lock is let go, the command
    given up (its late reply dropped), and the next command is answered."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise Interrupted

    client = connected(qemu, [])
    previous = signal.signal(signal.SIGUSR1, interrupt)
    main = threading.get_native_id()
    try:
        client.caller_reads = True
        assert client.execute("query-status")["running"] is True  # the reader thread parks after it
        qemu.kill(signal.SIGSTOP)
        try:

            def signal_once_blocked() -> None:
                wait_until(lambda: in_recv(main), what="the main thread blocked in recv")
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

            threading.Thread(target=signal_once_blocked, daemon=True).start()
            with pytest.raises(Interrupted):
                client.execute("query-name")
        finally:
            qemu.kill(signal.SIGCONT)
        assert client.execute("query-status", timeout=10)["running"] is True
        assert len(client.late) == 1  # query-name's reply, dropped by its id
    finally:
        signal.signal(signal.SIGUSR1, previous)
        client.close()
