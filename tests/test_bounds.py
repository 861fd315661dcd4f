"""Bounds and batch contracts: line limit (C5), linear statement assembly (C4), nesting depth (C6),
--dry-run and bad UTF-8 (W9), -c with -f (W10), a byte-order mark in mid-file (W11)."""

from __future__ import annotations

import json
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakeserver import Answer, FakeServer, handshake, line
from tests.qemu_support import Qemu, json_lines, qmpshell_argv, run_qmpshell


def test_dry_run_on_stdin_exits_2_after_a_line_that_is_not_utf8() -> None:
    result = run_qmpshell("--dry-run", input=b"query-status\n\xff\xfe bad\nquery-name\n")
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 2: invalid UTF-8 at byte 1\n"
    assert json_lines(result.stdout) == [{"execute": "query-status"}]


def test_command_with_file_is_a_usage_error(tmp_path: Path) -> None:
    script = tmp_path / "script.qmp"
    script.write_text("query-name\n")
    result = run_qmpshell("-c", "query-status", "-f", str(script), "--dry-run")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "qmpshell: -c and -f cannot be combined: put the -c lines in the script, or run it twice\n"
    )


def test_a_byte_order_mark_in_mid_file_is_an_error_with_its_line(tmp_path: Path, qemu: Qemu) -> None:
    script = tmp_path / "script.qmp"
    script.write_bytes(b"\xef\xbb\xbfquery-status\nquery-name\n\xef\xbb\xbfquery-status\n")
    result = run_qmpshell("-f", str(script), qemu.socket)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"qmpshell: {script}:3: a byte-order mark (U+FEFF) inside the script: save it as UTF-8 without BOM\n"
    )
    piped = run_qmpshell(qemu.socket, input=b"\xef\xbb\xbfquery-name\nquery-\xef\xbb\xbfstatus\n")
    assert piped.returncode == 2
    assert json_lines(piped.stdout) == [{"return": {}}]  # the first line's mark is an editor's: fine
    assert piped.stderr == (
        "qmpshell: 2: a byte-order mark (U+FEFF) inside the script: save it as UTF-8 without BOM\n"
    )


MEMORY_CAP = 1024 * 1024 * 1024  # address space of the run: reading the input whole would exceed it


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def _bounded_run(args: list[str], *, source: str) -> tuple[int, str]:
    """qmpshell reading ``source`` (``zero``: /dev/zero on stdin) within ``MEMORY_CAP``."""
    with open("/dev/zero", "rb") as zero:
        stdin = zero if source == "zero" else subprocess.DEVNULL
        process = subprocess.Popen(
            qmpshell_argv(*args), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, preexec_fn=_cap_memory,
        )  # fmt: skip
        try:
            _, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
            process.wait()
    return process.returncode, stderr


def test_input_without_a_newline_is_refused_at_the_line_limit_not_read_whole() -> None:
    status, stderr = _bounded_run(["-n", "-f", "/dev/zero"], source="none")
    assert (status, stderr) == (
        2,
        "qmpshell: /dev/zero:1: line longer than 16 MiB (the limit; is this a script?)\n",
    )
    status, stderr = _bounded_run(["--dry-run"], source="zero")
    assert (status, stderr) == (2, "qmpshell: 1: line longer than 16 MiB (the limit; is this a script?)\n")


def test_ten_thousand_lines_of_pretty_json_assemble_in_linear_time() -> None:
    arguments = {"path": "/machine", "items": [{"n": n, "text": "a [ { bracket"} for n in range(2500)]}
    text = json.dumps({"execute": "qom-list", "arguments": arguments}, indent=2)
    assert text.count("\n") > 10_000
    started = time.monotonic()
    result = run_qmpshell("--dry-run", input=text + "\n")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [{"execute": "qom-list", "arguments": arguments}]
    assert elapsed < 10, f"{elapsed:.1f} s"  # quadratic: about 90 s


def _nested(levels: int) -> Any:
    """A value of ``levels`` containers, lists and objects in turn."""
    value: Any = 1
    for level in range(levels):
        value = {"a": value} if level % 2 else [value]
    return value


@pytest.mark.parametrize("levels", [512, 990])  # with the reply's own object: 513; and where Python gave up
def test_a_reply_nested_past_the_limit_ends_the_connection_with_one_line(tmp_path: Path, levels: int) -> None:
    opening = "".join('{"a":' if level % 2 else "[" for level in reversed(range(levels)))
    closing = "".join("}" if level % 2 else "]" for level in range(levels))
    deep = opening + "1" + closing  # as text: json.dumps itself cannot write it
    reply = Answer(lambda command: f'{{"return": {deep}, "id": {json.dumps(command["id"])}}}\r\n'.encode())
    with FakeServer(tmp_path / "deep.sock", [*handshake(), reply]):
        result = run_qmpshell("-l", str(tmp_path / "log"), "-c", "query-status", str(tmp_path / "deep.sock"))
    assert result.returncode == 3
    assert result.stderr == "qmpshell: 1: server sent JSON nested more than 512 levels deep (line 3)\n"


def test_a_reply_at_the_limit_is_rendered_logged_and_shown_as_json(tmp_path: Path) -> None:
    deep = _nested(511)
    for options in (["--format", "human"], ["--json", "-l", str(tmp_path / "log")]):
        reply = Answer(lambda command: line({"return": deep, "id": command["id"]}))
        with FakeServer(tmp_path / "ok.sock", [*handshake(), reply]):
            result = run_qmpshell(*options, "-c", "query-status", str(tmp_path / "ok.sock"))
        (tmp_path / "ok.sock").unlink()
        assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [deep]


def test_typed_json_nested_past_the_limit_is_a_parse_error() -> None:
    text = json.dumps({"execute": "x", "arguments": {"v": _nested(600)}})
    result = run_qmpshell("--dry-run", "-c", text)
    assert result.returncode == 2
    assert result.stderr.startswith("qmpshell: 1: JSON nested more than 512 levels deep (column 1)")
