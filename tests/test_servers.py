"""The storage daemon and the guest agent as targets (issue 21, items 2 to 5), against the real servers.

qemu-ga runs on the host, so ``guest-exec`` runs host programs: only harmless
ones here (echo, printf).  Commands that would act on the host
(``guest-shutdown``, ``guest-suspend-*``) are never sent to it: the fake server
plays the agent for them, and for the resync after a timeout.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qmpshell.output.views import render_reply
from qmpshell.protocol.address import parse_address
from qmpshell.protocol.client import Client
from qmpshell.schema.knowledge import knowledge_for
from qmpshell.schema.suggest import suggest
from tests.fakeserver import GREETING, Answer, FakeServer, Hang, echo_id, line
from tests.qemu_support import log_records, run_qmpshell
from tests.server_support import Server, guest_agent, storage_daemon, storage_daemon_on_tcp


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="qs-") as name:  # short: UNIX socket paths
        yield Path(name)


@pytest.fixture(scope="module")
def qga(module_dir: Path) -> Iterator[Server]:
    """One guest agent for the module: it serves one client at a time, each test in turn."""
    server = guest_agent(module_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def qsd(module_dir: Path) -> Iterator[Server]:
    server = storage_daemon(module_dir)
    try:
        yield server
    finally:
        server.stop()


def agent_version(qga: Server) -> str:
    """The version the agent itself reports (``guest-info``), asked with -N."""
    result = run_qmpshell(qga.socket, "-N", "-c", "guest-info")
    return str(json.loads(result.stdout)["return"]["version"])


def daemon_version(qsd: Server) -> str:
    result = run_qmpshell(qsd.socket, "-c", "query-version")
    qemu = json.loads(result.stdout)["return"]["qemu"]
    return f"{qemu['major']}.{qemu['minor']}.{qemu['micro']}"


# -- the storage daemon ----------------------------------------------------------------------------


def test_launch_starts_the_storage_daemon(short_dir: Path) -> None:
    nbd = short_dir / "nbd.sock"
    result = run_qmpshell(
        "--launch",
        "--format",
        "human",
        "-c",
        "query-block-exports",
        "-c",
        "/schema",
        "--",
        "qemu-storage-daemon",
        "--blockdev",
        "null-co,node-name=n0",
        "--nbd-server",
        f"addr.type=unix,addr.path={nbd}",
        "--export",
        "nbd,id=e0,node-name=n0",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "type", "node", "shutting", "down"]
    assert lines[1].split() == ["e0", "nbd", "n0", "false"]
    assert any(text.startswith("server: qemu-storage-daemon ") for text in lines)


def test_the_block_graph_as_a_tree(qsd: Server) -> None:
    script = "blockdev-add driver=null-co node-name=g0\nblockdev-add driver=raw file=g0 node-name=g1\n"
    script += "x-debug-query-block-graph\nblockdev-del node-name=g1\nblockdev-del node-name=g0\n"
    result = run_qmpshell(qsd.socket, "--format", "human", input=script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    root = lines.index(next(text for text in lines if text.startswith("g1 ")))
    assert lines[root].split() == ["g1", "block-driver"]
    assert lines[root + 1].split() == ["└─", "file:", "g0", "block-driver"]


@pytest.mark.parametrize("args", [("-c", "/hmp info version"), ("--hmp", "-c", "info version")])
def test_hmp_on_the_storage_daemon_runs_over_qmp(qsd: Server, tmp_path: Path, args: tuple[str, ...]) -> None:
    """The daemon has no human-monitor-command: its HMP is qmpshell's, over QMP (issue 19)."""
    log = tmp_path / "log"
    result = run_qmpshell(qsd.socket, "-l", str(log), *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(daemon_version(qsd))  # as HMP prints it: the package follows
    sent = [r["message"].get("execute") for r in log_records(log) if r["direction"] == "sent"]
    assert "query-version" in sent and "human-monitor-command" not in sent


def test_the_daemon_is_named_in_schema(qsd: Server) -> None:
    result = run_qmpshell(qsd.socket, "-c", "/schema")
    assert result.returncode == 0, result.stderr
    server = result.stdout.splitlines()[-1]
    assert server.startswith(f"server: qemu-storage-daemon {daemon_version(qsd)} ")


# -- the guest agent -------------------------------------------------------------------------------


def test_the_agent_is_found_without_skip_negotiation(qga: Server) -> None:
    result = run_qmpshell(qga.socket, "-c", "guest-ping", "-c", "/schema")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert json.loads(lines[0]) == {"return": {}}
    assert lines[-1].startswith(f"server: qemu-ga {agent_version(qga)}, ")


def test_schema_says_an_agents_schema_is_built_not_fetched(qga: Server) -> None:
    """The agent has no query-qmp-schema: /schema names guest-info and the manual (or their lack)."""
    from qmpshell.schema.agentref import installed_manual

    result = run_qmpshell(qga.socket, "-c", "/schema")
    lines = result.stdout.splitlines()
    manual = installed_manual()
    assert manual, "scripts/setup installs qemu-guest-agent with its manual"
    assert lines[0] == f"schema: built from guest-info's command list, arguments from {manual}"
    assert lines[1].startswith("key: (none: a guest agent's schema is rebuilt on every connection")


def test_version_names_the_agent(qga: Server) -> None:
    result = run_qmpshell(qga.socket, "--version", "-c", "guest-ping")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == f"qemu-ga {agent_version(qga)}"


def test_skip_negotiation_still_talks_to_the_agent(qga: Server) -> None:
    started = time.monotonic()
    result = run_qmpshell(qga.socket, "-N", "-c", "guest-ping")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"return": {}}
    assert time.monotonic() - started < 10


