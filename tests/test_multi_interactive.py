"""Several servers in one interactive session: a real migration driven in tmux, both sides' events
in the one pane, the final states checked through second monitors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pair_support import DESTINATION, Pair
from tests.qemu_support import Qemu, listening, wait_until
from tests.tmux_support import Tmux, shell_env, start_qmpshell

EVENTS_ON = 'migrate-set-capabilities capabilities=[{"capability": "events", "state": true}]'


@pytest.fixture
def session(pair: Pair, tmp_path: Path) -> Iterator[Tmux]:
    tmux = start_qmpshell(tmp_path / "xdg", *pair.named())
    try:
        yield tmux
    finally:
        tmux.close()


def test_a_migration_driven_interactively(pair: Pair, session: Tmux) -> None:
    session.wait_for("src qmp>")
    session.enter(f"@all {EVENTS_ON}")
    session.wait_for("\u2500\u2500 dst \u2500\u2500")
    session.enter(f"@dst migrate-incoming uri={pair.uri}")
    session.enter("/use dst")
    session.wait_for("dst qmp>")
    session.enter(f"@src migrate uri={pair.uri}")
    session.enter("/wait MIGRATION status=completed timeout=20")
    session.enter("/wait @src MIGRATION status=completed timeout=20")
    # both sides' events in the one pane, each tagged with its target
    # (as events: with their time before them, not the text of a /wait line still queued)
    screen = session.wait_for(
        lambda text: all(_event(text, f"{who} MIGRATION status=completed") for who in PAIR)
    )
    assert _event(screen, "dst MIGRATION status=active") and _event(screen, "src MIGRATION status=active")
    pair.wait_migrated()
    assert pair.final_states() == ("completed", "completed", "postmigrate", "running")


def test_use_targets_and_grouped_replies(pair: Pair, session: Tmux) -> None:
    session.wait_for("[src] dst:paused (inmigrate)")  # the status bar: every target, compactly
    session.enter("/targets")
    screen = session.wait_for("CONNECTION")
    assert "inmigrate" in screen and "running" in screen
    session.enter("@all query-status")
    screen = session.wait_for("\u2500\u2500 dst \u2500\u2500")
    session.enter("@nosuch query-status")
    session.wait_for("no target named 'nosuch' (the targets: src, dst)")
    session.enter("/use dst")
    session.wait_for("dst qmp>")
    session.enter("query-status")  # now on dst
    session.wait_for("paused (inmigrate)")
    session.enter("/use src")
    session.enter("stop")
    wait_until(lambda: pair.src.aux.execute("query-status")["status"] == "paused", what="src paused")
    assert pair.dst.aux.execute("query-status")["status"] == "inmigrate"


def test_line_mode_with_two_targets(pair: Pair, tmp_path: Path) -> None:
    tmux = Tmux([sys.executable, "-m", "qmpshell", "--line", *pair.named()], env=shell_env(tmp_path / "xdg"))
    try:
        tmux.wait_for("src qmp>")
        tmux.enter("@dst query-status")
        tmux.wait_for("inmigrate")
        tmux.enter("/events filter src:RESUME dst:*")
        tmux.enter("@src stop")
        tmux.enter("@all cont")
        screen = tmux.wait_for(lambda text: "src RESUME" in text)
        assert not any("STOP" in line for line in screen.splitlines() if not line.startswith("src qmp>"))
    finally:
        tmux.close()


def test_migrate_helper_and_both_sides_in_one_view(pair: Pair, session: Tmux) -> None:
    session.enter("/migrate src dst")
    screen = session.wait_for("dst: query-migrate completed, run state running (ok)", timeout=30)
    assert "src: query-migrate completed, run state postmigrate (ok)" in screen
    assert pair.final_states() == ("completed", "completed", "postmigrate", "running")
    session.enter("@all query-migrate")  # both sides as one table: a column per target
    screen = session.wait_for(lambda text: re.search(r"^FIELD +src +dst", text, re.M) is not None)
    assert re.search(r"^status +completed +completed", screen, re.M)


def test_a_lost_target_reconnects_while_the_other_stays_usable(pair: Pair, session: Tmux) -> None:
    pair.dst.kill()
    pair.dst.process.wait(timeout=10)
    session.wait_for("connection lost: dst:")
    session.enter("@src query-name")
    session.enter("@src stop")
    wait_until(lambda: pair.src.aux.execute("query-status")["status"] == "paused", what="src paused")
    pair.dst = Qemu(pair.dst.directory, *DESTINATION)
    session.wait_for("reconnected to dst at", timeout=20)
    session.enter("@dst query-status")
    session.wait_for("paused (inmigrate)")


def targets_until(tmux: Tmux, test: Callable[[str], bool], *, attempts: int = 20) -> str:
    """``/targets`` again until its table passes ``test`` (the kinds come from schemas still being read)."""
    for _ in range(attempts):
        tmux.enter("/targets")
        try:
            return tmux.wait_for(lambda text: test(text.split("/targets")[-1]), timeout=0.5)
        except AssertionError:
            continue
    raise AssertionError(f"/targets never showed what was expected:\n{tmux.screen()}")


def test_a_vm_and_its_storage_daemon_in_one_session(pair: Pair, tmp_path: Path) -> None:
    socket = str(pair.src.directory / "qsd.sock")
    daemon = subprocess.Popen(
        [
            "qemu-storage-daemon",
            "--chardev", f"socket,path={socket},server=on,wait=off,id=m",
            "--monitor", "chardev=m",
            "--blockdev", "driver=null-co,node-name=disk0",
        ],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    tmux: Tmux | None = None
    try:
        wait_until(lambda: listening(socket), what="the storage daemon's monitor")
        config = tmp_path / "xdg" / "xdg_config_home" / "qmpshell" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text("[schema]\ncache = false\n")  # the cache's key is the version, which both share
        tmux = start_qmpshell(tmp_path / "xdg", f"vm={pair.src.socket}", socket)
        kinds = targets_until(tmux, lambda text: re.search(r"qsd +storage daemon", text) is not None)
        assert re.search(r"vm +qemu", kinds)
        tmux.enter("/use qsd")
        tmux.wait_for("qsd qmp>")
        tmux.enter("query-named-block-nodes")
        tmux.wait_for("disk0")
        tmux.enter("@vm query-status")
        tmux.wait_for(lambda text: "running" in text.split("@vm query-status")[-1])
    finally:
        if tmux is not None:
            tmux.close()
        daemon.kill()
        daemon.wait(timeout=10)


def test_launch_pair_interactively_migrates_and_stops_both_on_exit(tmp_path: Path) -> None:
    tmux = start_qmpshell(tmp_path / "xdg", "--launch-pair")
    try:
        tmux.enter("/targets")
        screen = tmux.wait_for("CONNECTION")
        sockets = set(re.findall(r"(/\S+/qmp\.sock)", screen))
        assert len(sockets) == 2 and "inmigrate" in screen
        tmux.enter("/migrate src dst")
        tmux.wait_for("dst: query-migrate completed, run state running (ok)", timeout=30)
        tmux.send("C-d")
        tmux.wait_for("EXITED=0")
        for socket in sockets:
            wait_until(
                lambda socket=socket: not Path(socket).parent.exists(),
                what="the launched QEMU's directory gone",
            )
    finally:
        tmux.close()


def test_one_target_refuses_naming_others(pair: Pair, tmp_path: Path) -> None:
    tmux = Tmux(
        [sys.executable, "-m", "qmpshell", "--line", pair.src.socket], env=shell_env(tmp_path / "xdg")
    )
    try:
        tmux.wait_for("qmp>")
        assert "src qmp>" not in tmux.screen()  # one target: the prompt as always
        tmux.enter("@x query-status")
        tmux.wait_for("@x: this session has one target (give several addresses to name them)")
        tmux.enter("/use x")
        tmux.wait_for("/use: this session has one target")
        tmux.enter("/migrate a b")
        tmux.wait_for("/migrate SRC DST [URI]: needs two targets")
    finally:
        tmux.close()


def test_ctrl_c_stops_a_wait_on_another_target(pair: Pair, session: Tmux) -> None:
    session.enter("@dst /wait MIGRATION timeout=60")
    session.wait_for("waiting for the reply")
    session.send("C-c")
    session.wait_for("stopped waiting")
    session.enter("@dst query-status")
    session.wait_for("paused (inmigrate)")


PAIR = ("src", "dst")


def _event(screen: str, text: str) -> bool:
    """Whether the events pane shows an event line ``HH:MM:SS.mmm TEXT``."""
    return re.search(r"\d\d:\d\d:\d\d\.\d{3} " + re.escape(text), screen) is not None


def test_save_script_names_the_target_of_each_line(pair: Pair, session: Tmux, tmp_path: Path) -> None:
    """A script of several targets runs a line without ``@NAME`` on every one: ``/save script``
    writes each line with the target it ran on, and the script runs again with ``-f``."""
    session.wait_for("src qmp>")
    session.enter("query-name")
    session.enter("/use dst")
    session.wait_for("dst qmp>")
    session.enter("query-status")
    session.enter("@src query-status")
    session.enter("/wait @src STOP timeout=0.1")
    session.wait_for("no STOP event")
    script = tmp_path / "session.qmp"
    session.enter(f"/save script {script}")
    session.wait_for("saved")
    lines = [line for line in script.read_text().splitlines() if not line.startswith("#")]
    assert lines == ["@src query-name", "@dst query-status", "@src query-status"]
    assert "# @src /wait @src STOP timeout=0.1" not in script.read_text()  # it names its target itself
    session.send("C-d")
    session.wait_for("EXITED=")
    ran = subprocess.run(
        [sys.executable, "-m", "qmpshell", "-f", str(script), *pair.named()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert [json.loads(line)["target"] for line in ran.stdout.splitlines()] == ["src", "dst", "src"]
