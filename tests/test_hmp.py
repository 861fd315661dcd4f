"""HMP lines run over QMP on real servers: state changes seen through a second monitor,
``--hmp-via``, the log, qemu-storage-daemon and the coverage report."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from qmpshell.config import default_config_file
from qmpshell.hmp.coverage import report
from tests.q35_support import start_q35
from tests.qemu_support import Qemu, log_records, run_qmpshell, wait_until
from tests.server_support import storage_daemon_with_a_disk


def hmp(qemu: Qemu, *lines: str, via: str = "qmp") -> subprocess.CompletedProcess[str]:
    argv = [arg for line in lines for arg in ("-c", line)]
    return run_qmpshell(qemu.socket, "-H", "--hmp-via", via, *argv)


def test_stop_and_cont_change_the_run_state(q35: Qemu) -> None:
    result = hmp(q35, "stop")
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr
    assert q35.aux.execute("query-status")["status"] == "paused"
    assert hmp(q35, "c").returncode == 0  # an alias
    assert q35.aux.execute("query-status")["status"] == "running"


def test_device_add_and_del(q35: Qemu) -> None:
    result = hmp(q35, "device_add virtio-net-pci,id=n1,bus=rp1,addr=00.0")
    assert result.returncode == 0, result.stderr
    ids = [d["name"] for d in q35.aux.execute("qom-list", path="/machine/peripheral")]
    assert "n1" in ids
    assert hmp(q35, "device_del n1").returncode == 0


def test_netdev_and_object_add(q35: Qemu) -> None:
    result = hmp(q35, "netdev_add user,id=u1", "object_add memory-backend-ram,id=m1,size=64M")
    assert result.returncode == 0, result.stderr
    memdevs = {m.get("id"): m["size"] for m in q35.aux.execute("query-memdev")}
    assert memdevs["m1"] == 64 << 20
    assert "u1" in hmp(q35, "info network", via="auto").stdout  # passed through: HMP prints it


def test_migration_capability_and_parameter_as_hmp_reads_them(q35: Qemu) -> None:
    lines = ("migrate_set_capability xbzrle on", "migrate_set_parameter max-bandwidth 100")
    assert hmp(q35, *lines).returncode == 0
    capabilities = {c["capability"]: c["state"] for c in q35.aux.execute("query-migrate-capabilities")}
    assert capabilities["xbzrle"] is True
    assert q35.aux.execute("query-migrate-parameters")["max-bandwidth"] == 100 << 20  # MiB/s, as HMP reads it


def test_qom_set_and_system_reset(q35: Qemu) -> None:
    lines = ("object_add iothread,id=io1", "qom-set /objects/io1 poll-max-ns 1234", "system_reset")
    result = hmp(q35, *lines)
    assert result.returncode == 0, result.stderr
    assert q35.aux.execute("qom-get", path="/objects/io1", property="poll-max-ns") == 1234
    wait_until(lambda: any(e["event"] == "RESET" for e in _events(q35)), what="the RESET event")


def _events(qemu: Qemu) -> list[dict[str, object]]:
    qemu.aux.request("query-status")  # the events that came meanwhile are collected while reading its reply
    return qemu.aux.events


def test_values_are_typed_from_the_schema(q35: Qemu) -> None:
    result = run_qmpshell(
        q35.socket, "-H", "-v", "-c", "device_add e1000,id=e9,bus=rp1,addr=00.0,mac=52:54:00:00:00:09"
    )
    sent = json.loads(result.stdout.splitlines()[0])
    assert sent["arguments"]["addr"] == "00.0" and sent["arguments"]["mac"] == "52:54:00:00:00:09"


def test_qmp_via_refuses_what_has_no_equivalent_before_sending(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    result = run_qmpshell(
        qemu.socket, "-H", "--hmp-via", "qmp", "-l", str(log), "-c", "info status", "-c", "info mtree"
    )
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 2: HMP command 'info mtree' has no QMP equivalent on this server\n"
    assert result.stdout == ""  # nothing ran: the script is refused as a whole
    sent = [r["message"].get("execute") for r in log_records(log) if r["direction"] == "sent"]
    assert "human-monitor-command" not in sent and "query-status" not in sent


def test_qmp_via_never_sends_human_monitor_command(q35: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    lines = ("info status", "info pci", "info usb", "stop", "cont", "info cpus", "info block")
    argv = [a for line in lines for a in ("-c", line)]
    result = run_qmpshell(q35.socket, "-H", "--hmp-via", "qmp", "-l", str(log), *argv)
    assert result.returncode == 0, result.stderr
    sent = [r["message"].get("execute") for r in log_records(log) if r["direction"] == "sent"]
    assert "human-monitor-command" not in sent
    assert {"query-status", "query-pci", "x-query-usb", "stop", "cont", "query-cpus-fast"} <= set(sent)


def test_auto_passes_the_rest_through(qemu: Qemu) -> None:
    result = hmp(qemu, "info mtree", via="auto")
    assert result.returncode == 0 and "address-space" in result.stdout


def test_batch_hmp_prints_text_never_json(q35: Qemu) -> None:
    result = hmp(q35, "info pci", "info block", "info migrate_parameters")
    assert result.returncode == 0
    for line in result.stdout.splitlines():
        assert not line.startswith(("{", "[")), line


def test_cpu_is_kept_and_passed(q35: Qemu, tmp_path: Path) -> None:
    result = hmp(q35, "cpu 0", "info cpus")
    assert result.returncode == 0
    assert "* CPU #0:" in result.stdout


@pytest.fixture
def storage_daemon(short_dir: Path) -> Iterator[str]:
    daemon = storage_daemon_with_a_disk(short_dir)
    try:
        yield daemon.socket
    finally:
        daemon.stop()


def test_storage_daemon_through_qmp_alone(storage_daemon: str, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    lines = (
        "info block",
        "block_resize f0 32M",
        "object_add iothread,id=io1",
        "qom-list /objects",
        "quit",
    )
    argv = [a for line in lines for a in ("-c", line)]
    result = run_qmpshell(storage_daemon, "-H", "-l", str(log), *argv)
    assert result.returncode == 0, result.stderr
    assert "f0" in result.stdout and "io1 (child<iothread>)" in result.stdout
    sent = [r["message"] for r in log_records(log) if r["direction"] == "sent"]
    assert {"node-name": "f0", "size": 32 << 20} in [m.get("arguments") for m in sent]
    assert "human-monitor-command" not in [m.get("execute") for m in sent]


def test_storage_daemon_refuses_in_auto(storage_daemon: str) -> None:
    result = run_qmpshell(storage_daemon, "-H", "-c", "info mtree")
    assert (result.returncode, result.stderr) == (
        2,
        "qmpshell: 1: HMP command 'info mtree' has no QMP equivalent on this server\n",
    )


def test_coverage_without_a_server_counts_what_qmpshell_translates() -> None:
    result = run_qmpshell("--hmp-coverage")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines == report(None)
    assert "block_resize\tqmp\tblock_resize,query-block" in lines
    assert "cpu\tqmp\t-" in lines and "info history\tqmp\t-" in lines
    assert "info mtree\tpassthrough" in lines


def test_coverage_of_q35_meets_the_goals(q35: Qemu) -> None:
    lines = run_qmpshell("--hmp-coverage", q35.socket).stdout.splitlines()
    words = lines[-1].split()
    assert words[:2] == ["hmp", "coverage:"]
    commands, infos = int(words[2]), int(words[7])
    assert commands >= 50 and infos >= 45, lines[-1]
    assert all(len(line.split("\t")) in (2, 3) for line in lines[:-1])
    assert sum(1 for line in lines[:-1] if not line.startswith("info ")) == int(words[4])


def test_coverage_of_the_storage_daemon_has_nothing_passed_through(storage_daemon: str) -> None:
    lines = run_qmpshell("--hmp-coverage", storage_daemon).stdout.splitlines()
    assert not [line for line in lines if line.endswith("\tpassthrough")]
    assert (
        "info mtree\tunavailable" in lines and "info block\tqmp\tquery-block,query-named-block-nodes" in lines
    )


def test_help_in_hmp_mode_says_how_each_command_runs(q35: Qemu) -> None:
    result = run_qmpshell(q35.socket, "-H", "-c", "/help", "-c", "help block_resize")
    assert result.returncode == 0, result.stderr
    assert "info status  " in result.stdout and "[qmp: query-status]" in result.stdout
    assert "info mtree [-f][-d][-o][-D]" in result.stdout and "[passthrough]" in result.stdout
    assert "usage: block_resize device size\nruns: qmp: block_resize, query-block" in result.stdout
    assert "node-name: str, optional" in result.stdout  # the QMP command's own help follows


def test_block_resize_takes_a_node_name_where_there_is_no_drive_name(short_dir: Path) -> None:
    machine = start_q35(short_dir)
    try:
        result = run_qmpshell(machine.socket, "-H", "-c", "block_resize disk1 128M")
        assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr
        nodes = {n["node-name"]: n for n in machine.aux.execute("query-named-block-nodes")}
        assert nodes["disk1"]["image"]["virtual-size"] == 128 << 20
    finally:
        machine.stop()


def test_savevm_loadvm_delvm_run_the_snapshot_jobs(short_dir: Path) -> None:
    machine = start_q35(short_dir)
    try:
        result = run_qmpshell(machine.socket, "-H", "-c", "savevm s1")
        assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr
        listed = machine.aux.execute("human-monitor-command", **{"command-line": "info snapshots"})
        assert "present on all disks" in listed and " s1 " in listed  # HMP sees the snapshot
        result = run_qmpshell(
            machine.socket, "-H", "-c", "loadvm s1", "-c", "delvm s1", "-c", "info snapshots"
        )
        assert (result.returncode, result.stdout) == (0, "ok\nok\nThere is no snapshot available.\n")
        missing = run_qmpshell(machine.socket, "-H", "-c", "loadvm nosuch")
        assert missing.returncode == 1 and "'nosuch' does not exist" in missing.stderr
        assert machine.aux.execute("query-jobs") == []  # the jobs were dismissed
    finally:
        machine.stop()


def test_hmp_via_from_the_config_file_and_the_option_over_it(qemu: Qemu) -> None:
    path = Path(default_config_file())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[hmp]\nvia = "qmp"\n')
    refused = run_qmpshell(qemu.socket, "-H", "-c", "info mtree")
    assert (refused.returncode, refused.stderr) == (
        2,
        "qmpshell: 1: HMP command 'info mtree' has no QMP equivalent on this server\n",
    )
    passed = run_qmpshell(qemu.socket, "-H", "--hmp-via", "auto", "-c", "info mtree")
    assert passed.returncode == 0 and "address-space" in passed.stdout


def test_info_history_lists_the_hmp_lines_of_the_session(qemu: Qemu) -> None:
    result = hmp(qemu, "info status", "info mtree -f", "c", "info history", via="auto")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("0: 'info status'\n1: 'info mtree -f'\n2: 'c'\n3: 'info history'\n")


def test_a_reply_of_an_unexpected_shape_is_shown_as_json(tmp_path: Path) -> None:
    """A server (hostile, or newer) answering query-status with a list: no traceback, the value shown."""
    from tests.fakeserver import Answer, echo_id, handshake
    from tests.test_faults_server import run_against

    commands = ["query-status", "query-block", "block_resize"]
    steps = [*handshake(), Answer(echo_id({"return": ["not", "a", "status"]}))]
    result, _ = run_against(tmp_path, steps, "/hmp info status", server_commands=commands)
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == ["not", "a", "status"]
    qom = ["qom-list", "qom-get"]
    steps = [
        *handshake(),
        Answer(echo_id({"return": "container"})),
        Answer(echo_id({"return": {"x": 1}})),  # qom-list answered with an object
    ]
    (tmp_path / "again").mkdir()
    result, _ = run_against(tmp_path / "again", steps, "/hmp info qom-tree /objects", server_commands=qom)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        "qmpshell: 1: HMP: Error: unexpected reply while translating 'info qom-tree'"
    )
