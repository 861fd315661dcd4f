"""``/job`` against a real QEMU: a failing and a succeeding ``blockdev-create``, ``block-commit``.

One QEMU (``-M none``) serves the module; each test uses node and job names of its own.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from qmpshell.protocol.address import parse_address
from qmpshell.protocol.client import Client
from qmpshell.schema.live import fetch
from qmpshell.schema.suggestions import LiveQuery
from tests.qemu_support import Qemu, log_records, run_qmpshell, wait_until


def file_node(qemu: Qemu, name: str) -> None:
    path = qemu.directory / f"{name}.img"
    path.write_bytes(b"")
    qemu.aux.execute("blockdev-add", driver="file", filename=str(path), **{"node-name": name})


def create(job: str, node: str, extra: str = "") -> str:
    return (
        f"/job blockdev-create job-id={job} options.driver=qcow2 options.file={node} options.size=1M {extra}"
    )


def jobs_left(qemu: Qemu) -> list[str]:
    return [job["id"] for job in qemu.aux.execute("query-jobs")]


def test_a_failing_blockdev_create_fails_the_script_with_qemus_error(machine: Qemu, tmp_path: Path) -> None:
    file_node(machine, "bad0")
    log = tmp_path / "qmp.log"
    result = run_qmpshell(
        machine.socket, "-l", str(log), "-c", create("badjob", "bad0", "options.cluster-size=1234")
    )
    assert result.returncode == 1
    error = next(j["error"] for j in _concluded(log) if j["id"] == "badjob")
    assert result.stderr.strip().endswith(f"job badjob failed: {error}")
    assert "cluster size" in error.lower()
    assert "badjob" not in jobs_left(machine)  # dismissed all the same
    sent = [r["message"].get("execute") for r in log_records(log) if r["direction"] == "sent"]
    assert "job-dismiss" in sent


def _concluded(log: Path) -> list[dict[str, object]]:
    """The jobs of the last query-jobs reply the shell received that shows a concluded job."""
    replies = [
        r["message"]["return"]
        for r in log_records(log)
        if r["direction"] == "received" and isinstance(r["message"].get("return"), list)
    ]
    return next(jobs for jobs in reversed(replies) if any(j.get("status") == "concluded" for j in jobs))


def test_a_succeeding_blockdev_create_reports_and_dismisses(machine: Qemu) -> None:
    file_node(machine, "good0")
    result = run_qmpshell(machine.socket, "-c", create("goodjob", "good0"), "-c", "query-jobs")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "job goodjob (create) concluded without error, dismissed"
    assert "goodjob" not in lines[1]


def test_without_a_job_id_nothing_is_sent(machine: Qemu) -> None:
    result = run_qmpshell(machine.socket, "-c", "/job query-status")
    assert result.returncode == 2
    assert "give the command a job-id=ID" in result.stderr


def chain(qemu: Qemu, top: str) -> None:
    base, image = qemu.directory / f"{top}-base.qcow2", qemu.directory / f"{top}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "4M"], check=True)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(image)], check=True
    )
    arguments = {"node-name": top, "file": {"driver": "file", "filename": str(image)}}
    qemu.aux.execute("blockdev-add", driver="qcow2", **arguments)


def test_block_commit_of_the_active_layer_is_completed_when_asked(machine: Qemu) -> None:
    chain(machine, "act0")
    result = run_qmpshell(machine.socket, "-c", "/job --complete block-commit job-id=cm0 device=act0")
    assert (result.returncode, result.stdout.strip()) == (0, "job cm0 concluded without error"), result.stderr
    assert "cm0" not in jobs_left(machine)


def test_block_commit_left_ready_without_complete(machine: Qemu) -> None:
    chain(machine, "act1")
    result = run_qmpshell(machine.socket, "-c", "/job block-commit job-id=cm1 device=act1")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip() == "job cm1 is ready: complete it with job-complete id=cm1 (or /job --complete)"
    )
    assert jobs_left(machine).count("cm1") == 1
    machine.aux.execute("job-cancel", id="cm1")


def test_a_command_qemu_refuses_is_its_error(machine: Qemu) -> None:
    result = run_qmpshell(machine.socket, "-c", "/job block-commit job-id=cm2 device=nosuchnode")
    assert result.returncode == 1
    assert "nosuchnode" in result.stdout + result.stderr


def test_job_ids_complete_from_query_jobs_as_well_as_block_jobs(machine: Qemu) -> None:
    file_node(machine, "comp0")
    machine.aux.execute(
        "blockdev-create",
        **{"job-id": "create0"},
        options={"driver": "qcow2", "file": "comp0", "size": 1 << 20},
    )
    wait_until(lambda: "concluded" in str(machine.aux.execute("query-jobs")), what="create0 concluded")
    client = Client(parse_address(machine.socket))
    client.connect()
    try:
        ids = {item.text: item.meta for item in fetch(client.execute, LiveQuery("job-ids"), timeout=5)}
    finally:
        client.close()
    assert ids.get("create0") == "create concluded"  # query-block-jobs alone never lists it
    machine.aux.execute("job-dismiss", id="create0")


def test_object_properties_leave_out_the_read_only_type(machine: Qemu) -> None:
    client = Client(parse_address(machine.socket))
    client.connect()
    try:
        names = [
            item.text for item in fetch(client.execute, LiveQuery("object-props", "iothread"), timeout=5)
        ]
    finally:
        client.close()
    assert "poll-max-ns" in names and "type" not in names
