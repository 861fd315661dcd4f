"""Batch mode with ``--format human``: the views on stdout; JSON output unchanged without it."""

from __future__ import annotations

import json
import os
import re

from tests.qemu_support import Qemu, run_qmpshell

ANSI = re.compile(r"\x1b\[")


def test_default_and_json_output_stay_byte_for_byte(qemu: Qemu) -> None:
    status = qemu.aux.request("query-status")
    version = qemu.aux.request("query-version")
    expected = f"{json.dumps(status)}\n{json.dumps(version)}\n"
    for extra in ([], ["--format", "json"]):
        result = run_qmpshell(qemu.socket, *extra, "-c", "query-status", "-c", "query-version")
        assert (result.returncode, result.stdout, result.stderr) == (0, expected, "")
    only = run_qmpshell(qemu.socket, "--json", "-c", "query-status", "-c", "query-version | json")
    assert only.stdout == f"{json.dumps(status['return'])}\n{json.dumps(version['return'])}\n"


def test_human_format_prints_the_views_without_colour_when_piped(qemu: Qemu) -> None:
    version = qemu.aux.execute("query-version")
    result = run_qmpshell(qemu.socket, "--format", "human", "-c", "query-status", "-c", "query-version")
    assert result.returncode == 0, result.stderr
    numbers = ".".join(str(version["qemu"][part]) for part in ("major", "minor", "micro"))
    assert result.stdout == f"running\nQEMU {numbers} ({version['package'].strip()})\n"
    assert not ANSI.search(result.stdout)
    table = run_qmpshell(qemu.socket, "--format", "table", "-c", "query-status", "-c", "query-version")
    assert table.stdout == result.stdout


def test_human_format_colours_only_when_asked(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "--format", "human", "--color", "always", "-c", "query-status")
    assert ANSI.search(result.stdout)
    assert re.sub(r"\x1b\[[0-9;]*m", "", result.stdout) == "running\n"


def test_human_format_shows_an_error_as_its_view_and_on_stderr(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "--format", "human", "-c", "device_del id=nosuch")
    assert result.returncode == 1
    assert result.stdout == "error: DeviceNotFound: Device 'nosuch' not found\n"
    assert result.stderr == "qmpshell: 1: DeviceNotFound: Device 'nosuch' not found\n"


def test_human_format_error_view_carries_the_hint(qemu: Qemu) -> None:
    line = '{"execute": "device_del", "arguments": {"idd": "x"}}'
    result = run_qmpshell(qemu.socket, "--format", "table", "-c", line)
    assert result.returncode == 1
    assert result.stdout == "error: GenericError: Parameter 'id' is missing\nrequired: id\n"
    assert result.stderr == "qmpshell: 1: GenericError: Parameter 'id' is missing (required: id)\n"


def test_human_format_shows_hmp_text_without_carriage_returns(qemu: Qemu) -> None:
    line = 'human-monitor-command command-line="info status"'
    result = run_qmpshell(qemu.socket, "--format", "human", "-c", line)
    assert (result.returncode, result.stdout, result.stderr) == (0, "VM status: running\n", "")


def test_pipe_json_and_slash_json_show_the_reply_as_json(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "--format", "human", "-c", "query-status | json", "-c", "/json")
    status = qemu.aux.request("query-status")
    pretty = json.dumps(status, indent=2)
    assert result.stdout == f"{pretty}\n{pretty}\n"


def test_format_command_switches_a_script(qemu: Qemu) -> None:
    script = "query-status\n/format auto\nquery-status\n/format json\nquery-status\n"
    result = run_qmpshell(qemu.socket, input=script)
    status = json.dumps(qemu.aux.request("query-status"))
    assert result.stdout == f"{status}\nrunning\n{status}\n"
    bad = run_qmpshell(qemu.socket, "-c", "/format tables")
    assert bad.returncode == 2
    assert "usage: /format [auto|json|compact]" in bad.stderr


def test_human_events_are_compact_lines(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "--format", "human", "--events", "-c", "stop", "-c", "/wait STOP")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()  # QEMU may send STOP before the reply to stop
    assert lines.count("ok") == 1
    events = [line for line in lines if line != "ok"]
    assert len(events) == 1  # with --events, /wait's event is the one already written
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} STOP", line) for line in events)


def test_json_and_human_together_is_a_usage_error() -> None:
    result = run_qmpshell("--json", "--format", "human", "-c", "query-status", "/nonexistent")
    assert result.returncode == 2
    assert result.stderr == (
        "qmpshell: --json prints return values as JSON lines; it does not go with --format human\n"
    )


def test_output_format_is_a_config_key(tmp_path: object) -> None:
    config = os.path.join(os.environ["XDG_CONFIG_HOME"], "qmpshell")
    os.makedirs(config, exist_ok=True)
    with open(os.path.join(config, "config.toml"), "w") as file:
        file.write('[output]\nformat = "compact"\n')
    shown = run_qmpshell("--print-config")
    assert 'format = "compact"' in shown.stdout
    with open(os.path.join(config, "config.toml"), "w") as file:
        file.write('[output]\nformat = "table"\n')
    bad = run_qmpshell("--print-config")
    assert bad.returncode == 2
    assert "config.toml:2: output.format: expected one of auto, json, compact" in bad.stderr
