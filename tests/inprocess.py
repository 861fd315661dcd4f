"""Run ``qmpshell.cli.main`` in the test's own process: argv, stdin and environment in; stdout, stderr
and the exit status out; no subprocess.

In the spirit of click's ``CliRunner`` and httpie's ``http()`` test helper: a batch-mode test that
needs no terminal reads the same three things it would from a real process, in a few milliseconds
instead of a Python start-up. ``run_inprocess`` takes the arguments of ``qemu_support.run_qmpshell``
and returns the same ``CompletedProcess``, so a test moves from one to the other by its name alone.

What stays a subprocess's job: anything about descriptors 0, 1 and 2 themselves (closed, a full
disk, a broken pipe), signals sent from outside, and the habit that batch mode never imports
prompt_toolkit (this process may have it loaded already).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from qmpshell import cli


def run_inprocess(
    *args: str, input: str | bytes | None = None, timeout: float = 60, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``qmpshell ARGS`` with stdin as given (a file, so batch mode), run by ``cli.main`` here.

    ``env``, as for ``subprocess.run``, replaces the whole environment while it runs. ``timeout`` is
    accepted for the likeness with ``run_qmpshell``: nothing here can stop a call that hangs, so a
    test that might should keep to a subprocess.
    """
    data = input.encode() if isinstance(input, str) else (input or b"")
    with tempfile.TemporaryFile() as stdin_file, _environment(env):
        stdin_file.write(data)
        stdin_file.seek(0)
        stdin = io.TextIOWrapper(stdin_file, encoding="utf-8")
        stdout, stderr = _captured(), _captured()
        with _streams(stdin, stdout, stderr):
            status = _exit_status(list(args))
        if not stdin.closed:  # qmpshell may have closed it at the end of the input
            stdin.detach()  # else the temporary file's own context closes it
    return subprocess.CompletedProcess(["qmpshell", *args], status, _text(stdout), _text(stderr))


def _captured() -> io.TextIOWrapper:
    """A text stream over bytes, as a pipe's would be: ``.buffer`` exists, ``isatty()`` is False."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue().decode("utf-8", "replace")


def _exit_status(argv: list[str]) -> int:
    """``main``'s status; argparse's own exits (usage errors, ``--help``) are statuses too."""
    try:
        return cli.main(argv)
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else 1)


@contextmanager
def _streams(stdin: io.TextIOWrapper, stdout: io.TextIOWrapper, stderr: io.TextIOWrapper) -> Iterator[None]:
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


@contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    """The whole environment replaced by ``env`` for the call (nothing changed without one)."""
    if env is None:
        yield
        return
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
