"""--dry-run (-n): every line parsed and typed, its JSON printed one message a line, nothing sent.

Against a real QEMU 7.2 for the typed values and for what reaches the server (read from the
--logfile: the capabilities handshake and the schema query, nothing of the script).
"""

from __future__ import annotations

from pathlib import Path

from tests.inprocess import run_inprocess
from tests.qemu_support import Qemu, json_lines, log_records, run_qmpshell

SCRIPT = """\
query-status
human-monitor-command command-line=123
blockdev-add driver=null-co node-name=n0 size=1M
transaction(
  block-dirty-bitmap-add node=n0 name=bm0
)
{"execute": "query-name", "id": "mine"}
/wait BLOCK_JOB_READY timeout=1
/hmp info status
device_del id=nosuch
"""


def sent(log: Path) -> list[str]:
    """The commands the --logfile says were sent, in order."""
    records = log_records(log)
    return [r["message"].get("execute", "?") for r in records if r["direction"] == "sent"]


def test_without_a_server_values_are_guessed(tmp_path: Path) -> None:
    script = tmp_path / "script.qmp"
    script.write_text(SCRIPT)
    result = run_inprocess("--dry-run", "-f", str(script))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[1] == (
        '{"execute": "human-monitor-command", "arguments": {"command-line": 123}}'
    )
    assert json_lines(result.stdout) == [
        {"execute": "query-status"},
        {"execute": "human-monitor-command", "arguments": {"command-line": 123}},
        {"execute": "blockdev-add", "arguments": {"driver": "null-co", "node-name": "n0", "size": "1M"}},
        {
            "execute": "transaction",
            "arguments": {
                "actions": [{"type": "block-dirty-bitmap-add", "data": {"node": "n0", "name": "bm0"}}]
            },
        },
        {"execute": "query-name", "id": "mine"},
        {"execute": "query-status"},  # /hmp info status: translated, as a real run sends it
        {"execute": "device_del", "arguments": {"id": "nosuch"}},
    ]


def test_with_a_server_values_are_typed_and_nothing_but_the_schema_is_asked(
    qemu: Qemu, tmp_path: Path
) -> None:
    script, log = tmp_path / "script.qmp", tmp_path / "qmp.log"
    script.write_text(SCRIPT)
    result = run_qmpshell("-n", "-l", str(log), "-f", str(script), qemu.socket)
    assert (result.returncode, result.stderr) == (0, "")
    lines = json_lines(result.stdout)
    assert lines[1] == {"execute": "human-monitor-command", "arguments": {"command-line": "123"}}
    assert lines[2]["arguments"]["size"] == 1048576
    assert len(lines) == 7
    # query-commands: the cache key (which server this is); the first run fills the cache
    assert sent(log) == ["qmp_capabilities", "query-commands", "query-qmp-schema"]
    assert qemu.aux.execute("query-named-block-nodes") == []  # the script did not run
    log.unlink()
    again = run_qmpshell("-n", "-l", str(log), "-f", str(script), qemu.socket)
    assert again.stdout == result.stdout
    assert sent(log) == ["qmp_capabilities", "query-commands"]  # the cache has it: the handshake and the key


def test_the_first_line_that_does_not_parse_ends_it_with_status_2(qemu: Qemu) -> None:
    lines = "query-status\nblock_resize node-name=n0 size=big\nquery-name\n"
    result = run_qmpshell("-n", qemu.socket, input=lines)
    assert result.returncode == 2
    assert json_lines(result.stdout) == [{"execute": "query-status"}]
    assert result.stderr == (
        "qmpshell: 2: size: expected an integer (e.g. 42, 0x2a, 4K, 1M), got 'big' (column 32)\n"
        "  block_resize node-name=n0 size=big\n"
        "                                 ^\n"
    )
    unknown = run_qmpshell("-n", qemu.socket, "-c", "quer-status")
    assert unknown.returncode == 2
    assert unknown.stderr == "qmpshell: 1: unknown command 'quer-status'; did you mean query-status?\n"
    unparsed = run_qmpshell("-n", "-c", "query-status", "-c", "device_add driver='e1000")
    assert unparsed.returncode == 2 and unparsed.stdout.count("\n") == 1
    assert "^" in unparsed.stderr


def test_modes_and_cpus_are_followed_and_quit_ends_the_script() -> None:
    lines = "info status\ncpu 1\ninfo registers\n/qmp\nquery-status\n/quit\nquery-name\n"
    result = run_inprocess("--dry-run", "-H", input=lines)
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [
        {"execute": "query-status"},  # info status, translated
        {"execute": "human-monitor-command", "arguments": {"command-line": "info registers", "cpu-index": 1}},
        {"execute": "query-status"},
    ]
    passthrough = run_qmpshell("--dry-run", "-H", "--hmp-via", "passthrough", input="info status\n")
    assert json_lines(passthrough.stdout) == [
        {"execute": "human-monitor-command", "arguments": {"command-line": "info status"}}
    ]


def test_skip_negotiation_connects_to_nothing(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such.sock")  # -N: values are guessed, so the address is not used
    result = run_inprocess("-n", "-N", missing, "-c", "human-monitor-command command-line=123")
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [
        {"execute": "human-monitor-command", "arguments": {"command-line": 123}}
    ]
