"""``savevm``, ``loadvm`` and ``delvm`` as the QMP snapshot jobs (``snapshot-save`` and friends).

HMP picks the disks itself: every writable qcow2 node gets the snapshot and
the first one also holds the VM state.  The jobs run in the background in QMP;
HMP's commands return when they are done, so the translation waits for the
job to conclude (polling ``query-jobs`` up to a deadline), reports its error
if it has one, and dismisses it.
"""

from __future__ import annotations

import time

from qmpshell.errors import CommandFailed
from qmpshell.hmp.plan import Context, Plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

JOB_DEADLINE = 300.0  # seconds: a snapshot of a large guest takes a while


def _snapshot_nodes(ctx: Context) -> list[str]:
    nodes = ctx.ask("query-named-block-nodes", {"flat": True}) or []
    return [
        n["node-name"] for n in nodes if n.get("drv") == "qcow2" and not n.get("ro") and n.get("node-name")
    ]


def _run_job(ctx: Context, command: str, arguments: dict[str, Any]) -> None:
    """Start the job, wait until it concludes, dismiss it; CommandFailed with its error if it failed."""
    job_id = f"hmp-{command}-{time.monotonic_ns()}"
    ctx.ask(command, {"job-id": job_id, **arguments})
    deadline, pause = time.monotonic() + JOB_DEADLINE, 0.005
    while True:
        job = next((j for j in ctx.ask("query-jobs") or [] if j.get("id") == job_id), None)
        if job is None or job.get("status") == "concluded":
            break
        if time.monotonic() > deadline:
            raise CommandFailed(f"{command}: job {job_id} still running after {JOB_DEADLINE:g} s")
        time.sleep(pause)  # a job has no reply to wait for; its events may go to another monitor
        pause = min(pause * 2, 0.2)
    if job is not None:
        ctx.ask("job-dismiss", {"id": job_id})
        if job.get("error"):
            raise CommandFailed(f"Error: {job['error']}")


def _savevm(args: dict[str, Any], ctx: Context) -> Plan:
    nodes = _snapshot_nodes(ctx)
    if not nodes:
        raise CommandFailed("Error: no writable qcow2 disk can hold a snapshot")
    tag = args.get("name") or time.strftime("vm-%Y%m%d%H%M%S")
    _run_job(ctx, "snapshot-save", {"tag": tag, "vmstate": nodes[0], "devices": nodes})
    return Plan([])


def _loadvm(args: dict[str, Any], ctx: Context) -> Plan:
    nodes = _snapshot_nodes(ctx)
    _run_job(
        ctx, "snapshot-load", {"tag": args["name"], "vmstate": nodes[0] if nodes else "", "devices": nodes}
    )
    return Plan([])


def _delvm(args: dict[str, Any], ctx: Context) -> Plan:
    _run_job(ctx, "snapshot-delete", {"tag": args["name"], "devices": _snapshot_nodes(ctx)})
    return Plan([])


BUILDERS = {"savevm": _savevm, "loadvm": _loadvm, "delvm": _delvm}  # the QMP they send: commands.py
