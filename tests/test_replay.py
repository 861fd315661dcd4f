"""``--replay``, ``--to-script`` and the JSON -> shorthand converter, against real QEMUs (7.2 and 10.0),
QEMU's own documented examples (its qemu-qmp-ref man pages, read on this machine) and a log captured
from a real libvirtd driving a real domain."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from qmpshell.replay.compare import Ignored
from qmpshell.replay.logs import read_log
from tests.libvirt_support import LibvirtHost
from tests.qemu_support import (
    BACKPORTS_QEMU,
    QEMU_ARGV,
    SYSTEM_QEMU,
    Qemu,
    json_lines,
    listening,
    run_qmpshell,
    wait_until,
)

MAN_PAGES = [
    Path("/usr/share/man/man7/qemu-qmp-ref.7.gz"),
    Path(BACKPORTS_QEMU).parent.parent / "usr/share/man/man7/qemu-qmp-ref.7.gz",
]
_TROFF = {"\\(dq": '"', "\\(aq": "'", "\\-": "-", "\\e": "\\", "\\&": "", "\\(ga": "`", "\\(rs": "\\"}


def documented_commands(page: Path) -> list[dict[str, Any]]:
    """Every ``-> {...}`` example of a qemu-qmp-ref man page that is whole JSON (some elide with ...)."""
    text = gzip.decompress(page.read_bytes()).decode("utf-8")
    for escape, char in _TROFF.items():
        text = text.replace(escape, char)
    found = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^\s*->\s*", text, re.M):
        try:
            message, _ = decoder.raw_decode(text, match.end())
        except json.JSONDecodeError:
            continue
        if isinstance(message, dict) and message.get("execute") != "qmp_capabilities":
            found.append(message)
    return found


def _without_id(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "id"}


def _round_trip(tmp_path: Path, commands: list[dict[str, Any]], *address: str) -> list[str]:
    """The script --to-script makes of ``commands``; asserts --dry-run of it gives them back."""
    log = tmp_path / "commands.log"
    log.write_text("".join(f"-> {json.dumps(c)}\n" for c in commands))
    script = run_qmpshell("--to-script", str(log), *address)
    assert (script.returncode, script.stderr) == (0, "")
    (tmp_path / "script.qmp").write_text(script.stdout)
    back = run_qmpshell("--dry-run", "-f", str(tmp_path / "script.qmp"), *address)
    assert (back.returncode, back.stderr) == (0, "")
    assert json_lines(back.stdout) == [_without_id(c) for c in commands]
    return script.stdout.splitlines()


@pytest.mark.parametrize("page", MAN_PAGES, ids=["qemu-7.2-docs", "qemu-10.0-docs"])
def test_qemus_documented_examples_round_trip_without_a_schema(tmp_path: Path, page: Path) -> None:
    commands = documented_commands(page)
    assert len(commands) > 150
    lines = _round_trip(tmp_path, commands)
    shorthand = [line for line in lines if line and not line.startswith("{")]
    assert len(shorthand) > 0.8 * len([line for line in lines if not line.startswith((" ", ")"))])


@pytest.mark.parametrize("page", MAN_PAGES, ids=["qemu-7.2-docs", "qemu-10.0-docs"])
def test_qemus_documented_examples_round_trip_with_the_servers_schema(
    tmp_path: Path, page: Path, qemu: Qemu
) -> None:
    _round_trip(tmp_path, documented_commands(page), qemu.socket)


def test_values_are_written_so_that_no_schema_can_retype_them(tmp_path: Path, qemu: Qemu) -> None:
    commands = [
        {"execute": "qom-get", "arguments": {"path": "on", "property": "1K"}},
        {"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "yes", "size": 1024}},
        {"execute": "human-monitor-command", "arguments": {"command-line": "info status"}},
        {"execute": "query-name", "arguments": {}},
        {"exec-oob": "migrate-pause"},
        {"execute": "x-blockdev-change", "arguments": {"parent": 'a "b"\n', "child": "", "node": "0x10"}},
    ]
    lines = _round_trip(tmp_path, commands, qemu.socket)
    assert lines[:3] == [
        'qom-get path="on" property="1K"',
        'blockdev-add driver=null-co node-name="yes" size=1024',
        'human-monitor-command command-line="info status"',  # not /hmp: that may be translated to QMP
    ]
    assert lines[3].startswith("{") and lines[4].startswith("{")  # no shorthand says these


@pytest.fixture
def other_qemu(short_dir: Path) -> Iterator[str]:
    """The other QEMU generation (7.2 when the suite runs 10.0, and the reverse) on a socket of its own."""
    running = Path(shutil.which("qemu-system-x86_64") or "").resolve()
    binary = BACKPORTS_QEMU if running == Path(SYSTEM_QEMU).resolve() else SYSTEM_QEMU
    socket = str(short_dir / "other.sock")
    argv = [binary, *QEMU_ARGV[1:], "-qmp", f"unix:{socket},server=on,wait=off"]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: listening(socket), what="the other QEMU's socket")
        yield socket
    finally:
        process.kill()
        process.wait(timeout=10)


def _record(tmp_path: Path, qemu: Qemu) -> Path:
    log = tmp_path / "session.log"
    result = run_qmpshell(
        "-l", str(log), "-c", "query-version", "-c", "qom-list path=/", "-c", "query-status", qemu.socket
    )
    assert result.returncode == 0, result.stderr
    return log


def test_a_qmpshell_log_replays_against_the_same_qemu(tmp_path: Path, qemu: Qemu) -> None:
    log = _record(tmp_path, qemu)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(r.get("source") == "schema" for r in records)  # the shell's own questions are marked
    result = run_qmpshell("--replay", str(log), qemu.socket)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert [line.split(": ", 1)[1] for line in lines[:-1]] == [
        "query-version: ok",
        "qom-list: ok",
        "query-status: ok",
    ]
    assert lines[-1] == "3 commands replayed: 3 matched, 0 differed"
    script = run_qmpshell("--replay", str(log), "--dry-run")
    assert script.stdout == "query-version\nqom-list path=/\nquery-status\n"  # not the shell's own traffic


def test_a_log_replays_against_a_qemu_launched_for_it(tmp_path: Path, qemu: Qemu) -> None:
    log = _record(tmp_path, qemu)
    result = run_qmpshell("--replay", str(log), "--launch", "--", *QEMU_ARGV)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[-1] == "3 commands replayed: 3 matched, 0 differed"


def test_a_qmpshell_log_replayed_against_the_other_qemu_version_shows_the_difference(
    tmp_path: Path, qemu: Qemu, other_qemu: str
) -> None:
    log = _record(tmp_path, qemu)
    result = run_qmpshell("--replay", str(log), other_qemu)
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert re.fullmatch(r"\d+: query-version: the reply differs \(\d+ lines\)", first)
    assert "    --- recorded" in result.stdout and re.search(r'^    [-+] +"minor": \d+', result.stdout, re.M)
    assert "differed" in result.stdout.splitlines()[-1]


ARROWS = """Examples as QEMU's documentation writes them:

