"""The markers tests/markers.py puts on tests give the right answer, rule by rule, on the suite's own
tests (collected in a separate pytest run), and the guard that checks them on every run bites.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.markers import SLOW, _starts, guarded_path, make_guards

ROOT = Path(__file__).resolve().parent.parent

# Each rule, on a test that shows it; the comment says which rule decides.
EXPECTED = {
    "test_batch.py::test_wait_after_stop": {"qemu"},  # the qemu fixture
    "test_batch.py::test_usage_errors_exit_2": set(),  # nothing real started
    "test_batch.py::test_launch_starts_and_stops_qemu": {"qemu"},  # --launch in its code
    "test_faults_qemu.py::test_sigkill_while_a_large_reply_streams": {"qemu"},  # Qemu(...) in its code
    "test_schema_e2e.py::test_the_cache_keeps_one_file_per_qemu_version": {"qemu"},  # a QEMU's path
    "test_tmux_views.py::test_block_nodes_show_the_backing_chain_as_a_tree": {"qemu", "tmux"},  # fixtures
    "test_line_mode.py::test_dumb_terminal_gets_lines_and_events_without_a_key_and_no_escape_sequence": {
        "qemu",
        "tmux",  # script(1), in a helper class of the module
    },
    "test_launch.py::test_a_qemu_that_exits_at_once_is_quoted": {"qemu"},
    "test_libvirt.py::test_a_shorthand_command_and_its_reply": {"libvirt", "qemu"},  # libvirt_host
    "test_libvirt.py::test_libvirtd_not_reachable": set(),  # says libvirt but starts nothing
    "test_faults_server.py::test_a_100_mb_reply_arrives_whole": {"slow"},  # the SLOW table
    "test_views.py::test_deep_backing_chain_fits_the_screen_and_hides_nothing": set(),
}

# Prints each collected test's markers (of the four), one JSON object a line.
COLLECT = """
import json, sys, pytest
class Report:
    def pytest_collection_finish(self, session):
        for item in session.items:
            names = sorted({m.name for m in item.iter_markers()} & {"qemu", "tmux", "libvirt", "slow"})
            print("MARKS " + json.dumps([item.nodeid.split("[")[0], names]))
sys.exit(pytest.main(["--co", "-q", "-p", "no:cacheprovider", *sys.argv[1:]], plugins=[Report()]))
"""


def test_each_rule_gives_the_right_answer() -> None:
    files = sorted({f"tests/{test.split('::')[0]}" for test in EXPECTED})
    result = subprocess.run(
        [sys.executable, "-c", COLLECT, *files], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    marks: dict[str, set[str]] = {}
    for line in result.stdout.splitlines():
        if line.startswith("MARKS "):
            nodeid, names = json.loads(line.removeprefix("MARKS "))
            marks[nodeid.removeprefix("tests/")] = set(names)
    assert {test: marks.get(test) for test in EXPECTED} == EXPECTED


@pytest.mark.parametrize("test", sorted(SLOW))
def test_every_slow_test_named_exists(test: str) -> None:
    module, _, function = test.partition("::")
    assert callable(getattr(importlib.import_module(f"tests.{module}"), function, None))


def _starts_a_qemu_through_a_helper() -> None:
    _helper_that_launches()


def _helper_that_launches() -> None:
    subprocess.run(["qmpshell", "--launch", "-c", "query-status"], check=False)


def _starts_nothing() -> None:
    print("qemu-system-x86_64 is only a word in a longer string here")


def test_helpers_are_followed_and_words_in_sentences_are_not_programs() -> None:
    assert _starts(_starts_a_qemu_through_a_helper) == {"qemu"}
    assert _starts(_starts_nothing) == frozenset()


def test_an_unmarked_test_that_starts_qemu_is_told_which_marker_it_lacks(tmp_path: Path) -> None:
    guards = make_guards(tmp_path / "guards")
    path = guarded_path(os.environ["PATH"], guards, {"tmux"})
    env = {**os.environ, "PATH": path, "PYTEST_CURRENT_TEST": "tests/test_x.py::test_y"}
    result = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True, env=env)
    assert result.returncode == 97
    assert result.stderr == (
        "qemu-system-x86_64: started by a test that is not marked qemu: see tests/markers.py "
        "(tests/test_x.py::test_y)\n"
    )
    assert str(guards["tmux"]) not in path.split(os.pathsep)
