"""Output conventions: colour (NO_COLOR, --color), --json for jq, --version; against a real QEMU.

Colour on a terminal is checked with stdout on a real pseudo-terminal, since
``--color=auto`` means "only when stdout is a terminal".
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from qmpshell import __version__
from tests.qemu_support import Qemu, json_lines, qmpshell_argv, run_qmpshell

ESCAPE = "\x1b["


def run_on_terminal(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run qmpshell with stdout on a pseudo-terminal (stdin empty: batch mode); returns status and output."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        qmpshell_argv(*args), stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.DEVNULL, env=env
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], deadline - time.monotonic())
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(master)
    return process.wait(timeout=30), output.decode("utf-8", "replace").replace("\r\n", "\n")


def environment(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


# -- colour ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "no_color", "coloured"),
    [
        ((), None, True),  # auto on a terminal
        ((), "1", False),  # NO_COLOR turns auto off
        ((), "", True),  # ... but only when not empty (no-color.org)
        (("--color=never",), None, False),
        (("--color=always",), "1", True),  # an explicit option beats NO_COLOR
        (("--color", "auto"), "1", False),
    ],
)
def test_colour_on_a_terminal(
    qemu: Qemu, options: tuple[str, ...], no_color: str | None, coloured: bool
) -> None:
    status, output = run_on_terminal(
        *options, "-c", "query-status", qemu.socket, env=environment(NO_COLOR=no_color)
    )
    assert status == 0
    assert (ESCAPE in output) is coloured, repr(output)
    assert "running" in output


@pytest.mark.parametrize(
    ("options", "coloured"),
    [((), False), (("--color=auto",), False), (("--color=never",), False), (("--color=always",), True)],
)
def test_colour_in_a_pipe(qemu: Qemu, options: tuple[str, ...], coloured: bool) -> None:
    result = run_qmpshell(*options, "-c", "query-status", qemu.socket)
    assert result.returncode == 0, result.stderr
    assert (ESCAPE in result.stdout) is coloured
    if not coloured:
        assert json.loads(result.stdout)["return"]["status"] == "running"


def test_no_colour_on_stderr(qemu: Qemu) -> None:
    result = run_qmpshell("--color=always", "-c", "device_del id=nosuch", qemu.socket)
    assert result.returncode == 1
    assert ESCAPE not in result.stderr
    assert result.stderr.startswith("qmpshell: 1: DeviceNotFound: ")


def test_a_bad_color_value_is_a_usage_error() -> None:
    result = run_qmpshell("--color=sometimes", "--version")
    assert result.returncode == 2
    assert "--color" in result.stderr and "Traceback" not in result.stderr


# -- --json ---------------------------------------------------------------------------------------


def test_json_prints_only_return_values(qemu: Qemu) -> None:
    result = run_qmpshell(
        "--json", "-c", "query-status", "-c", "query-version", "-c", "query-name", qemu.socket
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json_lines(result.stdout) == [
        qemu.aux.execute("query-status"),
        qemu.aux.execute("query-version"),
        {},
    ]
    assert len(result.stdout.splitlines()) == 3


def test_json_sends_errors_to_stderr_with_status_1(qemu: Qemu) -> None:
    result = run_qmpshell(
        "--json", "-c", "query-name", "-c", "device_del id=nosuch", "-c", "stop", qemu.socket
    )
    assert result.returncode == 1
    assert result.stdout == "{}\n"
    assert result.stderr == "qmpshell: 2: DeviceNotFound: Device 'nosuch' not found\n"
    assert qemu.aux.execute("query-status")["status"] == "running"  # the run stopped at the failure


def test_json_keep_going_from_a_pipe(qemu: Qemu) -> None:
    result = run_qmpshell("--json", "-k", qemu.socket, input="device_del id=nosuch\nquery-name\n")
    assert result.returncode == 1
    assert json_lines(result.stdout) == [{}]
    assert "DeviceNotFound" in result.stderr


def test_json_pretty_is_still_valid_json(qemu: Qemu) -> None:
    result = run_qmpshell("--json", "-p", "-c", "query-status", qemu.socket)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "running"
    assert "\n  " in result.stdout


# -- --version ------------------------------------------------------------------------------------


def test_version_alone_needs_no_server() -> None:
    result = run_qmpshell("--version", env=environment(QMP_SOCKET="/nonexistent/qmp.sock"))
    assert (result.returncode, result.stdout, result.stderr) == (0, f"qmpshell {__version__}\n", "")


def test_version_with_a_command_prints_the_servers_too(qemu: Qemu) -> None:
    version = qemu.aux.execute("query-version")
    numbers = version["qemu"]
    result = run_qmpshell("--version", "-c", "query-status", qemu.socket)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first == f"qmpshell {__version__}"
    assert second.startswith(f"QEMU {numbers['major']}.{numbers['minor']}.{numbers['micro']}")
    assert version["package"].strip() in second


def test_version_with_a_command_and_no_server(short_dir: Path) -> None:
    result = run_qmpshell("--version", "-c", "query-status", str(short_dir / "absent.sock"))
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.startswith("qmpshell: ") and "Traceback" not in result.stderr
