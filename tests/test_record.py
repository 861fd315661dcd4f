"""A session kept as a script: ``/save script FILE`` in a real terminal, run again with ``-f`` against a
fresh QEMU; ``--history-script [N]``; what a script keeps of each statement (``language.script``)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from qmpshell.errors import UsageError
from qmpshell.language.script import Ran, history_entries, history_script, script_lines
from qmpshell.repl.savescript import SessionScript
from tests.qemu_support import Qemu, qemu_banner, run_qmpshell
from tests.tmux_support import Tmux, start_qmpshell


def test_a_failed_statement_is_kept_as_comments_under_its_error() -> None:
    lines = script_lines(Ran("block_resize device=nope size=1G", error="GenericError: Cannot find\ndevice"))
    assert lines == ["# failed: GenericError: Cannot find device", "# block_resize device=nope size=1G"]


def test_hmp_lines_become_slash_hmp_and_mode_switches_and_help_go() -> None:
    assert script_lines(Ran("info status", hmp=True)) == ["/hmp info status"]
    assert script_lines(Ran("/hmp info status")) == ["/hmp info status"]
    assert script_lines(Ran("/qmp", hmp=True)) == []
    assert script_lines(Ran("/hmp")) == []
    assert script_lines(Ran("/help query-status")) == []
    assert script_lines(Ran("/save script x")) == []
    assert script_lines(Ran("/wait STOP timeout=5")) == ["/wait STOP timeout=5"]


def test_a_line_of_a_session_of_several_targets_names_its_target() -> None:
    """Without ``@NAME`` a line of a script runs on every target: each is written with the one it ran on."""
    assert script_lines(Ran("query-status", target="dst")) == ["@dst query-status"]
    assert script_lines(Ran("info status", hmp=True, target="src")) == ["@src /hmp info status"]
    assert script_lines(Ran("/wait STOP timeout=5", target="src")) == ["@src /wait STOP timeout=5"]
    assert script_lines(Ran("stop", error="GenericError: no", target="src")) == [
        "# failed: GenericError: no",
        "# @src stop",
    ]
    assert script_lines(Ran("/use dst", target="src")) == []


def test_a_transaction_is_kept_whole() -> None:
    text = "transaction(\n  block-dirty-bitmap-add node=n0 name=b0\n)"
    assert script_lines(Ran(text)) == text.splitlines()


def test_secrets_are_kept_out_as_the_history_keeps_them_out() -> None:
    assert script_lines(Ran("object-add qom-type=secret id=s0 data=hunter2")) == [
        "# left out: a statement holding a secret (object-add ...)"
    ]
    assert script_lines(Ran("set_password protocol=vnc password=x", error="failed")) == [
        "# left out: a statement holding a secret (set_password ...)"
    ]
    url = script_lines(Ran("blockdev-add driver=http node-name=h url=https://joe:pw@host/disk.img"))
    assert url == ["blockdev-add driver=http node-name=h url=https://<redacted>@host/disk.img"]


HISTORY = b"""
# 2026-12-06 08:00:00.000000
+query-status

# 2026-12-06 08:00:01.000000
+/help

# 2026-12-06 08:00:02.000000
+transaction(
+  abort
+)

# 2026-12-06 08:00:03.000000
+/hmp info status
"""


def test_history_entries_and_the_last_n_statements_kept() -> None:
    entries = history_entries(HISTORY)
    assert entries == ["query-status", "/help", "transaction(\n  abort\n)", "/hmp info status"]
    assert history_script(entries) == "query-status\ntransaction(\n  abort\n)\n/hmp info status\n"
    assert history_script(entries, 2) == "transaction(\n  abort\n)\n/hmp info status\n"


def test_history_script_option_reads_the_history_file(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.write_bytes(HISTORY)
    result = run_qmpshell("--history", str(history), "--history-script", "1")
    assert (result.returncode, result.stdout, result.stderr) == (0, "/hmp info status\n", "")
    everything = run_qmpshell("--history", str(history), "--history-script")
    assert everything.stdout.count("\n") == 5


def test_history_script_refuses_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").write_bytes(HISTORY)
    (tmp_path / "history").symlink_to(tmp_path / "real")
    result = run_qmpshell("--history", str(tmp_path / "history"), "--history-script")
    assert result.returncode == 2
    assert result.stderr.startswith("qmpshell: cannot read the history file")


@pytest.fixture
def fresh_qemu(tmp_path: Path) -> Iterator[Qemu]:
    directory = tmp_path / "fresh"
    directory.mkdir()
    machine = Qemu(directory)
    try:
        yield machine
    finally:
        machine.stop()


SESSION = [
    "blockdev-add driver=null-co node-name=n0 size=1048576",
    "block_resize device=nope size=1G",
    "/hmp info status",
    "/help query-status",
    "object-add qom-type=secret id=s0 data=hunter2",
]


def test_a_session_saved_in_a_terminal_runs_again_with_f(
    qemu: Qemu, fresh_qemu: Qemu, tmp_path: Path
) -> None:
    script = tmp_path / "session.qmp"
    tmux = start_qmpshell(tmp_path / "xdg", qemu.socket)
    try:
        tmux.wait_for(qemu_banner())
        _type_session(tmux)
        tmux.enter(f"/save script {script}")
        tmux.wait_for("as a script to")
    finally:
        tmux.close()
    text = script.read_text()
    assert stat.S_IMODE(script.stat().st_mode) == 0o600
    assert "hunter2" not in text and "/help" not in text
    assert "# failed: GenericError" in text and "# block_resize device=nope size=1G" in text
    assert "transaction(\nblock-dirty-bitmap-add node=n0 name=b0\n)\n" in text  # as typed
    result = run_qmpshell("-f", str(script), fresh_qemu.socket)
    assert (result.returncode, result.stderr) == (0, "")
    nodes = fresh_qemu.aux.execute("query-named-block-nodes")
    bitmaps = [b["name"] for n in nodes if n["node-name"] == "n0" for b in n.get("dirty-bitmaps", [])]
    assert bitmaps == ["b0"]


def _type_session(tmux: Tmux) -> None:
    for line in SESSION:
        tmux.enter(line)
        tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "qmp>")
    tmux.enter("transaction(")
    tmux.enter("block-dirty-bitmap-add node=n0 name=b0")
    tmux.enter(")")
    tmux.wait_for(lambda screen: screen.count("qmp>") >= 1 and "...>" not in tmux.input_line())


def test_save_script_writes_0600_and_never_through_a_link(tmp_path: Path) -> None:
    script = SessionScript()
    script.add("query-status", hmp=False, result=None)
    script.add("info status", hmp=True, result=None)
    assert script.save(str(tmp_path / "s.qmp")) == 2
    assert (tmp_path / "s.qmp").read_text().splitlines()[1:] == ["query-status", "/hmp info status"]
    assert stat.S_IMODE((tmp_path / "s.qmp").stat().st_mode) == 0o600
    (tmp_path / "target").write_text("keep")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(UsageError, match="cannot write"):
        script.save(str(tmp_path / "link"))
    assert (tmp_path / "target").read_text() == "keep"
