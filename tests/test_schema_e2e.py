"""Schema intelligence against a real QEMU: typed values, hints, warnings, cache, live values."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from qmpshell.protocol.address import parse_address
from qmpshell.protocol.client import Client
from qmpshell.repl.completer import ShellCompleter
from qmpshell.schema.knowledge import SchemaKnowledge, knowledge_for
from qmpshell.schema.live import LiveItem, LiveValues, source_for
from qmpshell.schema.suggestions import LiveQuery
from tests.qemu_support import (
    BACKPORTS_QEMU,
    SYSTEM_QEMU,
    Qemu,
    json_lines,
    run_qmpshell,
    wait_until,
)


def sent_commands(logfile: Path) -> list[str]:
    """The ``execute`` names the shell sent, from its --logfile (whatever each line's layout)."""
    names = []
    for line in logfile.read_text().splitlines():
        if '"execute"' in line and "query-qmp-schema" in line:
            names.append("query-qmp-schema")
        elif '"execute"' in line:
            names.append("other")
    return names


def test_a_str_argument_reaches_hmp_as_text(qemu: Qemu) -> None:
    # 123 as an integer would be refused by QEMU ("Invalid parameter type ..., expected: string")
    result = run_qmpshell(qemu.socket, "-c", "human-monitor-command command-line=123")
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [{"return": "unknown command: '123'\r\n"}]


def test_size_suffix_creates_a_one_mebibyte_node(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-c", "blockdev-add driver=null-co node-name=n0 size=1M")
    assert result.returncode == 0, result.stderr
    nodes = qemu.aux.execute("query-named-block-nodes", flat=True)
    assert [(n["node-name"], n["image"]["virtual-size"]) for n in nodes] == [("n0", 1024 * 1024)]


def test_unknown_command_is_refused_before_sending(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "log"
    result = run_qmpshell(qemu.socket, "-l", str(log), "-c", "quer-status verbose=true")
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 1: unknown command 'quer-status'; did you mean query-status?\n"
    assert "quer-status" not in log.read_text()


def test_an_unknown_command_without_arguments_is_explained_when_refused(qemu: Qemu, tmp_path: Path) -> None:
    """Without arguments the line is sent before the schema is read (a one-shot stays fast);
    QEMU's CommandNotFound then gets the parser's message and status."""
    log = tmp_path / "log"
    result = run_qmpshell(qemu.socket, "-l", str(log), "-c", "quer-status")
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 1: unknown command 'quer-status'; did you mean query-status?\n"
    assert result.stdout == ""
    # capabilities, the line, query-commands (the cache key), schema
    assert sent_commands(log) == ["other", "other", "other", "query-qmp-schema"]


def test_a_line_without_arguments_does_not_read_the_schema(
    qemu: Qemu, tmp_path: Path, private_xdg: Path
) -> None:
    log = tmp_path / "log"
    result = run_qmpshell(qemu.socket, "-l", str(log), "-c", "query-status", "-c", "query-name")
    assert result.returncode == 0, result.stderr
    assert sent_commands(log) == ["other", "other", "other"]
    assert not (private_xdg / "xdg_cache_home" / "qmpshell").exists()


def test_parameter_errors_get_hints(qemu: Qemu) -> None:
    qemu.aux.execute("blockdev-add", driver="null-co", **{"node-name": "n0"})
    raw = '{"execute": "block_resize", "arguments": {"node-name": "n0", "size": 2097152, "sise": 3}}'
    unexpected = run_qmpshell(qemu.socket, "-c", raw)  # raw JSON is sent as written: QEMU refuses it
    assert unexpected.returncode == 1
    assert "Parameter 'sise' is unexpected (did you mean size?)" in unexpected.stderr
    missing = run_qmpshell(qemu.socket, "-c", "block_resize node-name=n0")
    assert "Parameter 'size' is missing (required: size)" in missing.stderr


def test_deprecated_command_warns_on_stderr(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-k", "-c", "drive-backup device=none target=/nonexistent sync=full")
    assert "qmpshell: 1: warning: drive-backup is deprecated" in result.stderr
    assert json_lines(result.stdout)[0]["error"]["class"] == "GenericError"  # it was still sent


def test_help_from_the_servers_schema(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-c", "/help block_resize")
    assert result.returncode == 0, result.stderr
    assert "    size: int" in result.stdout.splitlines()


def test_the_cache_is_used_on_a_second_run(qemu: Qemu, tmp_path: Path, private_xdg: Path) -> None:
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    assert run_qmpshell(qemu.socket, "-l", str(first), "-c", "qom-list path=/").returncode == 0
    assert run_qmpshell(qemu.socket, "-l", str(second), "-c", "qom-list path=/").returncode == 0
    assert sent_commands(first).count("query-qmp-schema") == 1
    assert sent_commands(second).count("query-qmp-schema") == 0
    cache = private_xdg / "xdg_cache_home" / "qmpshell"
    files = list(cache.iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    # typed values still apply with the cached schema
    result = run_qmpshell(qemu.socket, "-c", "human-monitor-command command-line=123")
    assert json_lines(result.stdout) == [{"return": "unknown command: '123'\r\n"}]


def test_the_cache_keeps_one_file_per_qemu_version(tmp_path: Path, private_xdg: Path) -> None:
    """QEMU 7.2 and 10.0 side by side: each build's schema in its own file, each reused."""
    versions = []
    assert os.access(BACKPORTS_QEMU, os.X_OK), f"no {BACKPORTS_QEMU}: run scripts/setup (it unpacks QEMU 10)"
    for binary in (SYSTEM_QEMU, BACKPORTS_QEMU):
        argv = ["--", binary, "-M", "none", "-nodefaults", "-display", "none"]
        for run, log in enumerate((tmp_path / "a.log", tmp_path / "b.log")):
            result = run_qmpshell("--launch", "-l", str(log), "-c", "qom-list path=/machine", *argv)
            assert result.returncode == 0, result.stderr
            assert sent_commands(log).count("query-qmp-schema") == (1 if run == 0 else 0)
            log.unlink()
        result = run_qmpshell("--launch", "-c", "query-version", *argv)
        qemu = json_lines(result.stdout)[0]["return"]["qemu"]
        versions.append(f"schema-{qemu['major']}.{qemu['minor']}.{qemu['micro']}-")
    files = [path.name for path in (private_xdg / "xdg_cache_home" / "qmpshell").iterdir()]
    assert versions[0] != versions[1] and len(files) == 2
    assert all(sum(name.startswith(version) for name in files) == 1 for version in versions)


def test_a_corrupt_cache_is_reported_once_and_replaced(qemu: Qemu, private_xdg: Path) -> None:
    assert run_qmpshell(qemu.socket, "-c", "/help query-status").returncode == 0
    cache = private_xdg / "xdg_cache_home" / "qmpshell"
    (path,) = cache.iterdir()
    path.write_text("{garbage")
    result = run_qmpshell(qemu.socket, "-c", "human-monitor-command command-line=123")
    assert result.returncode == 0
    assert result.stderr.count("warning: schema cache") == 1
    assert json.loads(path.read_text())["format"] == 1  # fetched again and rewritten
    assert (cache / (path.name + ".corrupt")).read_text() == "{garbage"
    assert "warning" not in run_qmpshell(qemu.socket, "-c", "/help query-status").stderr


def test_no_schema_with_skip_negotiation(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-N", "-c", "qmp_capabilities", "-c", "quer-status")
    assert result.returncode == 1  # sent, and QEMU refused it: the shell guessed instead of checking
    assert "CommandNotFound" in result.stderr


def test_live_values_from_qemu(qemu: Qemu) -> None:
    qemu.aux.execute("blockdev-add", driver="null-co", **{"node-name": "n0"})
    client = Client(parse_address(qemu.socket))
    client.connect()
    try:
        knowledge = knowledge_for(client, use_cache=False)
        assert isinstance(knowledge, SchemaKnowledge)
        live = LiveValues(client.execute)
        nodes = wait_until(lambda: live.lookup(LiveQuery("node-names")), what="node names")
        assert nodes == [LiveItem("n0", "null-co")]
        types = wait_until(lambda: live.lookup(LiveQuery("device-types")), what="device types")
        assert "virtio-blk-pci" in {t.text for t in types} and "device" not in {t.text for t in types}
        props = wait_until(lambda: live.lookup(LiveQuery("device-props", "virtio-blk-pci")), what="props")
        assert "drive" in {p.text for p in props}
        paths = wait_until(lambda: live.lookup(LiveQuery("qom-paths", "/")), what="QOM root")
        assert "/machine/" in {p.text for p in paths}  # it has children: the '/' is there for the next Tab
        deeper = wait_until(lambda: live.lookup(LiveQuery("qom-paths", "/machine/")), what="QOM level two")
        assert "/machine/unattached/" in {p.text for p in deeper}
        assert "/machine/peripheral" in {p.text for p in deeper}  # empty on -M none: no '/'

        live.close()
    finally:
        client.close()


def test_live_completion_of_node_names(qemu: Qemu) -> None:
    client = Client(parse_address(qemu.socket))
    client.connect()
    try:
        knowledge = knowledge_for(client, use_cache=True)
        assert isinstance(knowledge, SchemaKnowledge)
        client.execute("blockdev-add", {"driver": "null-co", "node-name": "n0", "size": 1 << 20})
        source = source_for(knowledge, client.execute)
        completer = ShellCompleter(lambda: source)
        document = Document("block_resize node-name=")

        def names() -> list[str]:
            return [c.text for c in completer.get_completions(document, CompleteEvent())]

        assert wait_until(names, what="node-name completions") == ["n0"]
        assert source.live is not None
        source.live.close()
    finally:
        client.close()
