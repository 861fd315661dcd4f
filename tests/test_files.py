"""Files qmpshell creates: history, log and schema cache are 0600, directories it makes 0700.

Runs use ``umask 0``, so the modes must come from qmpshell itself, not from a
kind umask.  The log is appended to and flushed per message.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

from qmpshell.repl.history import make_history
from tests.qemu_support import Qemu, json_lines, log_records, qmpshell_argv, wait_until
from tests.test_faults_qemu import Session


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_with_umask_0(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        qmpshell_argv(*args), capture_output=True, text=True, timeout=60, umask=0, env=env, input=""
    )


def test_log_file_and_the_directories_it_needs_are_private(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "new" / "deeper" / "qmp.log"
    result = run_with_umask_0(qemu.socket, "--logfile", str(log), "-c", "query-status")
    assert result.returncode == 0, result.stderr
    assert mode(log) == 0o600
    assert mode(tmp_path / "new") == mode(tmp_path / "new" / "deeper") == 0o700


def test_log_is_appended_to(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    log.write_text('{"earlier": "line"}\n')
    for command in ("query-status", "query-name"):
        result = run_with_umask_0(qemu.socket, "--logfile", str(log), "-c", command)
        assert result.returncode == 0, result.stderr
    records = log_records(log)
    assert records[0] == {"earlier": "line"}
    sent = [r["message"]["execute"] for r in records[1:] if r["direction"] == "sent"]
    assert sent.count("qmp_capabilities") == 2
    assert sent.index("query-status") < sent.index("query-name")


def test_log_is_flushed_per_message(qemu: Qemu, tmp_path: Path) -> None:
    """The reply is in the file while the session is still open (a crash would lose nothing)."""
    log = tmp_path / "qmp.log"
    session = Session(qemu.socket, "--logfile", str(log))
    try:
        session.send("query-status\n")
        wait_until(lambda: session.out, what="the reply")
        reply = json_lines(session.out[0])[0]
        records = [json.loads(text) for text in log.read_text().splitlines()]
        assert records[-1]["direction"] == "received"
        assert records[-1]["message"]["return"] == reply["return"]
    finally:
        assert session.finish() == 0


def test_schema_cache_is_private(qemu: Qemu, tmp_path: Path) -> None:
    cache_home = tmp_path / "fresh-cache-home"  # does not exist yet: qmpshell makes it
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    result = run_with_umask_0(qemu.socket, "-c", "qom-list path=/", env=env)  # arguments: the schema is read
    assert result.returncode == 0, result.stderr
    files = [p for p in cache_home.rglob("*") if p.is_file()]
    assert files, "no schema cache was written"
    assert {mode(p) for p in files} == {0o600}
    assert {mode(p) for p in cache_home.rglob("*") if p.is_dir()} | {mode(cache_home)} == {0o700}


def test_history_file_is_private(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "state" / "qmpshell" / "history"
        history = make_history(str(path), is_hmp=lambda: False)
        history.append_string("query-status")
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(path.parent) == mode(path.parent.parent) == 0o700
    assert "query-status" in path.read_text()


def test_two_histories_on_one_file_keep_both(tmp_path: Path) -> None:
    """Two shells at once: each appends; neither truncates the other's lines."""
    path = tmp_path / "history"
    first = make_history(str(path), is_hmp=lambda: False)
    second = make_history(str(path), is_hmp=lambda: False)
    for n in range(5):
        first.append_string(f"query-status # first {n}")
        second.append_string(f"query-name # second {n}")
    third = make_history(str(path), is_hmp=lambda: False)
    loaded = list(third.load_history_strings())
    assert {f"query-status # first {n}" for n in range(5)} <= set(loaded)
    assert {f"query-name # second {n}" for n in range(5)} <= set(loaded)
