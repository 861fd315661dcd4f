"""The schema cache serves a server only its own schema (issue 21, item 1).

The emulator and the storage daemon of one build send the same greeting; the
key (``ServerIdentity.schema_key``) adds their command list and executable.  A
fake server stands in for a rebuilt QEMU whose commands changed under the same
version string, which no installed QEMU can show.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from qmpshell.config import Settings
from qmpshell.protocol.address import parse_address
from qmpshell.repl.connection import Connection
from qmpshell.schema.knowledge import SchemaKnowledge
from tests.fakeserver import Answer, FakeServer, handshake
from tests.qemu_support import run_qmpshell, wait_until
from tests.server_support import Server, emulator, emulator_of_the_daemons_build, storage_daemon


@pytest.fixture
def daemon(qsd: Server) -> Server:
    """The storage daemon (conftest's ``qsd``)."""
    return qsd


def cache_files(private_xdg: Path) -> list[str]:
    cache = private_xdg / "xdg_cache_home" / "qmpshell"
    return sorted(path.name for path in cache.iterdir()) if cache.exists() else []


def emulator_line(server: Server) -> None:
    """A command with arguments (so the schema is read) that only the emulator has."""
    result = run_qmpshell(server.socket, "-c", "human-monitor-command command-line='info version'")
    assert result.returncode == 0, result.stderr
    assert "unknown command" not in result.stderr


def daemon_lines(server: Server) -> None:
    """The daemon's own command with arguments works; the emulator's are refused as its schema says."""
    result = run_qmpshell(server.socket, "-c", "query-named-block-nodes flat=true")
    assert result.returncode == 0, result.stderr
    result = run_qmpshell(server.socket, "-c", "device_add driver=virtio-rng-pci")
    assert result.returncode == 2
    assert result.stderr.startswith("qmpshell: 1: unknown command 'device_add'")
    assert run_qmpshell(server.socket, "-c", "/help migrate").returncode == 2


def test_same_build_greetings_are_alike(daemon: Server, same_build: Server) -> None:
    """What makes the test worth having: the greeting alone cannot tell the two apart."""
    versions = []
    for server in (daemon, same_build):
        result = run_qmpshell(server.socket, "-c", '{"execute": "query-version"}')
        versions.append(json.loads(result.stdout)["return"])
    assert versions[0] == versions[1]


@pytest.mark.parametrize("daemon_first", [True, False], ids=["daemon-first", "emulator-first"])
def test_a_shared_cache_serves_each_server_its_own_schema(
    daemon: Server, same_build: Server, private_xdg: Path, daemon_first: bool
) -> None:
    if daemon_first:
        daemon_lines(daemon)
        emulator_line(same_build)
    else:
        emulator_line(same_build)
        daemon_lines(daemon)
    assert len(cache_files(private_xdg)) == 2
    # and again, both now from the cache
    emulator_line(same_build)
    daemon_lines(daemon)
    assert len(cache_files(private_xdg)) == 2


def test_the_tested_emulator_and_the_daemon_share_a_cache(
    qemu: Any, daemon: Server, private_xdg: Path
) -> None:
    """The same with the QEMU the suite runs against (perhaps another version than the daemon)."""
    daemon_lines(daemon)
    result = run_qmpshell(qemu.socket, "-c", "human-monitor-command command-line='info version'")
    assert result.returncode == 0, result.stderr


def test_schema_names_the_server_then_the_cache_file_and_reload_fetches(
    daemon: Server, private_xdg: Path
) -> None:
    first = run_qmpshell(daemon.socket, "-c", "/schema")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "schema: from the server (query-qmp-schema)"
    key = lines[1].removeprefix("key: ")
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9a-f]{12}){3}", key), key
    assert lines[2].startswith("server: qemu-storage-daemon ")
    (name,) = cache_files(private_xdg)
    path = private_xdg / "xdg_cache_home" / "qmpshell" / name
    second = run_qmpshell(daemon.socket, "-c", "/schema")
    assert second.stdout.splitlines()[:2] == [f"schema: from the cache file {path}", f"key: {key}"]
    path.write_text(path.read_text().replace('"blockdev-add"', '"blockdev-gone"'))
    lines_in = "/schema reload\nblockdev-add driver=null-co node-name=n1\n"  # read line by line
    reload = run_qmpshell(daemon.socket, input=lines_in)
    assert reload.returncode == 0, reload.stderr
    assert reload.stdout.splitlines()[0] == "schema: from the server (query-qmp-schema)"
    assert '"blockdev-add"' in path.read_text()
    # in a -c script too: the lines after /schema reload are parsed as they run, with the new schema
    path.write_text(path.read_text().replace('"blockdev-add"', '"blockdev-gone"'))
    script = ("-c", "/schema reload", "-c", "blockdev-add driver=null-co node-name=n2")
    assert run_qmpshell(daemon.socket, *script).returncode == 0


# -- a fake server whose command list changes under one version string -----------------------------

BUILTIN = {"name": "int", "meta-type": "builtin", "json-type": "int"}
EMPTY = {"name": "0", "meta-type": "object", "members": []}
ARGS = {"name": "1", "meta-type": "object", "members": [{"name": "x", "type": "int"}]}


