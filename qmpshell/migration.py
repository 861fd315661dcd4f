"""``/migrate SRC DST [URI]``: a whole migration between two targets, checked as QEMU's tests check it.

The steps a developer types by hand, in order: the migration capabilities made
to match (those on at the source, and ``events``, set on both sides, so that
``MIGRATION`` events reach the events pane), ``migrate-incoming`` on the
destination, ``migrate`` on the source, then ``query-migrate`` on the source
until it ends.  The end is checked on both sides: both ``completed``, the source
``postmigrate``, the destination ``running``; anything else is a failure (exit
status 1 in a script).  Without a URI a UNIX socket in a private temporary
directory is used, so both targets must be on this host.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable

from qmpshell.errors import CommandFailed, CommandTimeout, QmpShellError, UsageError
from qmpshell.outcomes import Info
from qmpshell.protocol.pending import Cancelled
from qmpshell.records import NamedTuple
from qmpshell.shell import Shell

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

USAGE = "usage: /migrate SRC DST [URI]"
POLL = 0.1  # seconds between looks at query-migrate
DEFAULT_TIMEOUT = 300.0  # seconds a migration may take when no --timeout is set
ENDED = ("completed", "failed", "cancelled")


class Side(NamedTuple):
    """One end of the migration: its target's name and shell."""

    name: str
    shell: Shell


def parse_migrate(line: str) -> tuple[str, str, str] | None:
    """``/migrate SRC DST [URI]`` -> (SRC, DST, URI or ''); None for a line that is not /migrate."""
    words = line.split()
    if not words or words[0] != "/migrate":
        return None
    if len(words) not in (3, 4):
        raise UsageError(USAGE)
    return words[1], words[2], words[3] if len(words) == 4 else ""


def migrate(
    src: Side,
    dst: Side,
    uri: str = "",
    *,
    timeout: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> Info:
    """Run the migration and check both ends; CommandFailed (with what was seen) if it did not succeed.

    ``progress`` is told each new state while it runs (``src -> dst: active, 12.5 of 128.0 MiB``):
    the status bar shows it, a script's terminal its progress line; it is told '' at the end."""
    if src.shell is dst.shell:
        raise UsageError("/migrate: the source and the destination must be two targets")
    directory = "" if uri else tempfile.mkdtemp(prefix="qmpshell-migrate-")
    uri = uri or f"unix:{os.path.join(directory, 'migrate.sock')}"
    limit = timeout or DEFAULT_TIMEOUT
    try:
        started = time.monotonic()
        capabilities = _match_capabilities(src, dst)
        _run(dst, "migrate-incoming", {"uri": uri})
        _run(src, "migrate", {"uri": uri})
        status, seen, last = _follow(src, dst.name, limit, progress or _quiet)
        lines = [
            f"migration {src.name} -> {dst.name} over {uri}: {status} in {time.monotonic() - started:.1f} s"
        ]
        lines.append(f"{src.name}: {_progress(seen, last)}")
        if capabilities:
            lines.append(f"capabilities on both sides: {', '.join(capabilities)}")
        checks = _check_ends(src, dst, limit)
        lines.extend(text for text, _ in checks)
    finally:
        (progress or _quiet)("")
        if directory:
            _remove(directory)
    text = "\n".join(lines)
    if status != "completed" or not all(ok for _, ok in checks):
        raise CommandFailed(text.replace("\n", "; "))
    return Info(text)


def _run(side: Side, command: str, arguments: dict[str, Any] | None = None) -> Any:
    try:
        return side.shell.client.execute(command, arguments, timeout=side.shell.timeout)
    except QmpShellError as err:
        raise CommandFailed(f"/migrate: {command} on {side.name}: {err}") from None


def _match_capabilities(src: Side, dst: Side) -> list[str]:
    """The capabilities on at the source, and ``events``, set on both sides (they must match)."""
    known = _run(src, "query-migrate-capabilities") or []
    wanted = sorted({str(c["capability"]) for c in known if c.get("state")} | {"events"})
    setting = {"capabilities": [{"capability": name, "state": True} for name in wanted]}
    for side in (src, dst):
        _run(side, "migrate-set-capabilities", setting)
    return wanted


def _quiet(text: str) -> None:
    """No one to tell the progress to."""


def _follow(src: Side, dst: str, limit: float, progress: Callable[[str], None]) -> tuple[str, list[str], Any]:
    """Poll the source's query-migrate until the migration ends: its final status, the statuses it
    went through, and its last reply; each new state to ``progress`` on the way."""
    deadline = time.monotonic() + limit
    seen: list[str] = []
    told = ""
    while True:
        reply = _run(src, "query-migrate") or {}
        status = str(reply.get("status", "none"))
        if not seen or seen[-1] != status:
            seen.append(status)
        now = f"migrating {src.name} -> {dst}: {status}{_amount(reply)}"
        if now != told:
            progress(now)
            told = now
        if status in ENDED:
            return status, seen, reply
        _stop_if_cancelled(src)
        if time.monotonic() > deadline:
            raise CommandTimeout(f"/migrate: still {status} after {limit:g} s")
        time.sleep(POLL)


def _amount(reply: Any) -> str:
    """``, 12.5 of 128.0 MiB`` of RAM transferred so far (of the total), '' before QEMU says."""
    ram = reply.get("ram") if isinstance(reply, dict) else None
    sent = ram.get("transferred") if isinstance(ram, dict) else None
    if not isinstance(sent, int):
        return ""
    total = ram.get("total") if isinstance(ram, dict) else None
    of = f" of {total / 1048576:.1f}" if isinstance(total, int) and total else ""
    return f", {sent / 1048576:.1f}{of} MiB"


def _progress(seen: list[str], reply: Any) -> str:
    """``setup -> active -> completed, 1.2 MiB of RAM sent``."""
    ram = reply.get("ram") if isinstance(reply, dict) else None
    sent = ram.get("transferred") if isinstance(ram, dict) else None
    amount = f", {sent / 1048576:.1f} MiB of RAM sent" if isinstance(sent, int) else ""
    return " -> ".join(seen) + amount


def _check_ends(src: Side, dst: Side, limit: float) -> list[tuple[str, bool]]:
    """What QEMU's migration tests check: both completed, source postmigrate, destination running."""
    deadline = time.monotonic() + limit
    results = []
    for side, run_state in ((src, "postmigrate"), (dst, "running")):
        # Each side gets there in its own time: the source says completed a moment before it
        # leaves finish-migrate, the destination may run before its query-migrate says completed.
        while True:
            status = str((_run(side, "query-migrate") or {}).get("status", "none"))
            state = str((_run(side, "query-status") or {}).get("status", "?"))
            ok = status == "completed" and state == run_state
            if ok or time.monotonic() > deadline or status in ("failed", "cancelled"):
                break
            _stop_if_cancelled(side)
            time.sleep(POLL)
        mark = "ok" if ok else f"expected completed and {run_state}"
        results.append((f"{side.name}: query-migrate {status}, run state {state} ({mark})", ok))
    return results


def _stop_if_cancelled(side: Side) -> None:
    """Ctrl-C stops the waiting, not the migration (``migrate_cancel`` on the source does)."""
    if side.shell.cancelled:
        raise Cancelled("/migrate: stopped waiting; the migration goes on (migrate_cancel stops it)")


def _remove(directory: str) -> None:
    for name in os.listdir(directory):
        try:
            os.unlink(os.path.join(directory, name))
        except OSError:
            pass
    try:
        os.rmdir(directory)
    except OSError:
        pass