def test_a_silent_server_names_both_possibilities(tmp_path: Path) -> None:
    sock = tmp_path / "silent.sock"
    with FakeServer(sock, [Hang()]):
        result = run_qmpshell(str(sock), "--connect-timeout", "2", "-c", "guest-ping")
    assert result.returncode == 3
    (text,) = result.stderr.splitlines()
    assert "another client may hold the socket" in text
    assert "a guest agent that did not answer (try -N)" in text


def test_a_misspelt_agent_command_is_refused_from_guest_info(qga: Server, tmp_path: Path) -> None:
    result = run_qmpshell(qga.socket, "-c", "guest-pingg x=1")
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 1: unknown command 'guest-pingg'; did you mean guest-ping?\n"


def test_agent_command_names_complete_with_disabled_ones_marked(qga: Server) -> None:
    client = Client(parse_address(qga.socket))
    client.connect()
    try:
        assert client.agent
        knowledge = knowledge_for(client, use_cache=False)
        assert knowledge is not None
        info = client.execute("guest-info")
    finally:
        client.close()
    listed = {c["name"]: c for c in info["supported_commands"]}
    found = {c.text: c.meta for c in suggest("guest-", knowledge.index).candidates}
    assert set(found) == {name for name in listed if name.startswith("guest-")}
    disabled = {name for name, c in listed.items() if not c["enabled"]}
    assert {name for name, meta in found.items() if meta == "disabled"} == disabled


def test_guest_info_as_a_table(qga: Server) -> None:
    result = run_qmpshell(qga.socket, "--format", "human", "-c", "guest-info")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"version: {agent_version(qga)}"
    assert lines[1].split() == ["name", "enabled", "success-response"]
    rows = {text.split()[0]: text.split()[1:] for text in lines[2:]}
    assert rows["guest-shutdown"] == ["true", "false"]
    assert rows["guest-ping"] == ["true", "true"]


def test_guest_exec_prints_the_programs_output(qga: Server) -> None:
    result = run_qmpshell(qga.socket, "-c", "/guest-exec echo hello from the agent")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from the agent\n"
    assert result.stderr == ""


