"""Addresses: a real QEMU listening on IPv6 ``::1`` reached as ``[::1]:PORT`` everywhere an address
is taken (W1), and one socket spelled several ways run once (W6)."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.qemu_support import (
    QEMU_ARGV,
    Qemu,
    json_lines,
    qmpshell_argv,
    run_qmpshell,
    status_return,
    wait_until,
)
from tests.tmux_support import shell_env, start_qmpshell


class Ipv6Qemu:
    """``qemu-system-x86_64 -M none`` whose one QMP monitor listens on TCP ``[::1]:PORT``."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_ipv6_port()
        self.address = f"[::1]:{self.port}"
        # -qmp tcp:[::1]:PORT is cut at the first colon by QEMU's legacy parser: the chardev form it is
        monitor = f"socket,id=mon6,host=::1,port={self.port},ipv4=off,ipv6=on,server=on,wait=off"
        argv = [*QEMU_ARGV, "-chardev", monitor, "-mon", "chardev=mon6,mode=control"]
        self.stderr_path = directory / "qemu6.stderr"
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=stderr)
        wait_until(self._listening, what="QEMU listening on [::1]")

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"QEMU exited: {self.stderr_path.read_text()}")
        wanted = f":{self.port:04X} "
        with open("/proc/net/tcp6") as table:  # read, not probed: a probe would use QEMU's one client
            return any(wanted in row.split(None, 4)[1] + " " and row.split()[3] == "0A" for row in table)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def _free_ipv6_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
        probe.bind(("::1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def qemu6(short_dir: Path) -> Iterator[Ipv6Qemu]:
    machine = Ipv6Qemu(short_dir)
    try:
        yield machine
    finally:
        machine.stop()


RUNNING = status_return("running", running=True)


def test_batch_reaches_a_qemu_on_ipv6_loopback(qemu6: Ipv6Qemu) -> None:
    result = run_qmpshell("--json", "-c", "query-status", qemu6.address)
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [RUNNING]


def test_qmp_socket_variable_holds_an_ipv6_address(qemu6: Ipv6Qemu, private_xdg: Path) -> None:
    env = {**os.environ, "QMP_SOCKET": qemu6.address}
    result = run_qmpshell("--json", "-c", "query-status", env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [RUNNING]


def test_config_address_holds_an_ipv6_address(qemu6: Ipv6Qemu, private_xdg: Path) -> None:
    config = private_xdg / "xdg_config_home" / "qmpshell" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[connection]\naddress = "{qemu6.address}"\n')
    result = run_qmpshell("--json", "-c", "query-status", env=dict(os.environ))
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [RUNNING]


def test_dry_run_reads_the_schema_of_a_qemu_on_ipv6(qemu6: Ipv6Qemu) -> None:
    result = run_qmpshell("--dry-run", "-c", "query-status", "-c", "nosuch-command", qemu6.address)
    assert result.returncode == 2, result.stderr
    assert "several targets" not in result.stderr and "no file matches" not in result.stderr
    assert "nosuch-command" in result.stderr  # checked against the server's schema: it knows no such command


def test_the_full_screen_connects_to_a_qemu_on_ipv6(qemu6: Ipv6Qemu, tmp_path: Path) -> None:
    tmux = start_qmpshell(tmp_path, qemu6.address)
    try:
        tmux.enter("query-status")
        tmux.wait_for("running")
        assert "[::1]" in tmux.screen()
    finally:
        tmux.close()


def test_one_socket_spelled_three_ways_runs_once(qemu: Qemu, tmp_path: Path) -> None:
    directory = Path(qemu.socket).parent
    link = directory / "link.sock"
    link.symlink_to(qemu.socket)
    spellings = ["./qmp.sock", "/" + qemu.socket, str(link), qemu.socket]
    result = subprocess.run(
        qmpshell_argv("--json", "-c", "query-status", *spellings),
        cwd=directory, capture_output=True, text=True, timeout=60,
        env={**os.environ, **shell_env(tmp_path)},
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [{"target": "./qmp.sock", "return": RUNNING}]  # the first spelling