def schema_with(command: str) -> list[dict[str, Any]]:
    entries = [BUILTIN, EMPTY, ARGS]
    for name in ("qmp_capabilities", "query-commands", "query-qmp-schema"):
        entries.append({"name": name, "meta-type": "command", "arg-type": "0", "ret-type": "0"})
    entries.append({"name": command, "meta-type": "command", "arg-type": "1", "ret-type": "0"})
    return entries


def serve_one(path: Path, command: str, line: str) -> tuple[Any, list[dict[str, Any]]]:
    """One connection to a fake 7.2.0 whose commands are the schema's; the result and what it got."""
    names = [entry["name"] for entry in schema_with(command) if entry["meta-type"] == "command"]
    with FakeServer(path, [*handshake(), Answer()], schema=schema_with(command), commands=names) as server:
        result = run_qmpshell(str(path), "-c", line)
    path.unlink()
    return result, server.received


def test_a_changed_command_list_under_one_version_is_not_served_the_old_schema(
    short_dir: Path, private_xdg: Path
) -> None:
    sock = short_dir / "fake.sock"
    result, _ = serve_one(sock, "old-command", "old-command x=1")
    assert result.returncode == 0, result.stderr
    result, received = serve_one(sock, "new-command", "new-command x=2")
    assert result.returncode == 0, result.stderr
    assert any(m.get("execute") == "new-command" and m.get("arguments") == {"x": 2} for m in received)
    assert len(cache_files(private_xdg)) == 2


# -- the interactive shell: confirming in the background, reconnecting elsewhere -------------------


def test_a_cached_schema_that_is_not_the_servers_is_replaced(daemon: Server, private_xdg: Path) -> None:
    """A cache file under this server's key but with another schema (a remote rebuild the key
    cannot see): the interactive shell asks the server and replaces it, file and all."""
    assert run_qmpshell(daemon.socket, "-c", "/schema").returncode == 0
    (name,) = cache_files(private_xdg)
    path = private_xdg / "xdg_cache_home" / "qmpshell" / name
    path.write_text(path.read_text().replace('"blockdev-add"', '"blockdev-gone"'))
    connection = Connection(parse_address(daemon.socket), Settings(), log=None, on_event=lambda event: None)
    try:
        connection.load_knowledge()
        cached = connection.shell.knowledge
        assert isinstance(cached, SchemaKnowledge) and cached.cache_path == str(path)
        assert "blockdev-add" not in cached.index.commands
        assert connection.confirm_schema()
        fresh = connection.shell.knowledge
        assert isinstance(fresh, SchemaKnowledge) and "blockdev-add" in fresh.index.commands
        assert any("was not this server's" in warning for warning in connection.shell.warnings.drain())
        assert '"blockdev-add"' in path.read_text()
        connection.load_knowledge()  # the same server: kept
        assert connection.shell.knowledge is fresh
    finally:
        connection.close()


def test_a_cached_schema_that_is_the_servers_is_confirmed(daemon: Server, private_xdg: Path) -> None:
    assert run_qmpshell(daemon.socket, "-c", "/schema").returncode == 0
    connection = Connection(parse_address(daemon.socket), Settings(), log=None, on_event=lambda event: None)
    try:
        connection.load_knowledge()
        cached = connection.shell.knowledge
        assert isinstance(cached, SchemaKnowledge) and cached.cache_path and not cached.confirmed
        assert not connection.confirm_schema()
        assert connection.shell.knowledge is cached and cached.confirmed
    finally:
        connection.close()


@pytest.mark.parametrize("probe", [True, False], ids=["asked", "quiet-monitor"])
def test_reconnecting_to_another_server_on_the_same_socket_loads_its_schema(
    short_dir: Path, probe: bool
) -> None:
    """The daemon, then the emulator of its build on the same socket: each gets its own schema and
    kind; with ``--quiet-monitor`` too, though nothing is asked (the executable differs)."""
    first = storage_daemon(short_dir, name="same.sock")
    settings = Settings(probe=probe)
    connection = Connection(parse_address(first.socket), settings, log=None, on_event=lambda event: None)
    try:
        if not probe:
            assert connection.status().server == "qemu-storage-daemon"  # its executable, before the schema
        connection.load_knowledge()
        knowledge = connection.shell.knowledge
        assert isinstance(knowledge, SchemaKnowledge) and "device_add" not in knowledge.index.commands
        assert connection.status().server == "qemu-storage-daemon"
        first.stop()
        wait_until(lambda: connection.lost, what="the shell to see the daemon gone")
        second = emulator(short_dir, emulator_of_the_daemons_build(), "same.sock")
        try:
            assert connection.reconnect()
            connection.load_knowledge()
            knowledge = connection.shell.knowledge
            assert isinstance(knowledge, SchemaKnowledge) and "device_add" in knowledge.index.commands
            assert connection.status().server == "QEMU"
            if not probe:
                assert connection.client.server.commands  # the schema's command list, not asked
        finally:
            second.stop()
    finally:
        connection.close()
        first.stop()
