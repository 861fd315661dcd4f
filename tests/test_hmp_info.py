"""Each translated ``info`` subcommand against HMP's own output on the same QEMU (q35, paused).

One machine serves the module: every line runs twice, once through qmpshell's
translation (a ``Shell`` with ``--hmp-via qmp``, in-process; one line also
through the command line) and once through QEMU's own HMP on the second
monitor, and the facts (ids, names, file names, numbers, states) must agree.
How the facts are compared depends on the subcommand: the same text, the same
error, the same ``key: value`` pairs, or tokens picked out of HMP's text.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from qmpshell.errors import UsageError
from qmpshell.hmp.info import INFO
from qmpshell.outcomes import HmpOutput
from qmpshell.protocol.address import parse_address
from qmpshell.protocol.events import EventLog
from qmpshell.protocol.session import make_client
from qmpshell.shell import Shell
from tests.q35_support import make_images, q35_argv
from tests.qemu_support import Qemu, run_qmpshell

VIRTIO = "/machine/peripheral/vblk0/virtio-backend"
ARGS = {  # subcommands that need arguments: ones this machine can answer
    "rocker": "r0",
    "rocker-ports": "r0",
    "rocker-of-dpa-flows": "r0",
    "rocker-of-dpa-groups": "r0",
    "stats": "vm",
    "virtio-status": VIRTIO,
    "virtio-queue-status": f"{VIRTIO} 0",
    "virtio-vhost-queue-status": f"{VIRTIO} 0",
    "virtio-queue-element": f"{VIRTIO} 0",
    "trace-events": "qmp_*",
}


@pytest.fixture(scope="module")
def shell(machine: Qemu) -> Iterator[Shell]:
    client = make_client(parse_address(str(machine.directory / "shell.sock")))
    client.connect()
    yield Shell(client, EventLog(), hmp=True, hmp_via="qmp")
    client.close()


@pytest.fixture(scope="module")
def machine() -> Iterator[Qemu]:
    directory = Path(tempfile.mkdtemp(prefix="hmp", dir="/tmp"))
    make_images(directory)  # a third monitor for the in-process shell; the first stays for the CLI
    third = f"unix:{directory / 'shell.sock'},server=on,wait=off"
    qemu = Qemu(directory, *q35_argv(directory), "-qmp", third)
    try:
        yield qemu
    finally:
        qemu.stop()
        shutil.rmtree(directory, ignore_errors=True)


def hmp_output(qemu: Qemu, line: str) -> str:
    reply = qemu.aux.request("human-monitor-command", **{"command-line": line})
    return str(reply.get("return", reply))


def same_text(hmp: str, ours: str) -> None:
    def rows(text: str) -> list[str]:
        return [row.rstrip() for row in text.strip().splitlines()]

    assert rows(ours) == rows(hmp)


def labels(hmp: str, ours: str) -> None:
    """``label: ...`` per line (``info chardev``): the same labels."""
    pick = re.compile(r"^(\S+):", re.M)
    assert set(pick.findall(ours)) == set(pick.findall(hmp)) != set()


def pairs_agree(hmp: str, ours: str) -> None:
    """``key: value`` lines: every key both print has the same first word of value (units dropped)."""

    def pairs(text: str) -> dict[str, str]:
        found = re.findall(r"^\s*([\w -]+?):\s+(\S+)", text, re.M)
        return {_key(key): "" if value == "(null)" else value.strip("'\"") for key, value in found}

    theirs, mine = pairs(hmp), pairs(ours)
    common = set(theirs) & set(mine)
    assert len(common) >= 2, (theirs, mine)
    assert {k: theirs[k] for k in common} == {k: mine[k] for k in common}


def _key(text: str) -> str:
    return text.strip().lower().replace("_", "-").replace(" ", "-")


def tokens(pattern: str) -> Callable[[str, str], None]:
    """Every fact ``pattern`` finds in HMP's text is in ours."""

    def check(hmp: str, ours: str) -> None:
        found = re.findall(pattern, hmp, re.M)
        facts = {part for match in found for part in ((match,) if isinstance(match, str) else match) if part}
        assert facts, f"no facts found in HMP's output: {hmp!r}"
        assert {fact for fact in facts if fact not in ours} == set()

    return check