def test_guest_exec_stderr_and_exit_code(qga: Server) -> None:
    program = "/guest-exec sh -c 'printf out; printf err >&2; exit 3'"
    result = run_qmpshell(qga.socket, "-c", program)
    assert result.returncode == 1
    assert result.stdout == "out"
    assert result.stderr == "errqmpshell: 1: /guest-exec: exit code 3\n"


def agent_reply(qga: Server, command: str, arguments: dict[str, Any]) -> Any:
    client = Client(parse_address(qga.socket))
    client.connect()
    try:
        return client.request({"execute": command, "arguments": arguments})
    finally:
        client.close()


def rendered(response: Any, command: str) -> list[str]:
    return render_reply(response, command=command).text().splitlines()


def test_exec_status_is_shown_decoded(qga: Server) -> None:
    started = agent_reply(qga, "guest-exec", {"path": "printf", "arg": ["caf\u00e9"], "capture-output": True})
    pid = started["return"]["pid"]
    status: dict[str, Any] = {}
    deadline = time.monotonic() + 10
    while not status.get("return", {}).get("exited") and time.monotonic() < deadline:
        status = agent_reply(qga, "guest-exec-status", {"pid": pid})
    lines = rendered(status, "guest-exec-status")
    assert "out-data" in json.dumps(status)  # as sent: base64
    assert "exitcode: 0" in [text.strip() for text in lines] or any(
        re.search(r"exitcode\W+0", t) for t in lines
    )
    assert lines[-2:] == ["stdout (5 bytes, text):", "caf\u00e9"]


def test_file_read_is_shown_as_a_hexdump_when_not_text(qga: Server, tmp_path: Path) -> None:
    data = tmp_path / "bytes"
    data.write_bytes(bytes([0, 1, 2, 0xFF]) + b"abc")
    handle = agent_reply(qga, "guest-file-open", {"path": str(data), "mode": "r"})["return"]
    read = agent_reply(qga, "guest-file-read", {"handle": handle, "count": 100})
    agent_reply(qga, "guest-file-close", {"handle": handle})
    lines = rendered(read, "guest-file-read")
    assert lines[-2] == "data (7 bytes, not UTF-8):"
    assert lines[-1] == "00000000  " + "00 01 02 ff 61 62 63".ljust(16 * 3 - 1) + "  |....abc|"


# -- what only a fake agent may show ---------------------------------------------------------------


def sync_reply(stale: bytes = b"") -> Answer:
    """guest-sync-delimited answered as the agent does: (stale bytes,) 0xFF, then the id."""

    def answer(command: dict[str, Any]) -> bytes:
        return stale + b"\xff" + line({"return": command["arguments"]["id"], "id": command["id"]})

    return Answer(answer)


def test_a_command_without_reply_is_not_waited_for(tmp_path: Path) -> None:
    sock = tmp_path / "agent.sock"
    steps = [Answer(lambda command: b""), Answer(echo_id({"return": {}}))]
    with FakeServer(sock, steps) as server:
        started = time.monotonic()
        result = run_qmpshell(str(sock), "-N", "--timeout", "20", "-c", "guest-shutdown", "-c", "guest-ping")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 15
    assert [m.get("execute") for m in server.received] == ["guest-shutdown", "guest-ping"]
    assert result.stdout.splitlines()[-1] == '{"return": {}}'


def test_the_agent_is_resynchronised_after_a_timeout(tmp_path: Path) -> None:
    """The first command's reply comes late, in front of the sync's 0xFF: it is skipped, and the
    next command gets its own reply, not the stale one."""
    sock = tmp_path / "agent.sock"
    late = line({"return": "stale", "id": 1})
    steps = [Answer(lambda command: b""), sync_reply(late), Answer(echo_id({"return": "fresh"}))]
    with FakeServer(sock, steps) as server:
        result = run_qmpshell(
            str(sock), "-N", "-k", "--timeout", "1", "-c", "guest-get-time", "-c", "guest-ping"
        )
    assert result.returncode == 1
    assert "no reply to guest-get-time within 1 s" in result.stderr
    names = [m.get("execute") for m in server.received]
    assert names == ["guest-get-time", "guest-sync-delimited", "guest-ping"]
    assert json.loads(result.stdout.splitlines()[-1]) == {"return": "fresh"}


