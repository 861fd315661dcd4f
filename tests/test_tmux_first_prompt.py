"""The first prompt pays for nothing it does not draw (issue 26): what the shell has imported when
its first screen is drawn, in a real terminal against a real QEMU, with one target and several;
and a session's targets are connected at once, not one after another."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from qmpshell.config import Settings
from qmpshell.errors import ConnectionFailed
from qmpshell.protocol.address import parse_address
from qmpshell.repl.fleet import Fleet
from tests.qemu_support import Qemu, wait_until
from tests.tmux_support import Tmux, shell_env

# ``qmpshell ARGV`` as the command line runs it; at its first draw (before the handlers that the
# shell itself hangs on it, so before its worker starts), the modules imported so far are written
# to the report and the shell leaves.
FIRST_DRAW = """
import json, sys
from qmpshell.cli import main
from qmpshell.repl import app

started = app.Repl._started

def _started(self, *, signals=False):
    def drawn(_app):
        if not self.app.is_done:
            with open(sys.argv[1], "w") as report:
                json.dump(sorted(sys.modules), report)
            self.app.exit(result=0)

    self.app.after_render += drawn
    started(self, signals=signals)

app.Repl._started = _started
sys.exit(main(sys.argv[2:]))
"""

# Nothing the first screen draws needs these: QEMU's documentation (the first /help NAME reads it),
# the HMP tables (an HMP line), the completer and the schema modules under it, the reply views and
# pygments' lexers (the first reply), record/replay/watch (their own options).
NOT_FOR_THE_FIRST_PROMPT = {
    "qmpshell.docs.commands",
    "qmpshell.docs.library",
    "qmpshell.docs.troff",
    "qmpshell.docs.pages",
    "qmpshell.docs.qapi",
    "qmpshell.docs.store",
    "qmpshell.docs.render",
    "qmpshell.docs.hints",
    "qmpshell.hmp.table",
    "qmpshell.hmp.engine",
    "qmpshell.hmp.commands",
    "qmpshell.hmp.info",
    "qmpshell.hmp.complete",
    "qmpshell.repl.completer",
    "qmpshell.schema.suggest",
    "qmpshell.schema.live",
    "qmpshell.schema.help",
    "qmpshell.schema.values",
    "qmpshell.schema.cache",
    "qmpshell.output.views",
    "qmpshell.output.block",
    "pygments.lexers",
    "pygments.styles",  # the default theme is the terminal's palette: pygments' styles only when named
    "qmpshell.replay",
    "qmpshell.proxy",
}


def first_draw_modules(tmp_path: Path, *args: str) -> set[str]:
    """The modules a real ``qmpshell ARGS`` in a terminal has imported when it first draws."""
    report = tmp_path / "modules.json"
    tmux = Tmux([sys.executable, "-c", FIRST_DRAW, str(report), *args], env=shell_env(tmp_path / "xdg"))
    try:
        screen = tmux.wait_for("EXITED=", timeout=60)
    finally:
        tmux.close()
    assert "EXITED=0" in screen, screen
    return set(json.loads(report.read_text()))


def test_the_first_prompt_imports_no_documentation_reader_nor_hmp_table(qemu: Qemu, tmp_path: Path) -> None:
    first_draw_modules(tmp_path, qemu.socket)  # the schema cached, as a user's second start finds it
    modules = first_draw_modules(tmp_path, qemu.socket)
    assert "qmpshell.repl.app" in modules  # the probe saw the full screen, not the line mode
    assert modules & NOT_FOR_THE_FIRST_PROMPT == set()
    assert [name for name in modules if name.startswith("qmpshell.docs")] == []


def test_several_targets_import_no_more_for_their_first_prompt(qemu: Qemu, tmp_path: Path) -> None:
    modules = first_draw_modules(tmp_path, f"a={qemu.socket}", f"b={qemu.aux_socket}")
    assert "qmpshell.repl.fleet" in modules
    assert modules & NOT_FOR_THE_FIRST_PROMPT == set()


@pytest.fixture
def three_stopped(tmp_path: Path) -> Iterator[list[Qemu]]:
    """Three QEMUs stopped with SIGSTOP: a client's connection waits in the kernel's queue."""
    machines: list[Qemu] = []
    try:
        for number in range(3):
            directory = tmp_path / f"vm{number}"
            directory.mkdir()
            machines.append(Qemu(directory))
        for machine in machines:
            machine.kill(signal.SIGSTOP)
        yield machines
    finally:
        for machine in machines:
            machine.kill(signal.SIGCONT)
            machine.stop()


def waiting(path: str) -> bool:
    """A connection to ``path`` waits for QEMU to accept it: Linux lists it under the listener's
    path, without the listening flag (``__SO_ACCEPTCON``)."""
    wanted = path.encode()
    with open("/proc/net/unix", "rb") as table:
        rows = [row.split(None, 7) for row in table.read().splitlines()[1:]]
    return any(len(row) == 8 and row[7] == wanted and not int(row[3], 16) & 0x10000 for row in rows)


def test_a_sessions_targets_are_connected_at_once(three_stopped: list[Qemu]) -> None:
    """While every QEMU is stopped, a connection waits on each: none waits for another to answer."""
    settings = Settings(history_file=None, connect_timeout=20.0)
    named = [(f"vm{n}", parse_address(machine.socket)) for n, machine in enumerate(three_stopped)]
    opened: list[Fleet] = []
    opening = threading.Thread(
        target=lambda: opened.append(Fleet.open(named, settings, log=None, on_event=lambda event: None)),
        daemon=True,
    )
    opening.start()
    try:
        wait_until(
            lambda: all(waiting(machine.socket) for machine in three_stopped),
            timeout=10,
            what="a connection waiting on each stopped QEMU",
        )
    finally:
        for machine in three_stopped:
            machine.kill(signal.SIGCONT)
        opening.join(30)
    assert len(opened) == 1
    try:
        assert list(opened[0].members()) == ["vm0", "vm1", "vm2"]
    finally:
        opened[0].close()


def test_a_target_that_cannot_be_reached_fails_the_session_and_closes_the_others(
    qemu: Qemu, tmp_path: Path
) -> None:
    settings = Settings(history_file=None, connect_timeout=5.0)
    first, second = str(tmp_path / "first.sock"), str(tmp_path / "second.sock")
    named = [("vm", parse_address(qemu.socket)), ("a", parse_address(first)), ("b", parse_address(second))]
    with pytest.raises(ConnectionFailed) as failed:
        Fleet.open(named, settings, log=None, on_event=lambda event: None)
    assert first in str(failed.value) and second not in str(failed.value)  # the first in the order given
    again = Fleet.open(named[:1], settings, log=None, on_event=lambda event: None)  # the monitor was let go
    try:
        assert again.status().version
    finally:
        again.close()