-> { "execute": "query-name" }
<- { "return": {} }

-> { "execute": "block_resize",
     "arguments": { "device": "nope", "size": 1024 } }
<- { "error": { "class": "GenericError", "desc": "recorded elsewhere" } }

-> { "execute": "stop" }
<- { "timestamp": { "seconds": 1, "microseconds": 2 }, "event": "STOP" }
<- { "return": {} }
-> { "execute": "cont" }
<- { "return": {} }
<- { "timestamp": { "seconds": 3, "microseconds": 4 }, "event": "RESUME" }
"""


def test_arrow_files_replay_with_ignore_and_events(tmp_path: Path, qemu: Qemu) -> None:
    path = tmp_path / "example.txt"
    path.write_text(ARROWS)
    strict = run_qmpshell("--replay", str(path), qemu.socket)
    assert strict.returncode == 1
    assert strict.stdout.splitlines()[1] == "6: block_resize: the reply differs (2 lines)"
    relaxed = run_qmpshell("--replay", str(path), "--ignore", "desc", "--events", qemu.socket)
    assert (relaxed.returncode, relaxed.stderr) == (0, ""), relaxed.stdout
    assert relaxed.stdout.splitlines()[:4] == [
        "3: query-name: ok",
        "6: block_resize: ok",
        "10: stop: ok",
        "13: cont: ok",
    ]
    path.write_text(ARROWS.replace('"RESUME"', '"STOP"'))
    wrong = run_qmpshell("--replay", str(path), "--ignore", "error.desc", "--events", qemu.socket)
    assert wrong.returncode == 1
    assert "13: cont: the events differ (replayed: RESUME)" in wrong.stdout


def test_a_log_that_cannot_be_read_is_exit_2_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    path.write_text('-> { "execute": "query-name" }\n<- { "return": {} }\n-> { "execute": \n')
    result = run_qmpshell("--replay", str(path), "/nonexistent.sock")
    assert result.returncode == 2
    assert result.stderr == f"qmpshell: {path}:3: invalid JSON: Expecting value\n"
    missing = run_qmpshell("--to-script", str(tmp_path / "none"))
    assert (missing.returncode, missing.stderr.startswith("qmpshell: cannot read")) == (2, True)


def test_qmp_shell_logs_one_line_and_indented(tmp_path: Path) -> None:
    command = {"execute": "block_resize", "arguments": {"device": "d", "size": 1}}
    path = tmp_path / "qmp-shell.log"
    path.write_text(
        json.dumps({**command, "return": {}})
        + "\n"
        + json.dumps({"execute": "stop", "error": {"class": "E", "desc": "x"}}, indent=4, sort_keys=True)
        + "\n"
    )
    exchanges = read_log(str(path))
    assert [(e.lineno, e.command, e.reply) for e in exchanges] == [
        (1, command, {"return": {}}),
        (2, {"execute": "stop"}, {"error": {"class": "E", "desc": "x"}}),
    ]


def test_ignore_takes_names_at_any_depth_and_dotted_paths_only_there() -> None:
    reply = {"return": [{"file": "a", "inserted": {"file": "b", "ro": False}}], "id": 4}
    assert Ignored(["file"]).clean(reply) == {"return": [{"inserted": {"ro": False}}]}
    assert Ignored(["inserted.file"]).clean(reply) == {"return": [{"file": "a", "inserted": {"ro": False}}]}
    assert Ignored(["return.file"]).clean(reply) == {"return": [{"inserted": {"file": "b", "ro": False}}]}


@contextmanager
def libvirt_debug_log(host: LibvirtHost, path: Path) -> Iterator[None]:
    """libvirtd's monitor traffic logged to ``path`` (its debug log, set through virt-admin), then its
    logging as it was: the daemon may be shared with other test sessions."""
    socket = "" if host.root else f"?socket={host.run_dir}/libvirt/libvirt-admin-sock"
    admin = ["virt-admin", "-c", f"libvirtd:///{'system' if host.root else 'session'}{socket}"]

    def setting(name: str, value: str | None = None) -> str:
        args = [*admin, name] if value is None else [*admin, name, value]
        result = subprocess.run(args, env=host.env, capture_output=True, text=True, timeout=30, check=True)
        return result.stdout.split(":", 1)[1].strip() if ":" in result.stdout else ""

    outputs, filters = setting("daemon-log-outputs"), setting("daemon-log-filters")
    setting("daemon-log-filters", "1:qemu.qemu_monitor")
    setting("daemon-log-outputs", f"1:file:{path}")
    try:
        yield
    finally:
        setting("daemon-log-outputs", outputs)
        setting("daemon-log-filters", filters)


def one_domains_lines(text: str, name: str) -> str:
    """The lines of the monitor that answered with ``name`` (other sessions' domains may share the log)."""
    mon = re.search(rf"QEMU_MONITOR_RECV_REPLY: mon=(\S+) reply=.*\"{re.escape(name)}\"", text)
    assert mon is not None, "the domain's query-name reply is not in libvirt's log"
    return "".join(line for line in text.splitlines(keepends=True) if f"mon={mon.group(1)} " in line)


def test_a_log_from_a_real_libvirtd_driving_a_real_domain(libvirt_host: LibvirtHost, tmp_path: Path) -> None:
    debug = tmp_path / "libvirtd.log"
    with libvirt_debug_log(libvirt_host, debug):
        domain = libvirt_host.define("replayed")
    try:
        with libvirt_debug_log(libvirt_host, debug):
            libvirt_host.virsh("suspend", domain)
            libvirt_host.virsh("resume", domain)
            libvirt_host.virsh("qemu-monitor-command", domain, '{"execute":"query-name"}')
        log = tmp_path / "domain.log"
        log.write_text(one_domains_lines(debug.read_text(), domain))
        commands = [_without_id(e.command) for e in read_log(str(log))]
        names = [c["execute"] for c in commands]
        assert names[-3:] == ["stop", "cont", "query-name"] and len(names) > 20  # the start-up too
        script = run_qmpshell("--to-script", str(log))
        (tmp_path / "script.qmp").write_text(script.stdout)
        back = run_qmpshell("--dry-run", "-f", str(tmp_path / "script.qmp"))
        assert (back.returncode, json_lines(back.stdout)) == (0, commands)
        uri = ["--libvirt-uri", libvirt_host.uri]
        replayed = run_qmpshell("--replay", str(log), *uri, f"libvirt:{domain}", timeout=120)
        lines = replayed.stdout.splitlines()
        assert [line.split(": ", 1)[1] for line in lines[-4:-1]] == ["stop: ok", "cont: ok", "query-name: ok"]
        assert replayed.returncode == (1 if "differed" in lines[-1] and " 0 differed" not in lines[-1] else 0)
    finally:
        libvirt_host.remove(domain)


def test_exec_oob_is_replayed_out_of_band(tmp_path: Path, qemu: Qemu) -> None:
    path = tmp_path / "oob.txt"
    path.write_text(
        '-> {"exec-oob": "migrate-pause", "id": "p"}\n<- {"error": {"class": "GenericError", "desc": "x"}}\n'
    )
    path.write_text(path.read_text().replace('"E"', '"GenericError"'))
    result = run_qmpshell("--replay", str(path), "--ignore", "desc", qemu.socket)
    assert (result.returncode, result.stdout.splitlines()[0]) == (0, "1: migrate-pause: ok")
    log = tmp_path / "sent.log"
    run_qmpshell("-l", str(log), "--replay", str(path), qemu.socket)
    sent = [json.loads(line)["message"] for line in log.read_text().splitlines() if '"sent"' in line]
    assert sent[-1]["exec-oob"] == "migrate-pause"


def test_the_connection_ending_mid_replay_is_exit_3_naming_the_command(tmp_path: Path, qemu: Qemu) -> None:
    path = tmp_path / "quits.txt"
    path.write_text('-> {"execute": "quit"}\n<- {"return": {}}\n-> {"execute": "query-status"}\n')
    result = run_qmpshell("--replay", str(path), qemu.socket)
    assert result.returncode == 3
    assert result.stdout.splitlines() == ["1: quit: ok"]
    assert result.stderr.startswith("qmpshell: 3: query-status: ") and result.stderr.count("\n") == 1


def test_a_real_qmp_shell_wrap_log_replays(tmp_path: Path, qemu: Qemu) -> None:
    """QEMU's qmp-shell-wrap (qemu.qmp, in the test extras) merges each command with its reply, indented
    with -p; its QEMU quits at the end so that the log is flushed."""
    log = tmp_path / "wrap.log"
    wrap = str(Path(sys.executable).parent / "qmp-shell-wrap")
    typed = "query-status\nblock_resize device=nope size=1\nquery-name\nquit\n"
    subprocess.run(
        [wrap, "-p", "-l", str(log), "--", *QEMU_ARGV],
        input=typed,
        text=True,
        cwd=tmp_path,
        timeout=60,
        capture_output=True,
    )
    assert [e.command["execute"] for e in read_log(str(log))] == [
        "query-status",
        "block_resize",
        "query-name",
        "quit",
    ]
    result = run_qmpshell("--replay", str(log), "--ignore", "desc", qemu.socket)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    assert result.stdout.splitlines()[-1] == "4 commands replayed: 4 matched, 0 differed"


IOTEST_OUT = """QA output created by 999

=== Creating a node and a bitmap ===

{"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "n0", "size": 1048576}}
{"return": {}}
{"execute": "block-dirty-bitmap-add", "arguments": {"name": "b0", "node": "n0"}}
{"return": {}}
{"execute": "block-dirty-bitmap-add", "arguments": {"name": "b0", "node": "n0"}}
{"error": {"class": "GenericError", "desc": "Bitmap already exists: b0"}}
*** done
"""


def test_an_iotests_out_file_replays(tmp_path: Path, qemu: Qemu) -> None:
    path = tmp_path / "999.out"
    path.write_text(IOTEST_OUT)
    result = run_qmpshell("--replay", str(path), qemu.socket)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    assert [line.split(": ")[1] for line in result.stdout.splitlines()[:3]] == [
        "blockdev-add",
        "block-dirty-bitmap-add",
        "block-dirty-bitmap-add",
    ]
    script = run_qmpshell("--to-script", str(path)).stdout.splitlines()
    assert script[0] == "blockdev-add driver=null-co node-name=n0 size=1048576"
    assert script[2].startswith('{"execute": "block-dirty-bitmap-add"')  # it failed when recorded: as sent


def test_a_reader_that_goes_away_ends_to_script_quietly(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    path.write_text('-> {"execute": "query-status"}\n' * 50_000)
    pipeline = subprocess.run(
        f"{sys.executable} -m qmpshell --to-script {path} | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (pipeline.returncode, pipeline.stdout, pipeline.stderr) == (0, "query-status\n", "")
