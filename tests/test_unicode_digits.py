"""C3: a count, index, port or list position written with a digit that is not ASCII (``²``, ``١``)
is refused with the ordinary message, never an internal error or a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.qemu_support import Qemu, run_qmpshell
from tests.tmux_support import start_qmpshell


def test_a_superscript_after_a_colon_is_no_port_so_the_address_is_a_path(tmp_path: Path) -> None:
    result = run_qmpshell("-c", "query-status", "localhost:²")
    assert result.returncode == 3
    assert result.stderr.startswith("qmpshell: cannot connect to localhost:²: no such file")
    assert len(result.stderr.splitlines()) == 1
    result = run_qmpshell("-c", "query-status", "[::1]:²")
    assert result.returncode == 2
    assert result.stderr == "qmpshell: bad address '[::1]:²': '²' is not a TCP port\n"


def test_a_superscript_parallel_count_is_a_usage_error() -> None:
    result = run_qmpshell("--parallel", "²", "-c", "query-status", "a.sock", "b.sock")
    assert result.returncode == 2
    assert "expected a whole number of 1 or more, got '²'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_superscript_list_position_goes_to_qemu_as_written(q35: Qemu) -> None:
    line = "blockdev-add driver=quorum node-name=q vote-threshold=1 children.²=x"
    result = run_qmpshell("-c", line, q35.socket)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.returncode in (1, 2), result.stderr
    assert result.stderr.startswith("qmpshell: 1: ")


def test_hmp_cpu_and_events_show_refuse_a_superscript_in_the_full_screen(qemu: Qemu, tmp_path: Path) -> None:
    tmux = start_qmpshell(tmp_path, qemu.socket)
    try:
        tmux.enter("/events show ²")
        tmux.wait_for("/events show N: N counts back from the newest event, 1 first")
        tmux.enter("/hmp cpu ²")
        tmux.wait_for("cpu: expected a CPU index, e.g. 'cpu 0'")
        tmux.enter("/events show ١")
        tmux.wait_for(lambda screen: screen.count("N counts back from the newest event") == 2)
        tmux.enter("query-status")
        screen = tmux.wait_for("running")
        assert "Traceback" not in screen and "Unhandled exception" not in screen
    finally:
        tmux.close()