# -- arguments from the agent's reference manual ---------------------------------------------------


def test_arguments_are_typed_from_the_agents_manual(qga: Server) -> None:
    """Debian's qemu-guest-agent installs qemu-ga-ref.7: ``path=123`` stays a string, and a value
    that is no boolean is refused before anything is sent."""
    result = run_qmpshell(qga.socket, "-v", "-c", "guest-file-open path=123 mode=r")
    sent = json.loads(result.stdout.splitlines()[0])
    assert sent["arguments"] == {"path": "123", "mode": "r"}
    refused = run_qmpshell(qga.socket, "-v", "-c", "guest-exec path=/bin/true capture-output=maybe")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "capture-output: expected true/false" in refused.stderr


def test_the_manual_reader_finds_arguments() -> None:
    from qmpshell.schema.agentref import argument_entries, read_manual
    from qmpshell.schema.index import SchemaIndex

    manual = read_manual()
    assert manual, "qemu-ga-ref.7 is not installed (Debian's qemu-guest-agent: run scripts/setup)"
    index = SchemaIndex.from_entries(
        argument_entries(manual, ["guest-exec", "guest-file-seek", "guest-nothing"])
    )
    members = {m.name: (m.type, m.optional) for m in index.members(index.commands["guest-exec"].arg_type)}
    assert members["path"] == ("str", False)
    assert members["arg"] == ("[str]", True)
    assert members["capture-output"] == ("bool", True)
    seek = {m.name: m.type for m in index.members(index.commands["guest-file-seek"].arg_type)}
    assert seek["handle"] == "int" and seek["offset"] == "int"
    assert index.commands["guest-nothing"].arg_type == ""
    assert argument_entries("", ["guest-ping"])[-1] == {"name": "guest-ping", "meta-type": "command"}


def test_a_remote_daemon_is_known_by_its_command_list(short_dir: Path) -> None:
    """Over TCP there is no executable to look at: query-commands tells the daemon, and the key
    says 'remote' where a local server's names its binary."""
    server, address = storage_daemon_on_tcp(short_dir)
    try:
        hmp = run_qmpshell(address, "-c", "/hmp info version")  # over QMP: the daemon has no HMP
        assert hmp.returncode == 0, hmp.stderr
        result = run_qmpshell(address, "-c", "/schema")
        assert result.returncode == 0, result.stderr
        key = result.stdout.splitlines()[1]
        assert key.endswith("-remote"), key
        assert result.stdout.splitlines()[2].startswith("server: qemu-storage-daemon ")
    finally:
        server.stop()


def test_a_qemu_that_greets_late_is_still_a_qemu(tmp_path: Path) -> None:
    """A greeting that comes after the first second (a loaded machine) arrives during the agent
    probe: it is taken as the greeting, the probe's error reply ends the probe, and the session
    is an ordinary QMP one."""
    refused = {"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation"}}

    def greet_late(command: dict[str, Any]) -> bytes:
        assert command["execute"] == "guest-sync-delimited"
        return line(GREETING) + line({**refused, "id": command["id"]})

    steps = [Answer(greet_late), Answer(), Answer(echo_id({"return": {"status": "running"}}))]
    sock = tmp_path / "late.sock"
    with FakeServer(sock, steps) as server:
        result = run_qmpshell(str(sock), "-c", "query-status")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"return": {"status": "running"}}
    assert [m.get("execute") for m in server.received] == [
        "guest-sync-delimited",
        "qmp_capabilities",
        "query-status",
    ]
