"""``--proxy LISTEN UPSTREAM`` headless, with two real clients at once: QEMU's own Python library
(``qemu.qmp``) and a second qmpshell in batch mode, against a real QEMU."""

from __future__ import annotations

import asyncio
import json
import queue
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qemu.qmp import ExecuteError, QMPClient

from tests.qemu_support import Driven, Qemu, listening, qemu_banner, qmpshell_argv, run_qmpshell, wait_until
from tests.tmux_support import Tmux, reply_line, shell_env, start_qmpshell

ROUNDS = 30


class HeadlessProxy:
    """``qmpshell --proxy`` without a terminal: its traffic lines read from stdout as they come."""

    def __init__(self, listen: str, upstream: str, log: Path) -> None:
        self.listen = listen
        self.process = subprocess.Popen(
            qmpshell_argv("--proxy", listen, upstream, "-l", str(log)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        ready = (lambda: listening(listen)) if "/" in listen else (lambda: _tcp_listening(listen))
        wait_until(lambda: ready() or self.process.poll() is not None, what="the proxy's socket")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def shown(self, text: str) -> bool:
        with self._lock:
            return any(text in line for line in self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def proxy(qemu: Qemu, short_dir: Path, tmp_path: Path) -> Iterator[HeadlessProxy]:
    running = HeadlessProxy(str(short_dir / "proxy.sock"), qemu.socket, tmp_path / "proxy.log")
    try:
        yield running
    finally:
        running.stop()


def test_two_clients_at_once_replies_routed_and_events_to_both(
    proxy: HeadlessProxy, qemu: Qemu, tmp_path: Path
) -> None:
    assert stat.S_IMODE(Path(proxy.listen).stat().st_mode) == 0o600
    with Driven("--events", "-k", proxy.listen) as shell:
        shell.send("query-status\n")
        first = shell.reply()  # connected: the STOP to come reaches it
        shell.send(
            "query-status\n" * (ROUNDS - 1) + "block_resize device=nope size=1\n" + "query-name\n" * ROUNDS
        )
        harness = asyncio.run(_harness(proxy.listen, qemu))
        lines = [first, *_shell_lines(shell, replies=2 * ROUNDS)]
        status, stderr = shell.finish()
    replies = [line for line in lines if "event" not in line]
    assert [reply["return"]["status"] for reply in replies[:ROUNDS]] == ["running"] * ROUNDS
    assert replies[ROUNDS]["error"]["class"] == "GenericError"
    assert replies[ROUNDS + 1 :] == [{"return": {}}] * ROUNDS
    assert (status, stderr.count("qmpshell: ")) == (1, 1)  # the one error, said once
    assert [line["event"] for line in lines if "event" in line][:1] == ["STOP"]
    assert harness["versions"] == ROUNDS and harness["event"] == "STOP"
    assert harness["oob_error"].startswith("migrate-pause")
    assert "oob" in harness["capabilities"]
    seen = ('→ {"exec-oob": "migrate-pause"}', "→ block_resize device=nope size=1", "← error: GenericError")
    wait_until(lambda: all(map(proxy.shown, seen)), what="both clients' commands and errors in the traffic")
    clients = {json.loads(line).get("client") for line in (tmp_path / "proxy.log").read_text().splitlines()}
    assert len(clients) == 2 and None not in clients  # every record says whose
    script = run_qmpshell("--to-script", str(tmp_path / "proxy.log")).stdout.splitlines()
    assert script.count("query-version") == ROUNDS and script.count("query-name") == ROUNDS
    assert "qmp_capabilities" not in " ".join(script)


async def _harness(path: str, qemu: Qemu) -> dict[str, Any]:
    """qemu.qmp's side: in-band commands, an exec-oob that fails, and a STOP event caused elsewhere."""
    client = QMPClient("harness")
    await client.connect(path)
    result: dict[str, Any] = {"capabilities": client.greeting.QMP.capabilities, "versions": 0}
    for number in range(ROUNDS):
        version = await client.execute("query-version")
        result["versions"] += isinstance(version, dict) and "qemu" in version
        if number == ROUNDS // 2:
            try:
                await client.execute("migrate-pause", oob=True)
            except ExecuteError as err:
                result["oob_error"] = f"migrate-pause: {err.error.error.class_}"
    events = client.events
    qemu.aux.execute("stop")
    event = await asyncio.wait_for(events.get(), timeout=10)
    qemu.aux.execute("cont")
    result["event"] = event["event"]
    await client.disconnect()
    return result


def _shell_lines(shell: Driven, *, replies: int) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    while sum(1 for line in lines if "event" not in line) < replies or not any("event" in x for x in lines):
        lines.append(shell.reply())
    return lines


def test_a_client_killed_mid_command_leaves_the_others_alone(proxy: HeadlessProxy, qemu: Qemu) -> None:
    qemu.kill(signal.SIGSTOP)  # QEMU answers nothing: the victim's command stays in flight
    try:
        with Driven(proxy.listen) as victim:
            victim.send("query-status\n")
            wait_until(lambda: proxy.shown("→ query-status"), what="the victim's command forwarded")
            victim.process.kill()
            victim.process.wait(timeout=10)
    finally:
        qemu.kill(signal.SIGCONT)
    assert asyncio.run(_one_command(proxy.listen, "query-name")) == {}
    wait_until(lambda: proxy.shown("← ok"), what="the harness's reply in the traffic")
    assert proxy.process.poll() is None


async def _one_command(path: str, command: str) -> Any:
    client = QMPClient("harness")
    await client.connect(path)
    try:
        return await client.execute(command)
    finally:
        await client.disconnect()


def test_upstream_killed_disconnects_every_client_and_ends_with_status_3(
    proxy: HeadlessProxy, qemu: Qemu
) -> None:
    raw = socket.socket(socket.AF_UNIX)
    raw.connect(proxy.listen)
    reader = raw.makefile("r")
    greeting = json.loads(reader.readline())
    assert greeting["QMP"]["version"]["qemu"] == qemu.aux.execute("query-version")["qemu"]
    with Driven(proxy.listen) as shell:
        shell.send("query-name\n")
        assert shell.reply() == {"return": {}}
        qemu.kill(signal.SIGKILL)
        assert proxy.process.wait(timeout=15) == 3
        assert proxy.process.stderr is not None
        said = proxy.process.stderr.read().splitlines()
        assert len(said) == 1 and said[0].startswith("qmpshell: upstream connection ended")
        assert "2 client(s) disconnected" in said[0]
        shell.send("query-name\n")
        assert shell.finish()[0] == 3
    assert reader.read() == ""  # the raw client was disconnected too
    raw.close()


def test_listening_is_refused_off_loopback_and_on_an_existing_path(qemu: Qemu, tmp_path: Path) -> None:
    result = run_qmpshell("--proxy", "0.0.0.0:45123", qemu.socket)
    assert result.returncode == 2
    assert "loopback" in result.stderr and result.stderr.count("\n") == 1
    alone = run_qmpshell("--proxy", str(tmp_path / "p.sock"), qemu.socket, "-c", "query-status")
    assert alone.returncode == 2 and alone.stderr.startswith("qmpshell: --proxy LISTEN UPSTREAM takes no")
    taken = tmp_path / "taken"
    taken.write_text("")
    result = run_qmpshell("--proxy", str(taken), qemu.socket)
    assert (result.returncode, result.stderr) == (
        2,
        f"qmpshell: --proxy: {taken} already exists; remove it or listen elsewhere\n",
    )


def test_before_negotiation_only_qmp_capabilities_is_taken(proxy: HeadlessProxy) -> None:
    raw = socket.socket(socket.AF_UNIX)
    raw.connect(proxy.listen)
    reader = raw.makefile("r")
    reader.readline()
    raw.sendall(b'{"execute": "query-name", "id": 7}')  # no newline: QMP needs none
    assert json.loads(reader.readline())["error"]["class"] == "CommandNotFound"
    raw.sendall(b'{"execute": "qmp_capabilities", "id": "a"}\n{"execute": "query-name", "id": [1]}\n')
    answers: queue.SimpleQueue[Any] = queue.SimpleQueue()
    answers.put(json.loads(reader.readline()))
    answers.put(json.loads(reader.readline()))
    assert answers.get() == {"return": {}, "id": "a"}
    assert answers.get() == {"return": {}, "id": [1]}
    raw.close()


def test_the_shell_shows_a_clients_traffic_while_the_user_types(
    qemu: Qemu, short_dir: Path, tmp_path: Path
) -> None:
    listen = str(short_dir / "watched.sock")
    tmux = start_qmpshell(tmp_path / "xdg", "--proxy", listen, qemu.socket)
    try:
        tmux.wait_for(qemu_banner())
        wait_until(lambda: listening(listen), what="the proxy's socket")
        assert asyncio.run(_one_command(listen, "query-name")) == {}
        tmux.wait_for(lambda screen: "→ query-name" in screen and "← ok" in screen)
        tmux.enter("query-status")
        tmux.wait_for(reply_line("running"))
        qemu.kill(signal.SIGKILL)
        tmux.wait_for("proxy: upstream connection ended")
    finally:
        tmux.close()


def test_the_line_mode_shows_a_clients_traffic_between_prompts(
    qemu: Qemu, short_dir: Path, tmp_path: Path
) -> None:
    listen, log = str(short_dir / "line.sock"), tmp_path / "line.log"
    tmux = start_line_mode(tmp_path / "xdg", "--line", "--proxy", listen, qemu.socket, "-l", str(log))
    try:
        wait_until(lambda: listening(listen), what="the proxy's socket")
        tmux.wait_for("qmp>")
        assert asyncio.run(_one_command(listen, "query-status"))["status"] == "running"
        tmux.wait_for(lambda screen: "→ query-status" in screen and '← {"status": "running"' in screen)
        tmux.enter("query-name")
        tmux.wait_for(lambda screen: screen.rstrip().endswith("qmp>") and "query-name" in screen)
        tmux.enter("/format json")
        tmux.wait_for("replies: json")
        assert asyncio.run(_one_command(listen, "query-name")) == {}
        tmux.wait_for('→ {"execute": "query-name", "id": "__qmp#00000"}')  # as JSON, the client's id too
        tmux.wait_for('← {"return": {}, "id": "__qmp#00000"}')
    finally:
        tmux.close()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    typed = [
        r for r in records if r["direction"] == "sent" and "source" not in r and r["client"] == "qmpshell"
    ]
    assert [r["message"]["execute"] for r in typed] == ["query-name"]  # the user's; not the shell's own
    clients = {r["client"] for r in records}
    assert "qmpshell" in clients and len(clients) == 3  # the shell and the two harness connections


def start_line_mode(root: Path, *args: str) -> Tmux:
    return Tmux([sys.executable, "-m", "qmpshell", *args], env=shell_env(root))


def test_a_loopback_tcp_port_serves_clients(qemu: Qemu, tmp_path: Path) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    proxied = HeadlessProxy(f"127.0.0.1:{port}", qemu.socket, tmp_path / "tcp.log")
    try:
        assert asyncio.run(_tcp_command(port)) == {}
        wait_until(lambda: proxied.shown("client → query-name"), what="the TCP client's traffic")
    finally:
        proxied.stop()


def _tcp_listening(where: str) -> bool:
    """A socket listens on the port (seen in /proc/net/tcp, without connecting to it)."""
    port = f":{int(where.rsplit(':', 1)[1]):04X}"
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return any(row[1].endswith(port) and row[3] == "0A" for row in rows)  # 0A: LISTEN


async def _tcp_command(port: int) -> Any:
    client = QMPClient("harness")
    await client.connect(("127.0.0.1", port))
    try:
        return await client.execute("query-name")
    finally:
        await client.disconnect()


def test_garbage_and_non_commands_get_errors_and_the_client_stays(proxy: HeadlessProxy) -> None:
    raw = socket.socket(socket.AF_UNIX)
    raw.connect(proxy.listen)
    reader = raw.makefile("r")
    reader.readline()
    raw.sendall(b'{"execute": "qmp_capabilities"}\n[1, 2]\n{"nope": }\n{"execute": "query-name", "id": 3}\n')
    answers = [json.loads(reader.readline()) for _ in range(4)]
    assert answers[0] == {"return": {}}
    assert [a.get("error", {}).get("class") for a in answers[1:3]] == ["GenericError", "GenericError"]
    assert answers[3] == {"return": {}, "id": 3}
    raw.close()
