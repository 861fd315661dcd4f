"""Hostile files and full disks: history, log and schema cache.

A path may hold a symbolic link, a FIFO, a device, a directory or another
user's file; qmpshell refuses them with one line (exit status 2) and never
changes a mode by path.  A disk may be full or read-only: the shell says so
once and goes on.  Full and read-only disks are real: a 64 KiB tmpfs, mounted
by the test (as root, or through ``sudo -n``), and ``/dev/full``.  Closed
standard streams and a reader that goes away end cleanly.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from qmpshell.protocol.privatefile import Refused, open_append
from qmpshell.repl.history import SecretFreeHistory, make_history
from tests.qemu_support import Qemu, json_lines, qmpshell_argv, run_qmpshell, status_return
from tests.tmux_support import Tmux, reply_line, start_qmpshell

OTHER_UID = 65534  # nobody


def privileged(*argv: str) -> None:
    """Run a command as root: directly when the tests are root, else through sudo (CI has one of them)."""
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    subprocess.run([*prefix, *argv], check=True, timeout=30, capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs owned by the test's user; unmounted afterwards."""
    mount = tmp_path / "small"
    mount.mkdir()
    privileged("mount", "-t", "tmpfs", "-o", f"size=64k,mode=0700,uid={os.geteuid()}", "tmpfs", str(mount))
    try:
        yield mount
    finally:
        privileged("umount", "-l", str(mount))