def both_empty(hmp: str, ours: str) -> None:
    assert hmp.strip() == ours.strip() == ""


COMPARE: dict[str, Callable[[str, str], None]] = {
    "block": tokens(r"^(\S+): |(/tmp/\S+)|Attached to:\s+(\S+)"),
    "chardev": labels,
    "dirty_rate": tokens(r"^(?:Status|Mode): (\S+)"),
    "hotpluggable-cpus": tokens(r'(?:type|qom_path|core-id): "([^"]+)"'),
    "jit": tokens(r"^(TB count|gen code size|TB flush count)"),
    "memdev": tokens(r"memory backend: (\S+)|size:\s+(\d+)"),
    "migrate": tokens(r"^Migration status: (\S+)|^(globals):"),
    "migrate_parameters": pairs_agree,
    "pci": tokens(r'id "(\w+)"|PCI device ([0-9a-f]{4}:[0-9a-f]{4})'),
    "qdm": tokens(r'^name "([^"]+)"'),
    "stats": both_empty,
    "virtio-status": pairs_agree,
    "virtio-queue-status": pairs_agree,
}
ERRORS = {"balloon", "sgx", "vm-generation-id", "rocker", "rocker-ports", "rocker-of-dpa-flows",
          "rocker-of-dpa-groups", "virtio-vhost-queue-status", "virtio-queue-element", "profile"}  # fmt: skip
# migrate: qmpshell's view says "no migration has been started" where HMP lists its globals
MIGRATE_GLOBALS = "no migration has been started"


def qmp_names(qemu: Qemu) -> set[str]:
    return {command["name"] for command in qemu.aux.execute("query-commands")}


def hmp_names(qemu: Qemu) -> set[str]:
    return {row.split()[1] for row in hmp_output(qemu, "info").splitlines() if row.startswith("info ")}


class Ran(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def translated(shell: Shell, line: str) -> Ran:
    """The line run in-process as ``qmpshell -H --hmp-via qmp -c LINE`` runs it (0.2 s less each)."""
    try:
        outcome = shell.run(shell.parse(line))  # type: ignore[arg-type]
    except UsageError as err:
        return Ran(2, "", f"qmpshell: 1: {err}\n")
    assert isinstance(outcome, HmpOutput)
    return Ran(1, "", f"qmpshell: 1: HMP: {outcome.text}") if outcome.error else Ran(0, outcome.text, "")


@pytest.mark.parametrize("name", sorted(INFO))
def test_translated_info_has_the_facts_of_hmp(machine: Qemu, shell: Shell, name: str) -> None:
    if INFO[name].qmp[0] not in qmp_names(machine):  # e.g. info pic before QEMU 8.2: not faked
        result = translated(shell, f"info {name}")
        message = f"qmpshell: 1: HMP command 'info {name}' has no QMP equivalent on this server\n"
        assert (result.returncode, result.stderr) == (2, message)
        return
    line = f"info {name} {ARGS.get(name, '')}".strip()
    result = translated(shell, line)
    hmp = hmp_output(machine, line)
    if name in ERRORS:
        assert result.returncode == 1 and result.stdout == "", result
        assert hmp.strip().removeprefix("Error: ") in result.stderr
        return
    assert result.returncode == 0, result.stderr
    if name == "migrate" and MIGRATE_GLOBALS in result.stdout:
        assert "Migration status" not in hmp
        return
    COMPARE.get(name, same_text)(hmp, result.stdout)


def test_one_line_through_the_command_line(machine: Qemu) -> None:
    result = run_qmpshell(machine.socket, "-H", "--hmp-via", "qmp", "-c", "info status")
    expected = hmp_output(machine, "info status").replace("\r\n", "\n")
    assert (result.returncode, result.stdout) == (0, expected)
