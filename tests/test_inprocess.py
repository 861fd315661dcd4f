"""The in-process harness (tests/inprocess.py) tells what a real ``qmpshell`` process tells: the same
stdout, stderr and exit status for the same argv, stdin and environment, on runs that need no server
or that fail to reach one; and it leaves the test's own streams and environment as they were.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.inprocess import run_inprocess
from tests.qemu_support import run_qmpshell

CASES = {
    "version": (["--version"], ""),
    "help": (["--help"], ""),
    "unknown option": (["--no-such-option"], ""),
    "no address": (["-c", "query-status"], ""),
    "dry run": (["-n", "-c", "blockdev-add driver=null-co node-name=n0 size=1M", "-c", "/wait STOP"], ""),
    "dry run from stdin, a parse error": (["-n"], "query-status\nstop\nblockdev-add options={\n"),
    "invalid UTF-8 on stdin": (["-n", "-k"], b"query-status\n\xff\xfe\nstop\n"),
    "missing socket": (["-c", "query-status", "/nonexistent/qmp.sock"], ""),
    "print-config": (["--print-config", "--timeout", "7", "-p"], ""),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_same_as_a_real_process(case: str) -> None:
    argv, stdin = CASES[case]
    env = {**os.environ, "COLUMNS": "100"}
    real = run_qmpshell(*argv, input=stdin, env=env)
    here = run_inprocess(*argv, input=stdin, env=env)
    assert (here.returncode, here.stdout, here.stderr) == (real.returncode, real.stdout, real.stderr)
    assert real.stdout or real.stderr  # each case says something worth comparing


def test_the_environment_given_is_the_whole_environment_and_is_restored(tmp_path: Path) -> None:
    """``env`` replaces the environment for the call only: $QMP_SOCKET names the address."""
    before = dict(os.environ)
    socket = tmp_path / "nosuch.sock"
    result = run_inprocess("-c", "query-status", env={"PATH": os.environ["PATH"], "QMP_SOCKET": str(socket)})
    assert (result.returncode, result.stdout) == (3, "")
    assert str(socket) in result.stderr
    assert dict(os.environ) == before


def test_the_streams_are_restored() -> None:
    streams = sys.stdin, sys.stdout, sys.stderr
    run_inprocess("--version")
    assert (sys.stdin, sys.stdout, sys.stderr) == streams