def fill(disk: Path) -> None:
    """Write until the disk is full."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while True:
            os.write(fd, b"x" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_only(disk: Path) -> None:
    privileged("mount", "-o", "remount,ro", str(disk))


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# -- item 2: files opened safely -------------------------------------------------------------------


def test_a_log_path_that_is_a_symlink_is_refused_and_its_target_untouched(qemu: Qemu, tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    target.chmod(0o644)
    (tmp_path / "qmp.log").symlink_to(target)
    result = run_qmpshell(qemu.socket, "-l", str(tmp_path / "qmp.log"), "-c", "query-status")
    assert result.returncode == 2
    assert result.stderr == f"qmpshell: refusing the log file {tmp_path / 'qmp.log'}: it is a symbolic link\n"
    assert target.read_text() == "keep me\n" and mode(target) == 0o644
    assert result.stdout == ""


def test_a_history_path_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("keep me\n")
    target.chmod(0o644)
    (tmp_path / "history").symlink_to(target)
    with pytest.raises(Refused, match="refusing the history file .*: it is a symbolic link"):
        make_history(str(tmp_path / "history"), is_hmp=lambda: False)
    assert target.read_text() == "keep me\n" and mode(target) == 0o644


def test_dev_null_is_discard_and_never_touched(qemu: Qemu) -> None:
    """Before: ``--history /dev/null`` run as root made /dev/null 0600."""
    before = os.stat("/dev/null")
    history = make_history("/dev/null", is_hmp=lambda: False)
    assert list(history.load_history_strings()) == []  # nothing read from the device
    history.append_string("query-status")
    assert history.get_strings() == ["query-status"]  # kept for the session
    result = run_qmpshell(qemu.socket, "-l", "/dev/null", "-c", "query-status")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    after = os.stat("/dev/null")
    assert (after.st_mode, after.st_uid, after.st_gid) == (before.st_mode, before.st_uid, before.st_gid)


def test_a_link_to_dev_null_is_discard_too(tmp_path: Path) -> None:
    """The usual way to turn a history off: the default path linked to /dev/null."""
    (tmp_path / "history").symlink_to("/dev/null")
    history = make_history(str(tmp_path / "history"), is_hmp=lambda: False)
    history.append_string("query-status")
    assert mode("/dev/null") == 0o666


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_a_log_path_that_is_not_a_regular_file_is_refused(qemu: Qemu, tmp_path: Path, kind: str) -> None:
    """A FIFO would hang a plain open(); a socket cannot be a log."""
    path = tmp_path / "qmp.log"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path = Path(qemu.aux_socket)
    result = run_qmpshell(qemu.socket, "-l", str(path), "-c", "query-status", timeout=20)
    assert result.returncode == 2
    # before: "cannot open log file PATH: No such device or address"
    assert result.stderr.splitlines() == [f"qmpshell: refusing the log file {path}: not a regular file"]


def test_a_history_path_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history"
    os.mkfifo(path)
    with pytest.raises(Refused, match=f"^refusing the history file {path}: not a regular file$"):
        make_history(str(path), is_hmp=lambda: False)


def test_a_log_owned_by_another_user_is_refused(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    log.write_text("")
    privileged("chown", str(OTHER_UID), str(log))
    result = run_qmpshell(qemu.socket, "-l", str(log), "-c", "query-status")
    assert result.returncode == 2
    assert result.stderr == f"qmpshell: refusing the log file {log}: owned by uid {OTHER_UID}, not by you\n"
    assert log.read_text() == ""


def test_history_is_read_back_only_from_the_file_it_appends_to(tmp_path: Path) -> None:
    """The path is checked once; if it is swapped for a link afterwards, nothing is read through it."""
    path = tmp_path / "history"
    history = SecretFreeHistory(str(path), is_hmp=lambda: False)
    history.append_string("query-status")
    history.append_string("transaction(\n  abort\n)")
    assert list(history.load_history_strings()) == ["transaction(\n  abort\n)", "query-status"]
    secret = tmp_path / "secret"
    secret.write_text("\n# old\n+do-not-read\n")
    path.unlink()
    path.symlink_to(secret)
    warnings: list[str] = []
    history._warn = warnings.append  # noqa: SLF001 - see what the user would be told
    assert list(history.load_history_strings()) == []
    assert len(warnings) == 1 and warnings[0].startswith(f"cannot read the history file {path}")


def test_a_history_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history"
    path.write_text("")
    privileged("chown", str(OTHER_UID), str(path))
    with pytest.raises(Refused, match=f"owned by uid {OTHER_UID}, not by you"):
        make_history(str(path), is_hmp=lambda: False)


def test_a_wide_mode_is_tightened_with_a_warning(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    log.write_text("")
    log.chmod(0o644)
    result = run_qmpshell(qemu.socket, "-l", str(log), "-c", "query-status")
    assert result.returncode == 0
    assert result.stderr == (
        f"qmpshell: warning: log file {log} was readable by others (mode 0644); it is now 0600\n"
    )
    assert mode(log) == 0o600
    warnings: list[str] = []
    history = tmp_path / "history"
    history.write_text("")
    history.chmod(0o664)
    make_history(str(history), is_hmp=lambda: False, warn=warnings.append)
    assert warnings == [f"history file {history} was readable by others (mode 0664); it is now 0600"]
    assert mode(history) == 0o600


@pytest.mark.parametrize("wide", [0o700, 0o620, 0o602])
def test_any_mode_wider_than_0600_is_tightened_with_a_warning(tmp_path: Path, wide: int) -> None:
    """Not only readable ones: executable or writable by others is wider than 0600 too."""
    history = tmp_path / "history"
    history.write_text("")
    history.chmod(wide)
    warnings: list[str] = []
    make_history(str(history), is_hmp=lambda: False, warn=warnings.append)
    assert warnings == [
        f"history file {history} had a mode wider than 0600 (mode {wide:04o}); it is now 0600"
    ]
    assert mode(history) == 0o600


def test_files_are_opened_close_on_exec(tmp_path: Path) -> None:
    fd = open_append(str(tmp_path / "f"), what="file", warn=lambda text: None)
    try:
        assert fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC
        assert not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK
    finally:
        os.close(fd)


def test_a_schema_cache_directory_writable_by_others_is_not_used(qemu: Qemu, private_xdg: Path) -> None:
    directory = private_xdg / "xdg_cache_home" / "qmpshell"
    directory.mkdir()
    directory.chmod(0o777)
    result = run_qmpshell(qemu.socket, "-c", "query-status", "-c", "/help query-status")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        f"qmpshell: warning: not using the schema cache {directory}: it is writable by other users\n"
    )
    assert list(directory.iterdir()) == []  # nothing written there
    assert "query-status" in result.stdout  # the schema was fetched and used all the same
    assert mode(directory) == 0o777  # and never chmod-ed


def test_a_schema_cache_file_that_is_a_symlink_is_not_followed(qemu: Qemu, private_xdg: Path) -> None:
    run_qmpshell(qemu.socket, "-c", "/help query-status")  # reads the schema, so writes the cache
    directory = private_xdg / "xdg_cache_home" / "qmpshell"
    (cached,) = directory.glob("schema-*.json")
    planted = directory.parent / "planted.json"
    planted.write_text(cached.read_text())
    cached.unlink()
    cached.symlink_to(planted)
    result = run_qmpshell(qemu.socket, "-c", "/help query-status")
    assert result.returncode == 0
    assert "is unreadable" in result.stderr and "moved to" in result.stderr
    assert cached.is_file() and not cached.is_symlink()  # fetched again and written afresh


# -- item 5: full and read-only disks, closed streams --------------------------------------------


def test_a_log_on_a_full_disk_warns_once_with_the_count(qemu: Qemu, small_disk: Path) -> None:
    commands = ("-c", "query-status", "-c", "query-name")
    for name in ("first.log", "second.log"):  # lines without arguments: no run reads the schema
        run_qmpshell(qemu.socket, "-l", str(small_disk.parent / name), *commands)
    records = len((small_disk.parent / "second.log").read_text().splitlines())
    log = small_disk / "qmp.log"
    log.touch(mode=0o600)
    fill(small_disk)
    result = run_qmpshell(qemu.socket, "-l", str(log), *commands)
    assert result.returncode == 0
    assert [reply["return"] for reply in json_lines(result.stdout)][1] == {}
    assert result.stderr.splitlines() == [
        f"qmpshell: warning: {records} records could not be written to the log file {log}: "
        "No space left on device"
    ]


def records_of_a_run(qemu: Qemu, directory: Path, *commands: str) -> int:
    """How many records a run of ``commands`` writes (the second of two: the first may cache a schema)."""
    for name in ("first.log", "second.log"):
        run_qmpshell(qemu.socket, "-l", str(directory / name), *commands)
    return len((directory / "second.log").read_text().splitlines())


def test_a_log_on_a_read_only_disk_stops_nothing(qemu: Qemu, small_disk: Path) -> None:
    """Before: ``cannot open log file PATH: Read-only file system``, exit 2, and nothing ran."""
    commands = ("-c", "query-status", "-c", "query-name")
    records = records_of_a_run(qemu, small_disk.parent, *commands)
    read_only(small_disk)
    log = small_disk / "qmp.log"
    result = run_qmpshell(qemu.socket, "-l", str(log), *commands)
    assert result.returncode == 0
    assert [reply["return"] for reply in json_lines(result.stdout)][1] == {}
    assert result.stderr.splitlines() == [
        f"qmpshell: warning: {records} records could not be written to the log file {log}: "
        "Read-only file system"
    ]


def test_a_directory_in_place_of_the_log_stops_nothing(qemu: Qemu, tmp_path: Path) -> None:
    commands = ("-k", "-c", "query-status", "-c", "nosuch-command")
    records = records_of_a_run(qemu, tmp_path, *commands)
    log = tmp_path / "qmp.log"
    log.mkdir()
    result = run_qmpshell(qemu.socket, "-l", str(log), *commands)
    assert result.returncode == 2  # the unknown command decides; the log does not
    assert result.stderr.splitlines()[-1] == (
        f"qmpshell: warning: {records} records could not be written to the log file {log}: Is a directory"
    )
    assert list(log.iterdir()) == []


def test_a_log_on_dev_full_keeps_the_commands_status(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-l", "/dev/full", "-k", "-c", "query-status", "-c", "nosuch-command")
    assert result.returncode == 2  # the unknown command decides; the log does not
    lines = result.stderr.splitlines()
    assert lines[-1].startswith("qmpshell: warning: ") and "log file /dev/full: No space left" in lines[-1]
    assert mode("/dev/full") == 0o666


def test_a_history_on_a_full_disk_warns_once_and_keeps_lines_in_memory(small_disk: Path) -> None:
    path = small_disk / "history"
    warnings: list[str] = []
    history = SecretFreeHistory(str(path), is_hmp=lambda: False, warn=warnings.append)
    fill(small_disk)
    for n in range(50):
        history.append_string(f"query-status # {n} " + "x" * 2000)
    assert len(warnings) == 1
    assert warnings[0] == (
        f"cannot write the history file {path}: No space left on device; "
        "this session's history is kept in memory only"
    )
    assert history.get_strings()[-1] == "query-status # 49 " + "x" * 2000
    assert len(history.get_strings()) == 50


def test_a_history_on_a_read_only_disk(small_disk: Path) -> None:
    read_only(small_disk)
    warnings: list[str] = []
    history = make_history(str(small_disk / "history"), is_hmp=lambda: False, warn=warnings.append)
    history.append_string("query-status")
    assert warnings == [
        f"cannot write the history file {small_disk / 'history'}: Read-only file system; "
        "this session's history is kept in memory only"
    ]
    assert history.get_strings() == ["query-status"]


def test_a_directory_in_place_of_the_history(tmp_path: Path) -> None:
    (tmp_path / "history").mkdir()
    warnings: list[str] = []
    history = make_history(str(tmp_path / "history"), is_hmp=lambda: False, warn=warnings.append)
    history.append_string("query-status")
    assert len(warnings) == 1 and "Is a directory" in warnings[0]


def test_enter_still_runs_commands_with_a_full_disk_history(
    qemu: Qemu, small_disk: Path, tmp_path: Path
) -> None:
    """Before: a history that could not be written made Enter do nothing."""
    history = small_disk / "history"
    history.write_text("")
    fill(small_disk)
    tmux: Tmux = start_qmpshell(tmp_path / "xdg", qemu.socket, "--history", str(history))
    try:
        tmux.wait_for("events: ")
        tmux.enter("query-status " + "x=1 " * 0)
        screen = tmux.wait_for(reply_line("running"))
        tmux.wait_for("cannot write the history file")
        tmux.enter("query-name")
        screen = tmux.wait_for(lambda text: text.count("query-name") >= 1 and "has no name" in text)
        assert screen.count("cannot write the history file") == 1
    finally:
        tmux.close()


def run_closing(stream: str, tmp_path: Path, *args: str) -> tuple[int, str | None, str | None]:
    """Run qmpshell with ``stream`` closed; the exit status and what reached stdout and stderr."""
    out, err = tmp_path / "out", tmp_path / "err"
    redirects = {"stdin": "</dev/null", "stdout": f">{out}", "stderr": f"2>{err}"}
    redirects[stream] = {"stdin": "<&-", "stdout": ">&-", "stderr": "2>&-"}[stream]
    line = shlex.join(qmpshell_argv(*args)) + " " + " ".join(redirects.values())
    status = subprocess.run(["bash", "-c", line], timeout=60).returncode
    return (
        status,
        out.read_text() if out.exists() else None,
        err.read_text() if err.exists() else None,
    )


def test_closed_stdin_reads_as_empty_input(qemu: Qemu, tmp_path: Path) -> None:
    """Before: ``internal error: AttributeError: 'NoneType' object has no attribute 'isatty'``."""
    assert run_closing("stdin", tmp_path, qemu.socket) == (0, "", "")


def test_closed_stdout_discards_the_output_and_keeps_the_status(qemu: Qemu, tmp_path: Path) -> None:
    assert run_closing("stdout", tmp_path, qemu.socket, "-c", "query-status") == (0, None, "")
    status, _, err = run_closing(
        "stdout", tmp_path, qemu.socket, "-c", "query-status", "-c", "nosuch-command"
    )
    assert status == 2 and (err or "").startswith("qmpshell: 2: unknown command 'nosuch-command'")


def test_closed_stderr_never_sends_messages_to_stdout(qemu: Qemu, tmp_path: Path) -> None:
    status, out, _ = run_closing("stderr", tmp_path, qemu.socket, "-c", "query-status", "-c", "query-name")
    assert status == 0
    assert json_lines(out or "")[1] == {"return": {}}
    assert run_closing("stderr", tmp_path, qemu.socket, "-c", "nosuch-command") == (2, "", None)
    status, out, _ = run_closing(
        "stderr", tmp_path, qemu.socket, "-c", "query-status", "-c", "quer-status x=1"
    )
    assert (status, out) == (2, "")  # a parse error: nothing ran, nothing said on stdout


def test_a_reader_that_goes_away_is_quiet_every_time(qemu: Qemu) -> None:
    """``qmpshell ... | head -1`` with events streaming: never ``Exception ignored ... BrokenPipeError``."""
    script = "query-status\n" * 300
    command = " ".join(qmpshell_argv(qemu.socket, "--events"))
    for _ in range(15):
        result = subprocess.run(
            ["bash", "-c", f"{command} 2>&1 | head -1"],
            input=script,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert json.loads(result.stdout) == {"return": status_return("running", running=True)}


def test_stdout_on_a_full_disk_is_one_line_and_status_1(qemu: Qemu) -> None:
    """Before: ``internal error: OSError: [Errno 28]``. The replies are lost: that is a failure."""
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            qmpshell_argv(qemu.socket, "-c", "query-status", "-c", "query-name"),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr == "qmpshell: cannot write to stdout: No space left on device\n"
