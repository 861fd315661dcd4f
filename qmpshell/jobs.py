"""``/job LINE``: run a job-starting command and follow the job until it ends.

QEMU reports a job's failure only in ``query-jobs`` (its ``error`` member) or, for
block jobs that dismiss themselves, in ``BLOCK_JOB_COMPLETED``'s ``error``: a script
that waits for ``status=concluded`` and dismisses the job sees ``ok`` throughout.
``/job`` follows the job's ``JOB_STATUS_CHANGE`` events and its progress, completes
it when ``ready`` if asked (``--complete``), dismisses it when concluded, and raises
``CommandFailed`` with QEMU's error text when the job failed (exit 1 in batch).
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.errors import CommandFailed, UsageError
from qmpshell.language.parse import parse_statement
from qmpshell.language.requests import QmpRequest
from qmpshell.language.untyped import ArgumentTyper
from qmpshell.outcomes import Info, Outcome, Reply
from qmpshell.protocol import events as event_log
from qmpshell.protocol import traffic
from qmpshell.protocol.events import EventLog, WaitInterrupted
from qmpshell.protocol.pending import Cancelled, QmpError
from qmpshell.protocol.session import QmpSession
from qmpshell.qmptypes import Message
from qmpshell.records import NamedTuple, Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

USAGE = "usage: /job [--complete] COMMAND ARGUMENTS (a job-starting command such as blockdev-create)"
POLL = 0.25  # seconds between looks at query-jobs while no status event comes
ENDS = frozenset({"concluded", "null"})


class JobRun(NamedTuple):
    """What ``follow`` needs: the connection, its events, a way to show progress, a timeout."""

    execute: Callable[..., Any]  # the client's, marked as the shell's own traffic
    events: EventLog
    progress: Callable[[str], None]
    timeout: float | None


class JobShell(Protocol):
    """What ``run_job`` needs of the ``Shell``: send the command as the user's, and its connection."""

    client: QmpSession
    events: EventLog
    timeout: float | None

    def start(self, request: QmpRequest, *, announce: bool = True) -> Any: ...  # a shell.Started

    def finish(self, started: Any) -> Outcome: ...

    def progress(self, text: str) -> None: ...


def run_job(shell: JobShell, rest: str, typer: ArgumentTyper | None) -> Outcome:
    """``/job [--complete] LINE``: the error reply, or how the job ended (CommandFailed: it failed)."""
    complete, line = split_line(rest)
    job = parse_statement(line, typer=typer)
    if not isinstance(job, QmpRequest):
        raise UsageError(USAGE)
    job_id = job_id_of(job.message)
    since = event_log.position(shell.events)
    started = shell.start(job)
    assert started is not None  # a QmpRequest is one message
    outcome = shell.finish(started)
    if isinstance(outcome, Reply) and not outcome.ok:
        return outcome
    shell.client.listen_for_events()
    execute = traffic.marked(shell.client.execute, traffic.JOB)
    run = JobRun(execute, shell.events, shell.progress, shell.timeout)
    try:
        finalize = not manual_finalize(job.message)
        return Info(follow(run, job_id, complete=complete, since=since, finalize=finalize))
    except WaitInterrupted as stop:
        if shell.client.lost is not None:
            raise shell.client.lost from None
        raise Cancelled(f"{stop} for job {job_id} (it goes on; query-jobs shows it)") from None


def split_line(rest: str) -> tuple[bool, str]:
    """``(complete, LINE)`` from what follows ``/job``."""
    text = rest.strip()
    complete = text == "--complete" or text.startswith("--complete ")
    line = text.removeprefix("--complete").strip() if complete else text
    if not line or line.startswith("-"):
        raise UsageError(USAGE)
    return complete, line


def job_id_of(message: Message) -> str:
    """The ``job-id`` the command names; block jobs without one take their ``device`` name."""
    arguments = message.get("arguments") or {}
    for key in ("job-id", "device"):
        if isinstance(arguments.get(key), str) and arguments[key]:
            return str(arguments[key])
    raise UsageError("/job: give the command a job-id=ID, so that the shell can follow the job")


def manual_finalize(message: Message) -> bool:
    """The command asked for ``auto-finalize: false``: the job waits in ``pending`` for the user."""
    return (message.get("arguments") or {}).get("auto-finalize") is False


def follow(run: JobRun, job_id: str, *, complete: bool, since: int, finalize: bool = True) -> str:
    """Follow job ``job_id`` to its end; the sentence to print, or CommandFailed with QEMU's error."""
    last_status = ""
    while True:
        job = _query(run, job_id)
        status = str(job.get("status", "")) if job is not None else "null"
        if job is not None:
            run.progress(_progress_line(job_id, job))
        if status == "ready" and complete and last_status != "ready":
            run.execute("job-complete", {"id": job_id}, timeout=run.timeout)
        elif status == "ready" and not complete:
            return f"job {job_id} is ready: complete it with job-complete id={job_id} (or /job --complete)"
        elif status == "pending" and not finalize:
            return f"job {job_id} is pending: finalize it with job-finalize id={job_id}"
        if status in ENDS:
            return _ended(run, job_id, job, since)
        last_status = status
        seen = event_log.position(run.events)
        event_log.wait_from(run.events, seen, _is_about(job_id), POLL, take=False)


def _query(run: JobRun, job_id: str) -> Message | None:
    jobs = run.execute("query-jobs", timeout=run.timeout) or []
    return next((job for job in jobs if isinstance(job, dict) and job.get("id") == job_id), None)


def _progress_line(job_id: str, job: Message) -> str:
    done, total = job.get("current-progress"), job.get("total-progress")
    share = ""
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        share = f" {100 * done / total:.0f}%"
    return f"job {job_id} ({job.get('type', '?')}): {job.get('status', '?')}{share}"


def _is_about(job_id: str) -> Callable[[Message], bool]:
    def matches(event: Message) -> bool:
        data = event.get("data") or {}
        return isinstance(data, dict) and job_id in (data.get("id"), data.get("device"))

    return matches


def _ended(run: JobRun, job_id: str, job: Message | None, since: int) -> str:
    """Dismiss a concluded job and say how it ended; a job gone already left its end in an event."""
    error: Any = job.get("error") if job is not None else _event_error(run.events, job_id, since)
    if job is not None:  # query-jobs does not say auto-dismiss: a job still listed waits for it
        try:
            run.execute("job-dismiss", {"id": job_id}, timeout=run.timeout)
        except QmpError:
            pass  # dismissed meanwhile by someone else: the outcome stands
    if error:
        raise CommandFailed(f"job {job_id} failed: {error}")
    kind = f" ({job.get('type')})" if job is not None and job.get("type") else ""
    return f"job {job_id}{kind} concluded without error" + (", dismissed" if job is not None else "")


def _event_error(events: EventLog, job_id: str, since: int) -> Any:
    """A block job's end as its ``BLOCK_JOB_COMPLETED`` or ``BLOCK_JOB_CANCELLED`` event told it."""
    for event in event_log.events_from(events, since):
        data = event.get("data") or {}
        if not isinstance(data, dict) or data.get("device") != job_id:
            continue
        if event.get("event") == "BLOCK_JOB_CANCELLED":
            return "cancelled"
        if event.get("event") == "BLOCK_JOB_COMPLETED":
            return data.get("error")
    return None
