"""Input edges: byte-order marks, control characters typed, timeouts out of range, odd config
files, numbers JSON cannot carry, and credentials written into URLs.

Each case runs qmpshell as a user would, against a real QEMU where one is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmpshell.configfile import _toml
from qmpshell.repl.history import SecretFreeHistory
from tests.inprocess import run_inprocess
from tests.qemu_support import Qemu, json_lines, run_qmpshell, status_return

BOM = b"\xef\xbb\xbf"


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("qmpshell: ") and "Traceback" not in stderr
    return lines[0]


# -- byte-order marks ------------------------------------------------------------------------------


def test_a_byte_order_mark_starting_a_script_is_skipped(qemu: Qemu, tmp_path: Path) -> None:
    """Before: ``qmpshell: 1: unknown command '\\ufeffquery-status'``."""
    script = tmp_path / "script.qmp"
    script.write_bytes(BOM + b"query-status\nquery-name\n")
    result = run_qmpshell(qemu.socket, "-f", str(script))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert [reply["return"] for reply in json_lines(result.stdout)][1] == {}


def test_a_byte_order_mark_starting_stdin_is_skipped(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "--json", input=BOM + b"query-name\n")
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [{}]


def test_a_byte_order_mark_starting_the_config_file_is_skipped(private_xdg: Path) -> None:
    config = private_xdg / "xdg_config_home" / "qmpshell" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_bytes(BOM + b"[output]\npretty = true\n")
    result = run_qmpshell("--print-config")
    assert result.returncode == 0, result.stderr
    assert "\npretty = true" in result.stdout


def test_print_config_escapes_control_characters_from_the_config_file(private_xdg: Path) -> None:
    """TOML lets U+009B stand raw in a string; written to a terminal it would start a command."""
    config = private_xdg / "xdg_config_home" / "qmpshell" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[connection]\naddress = "/tmp/\\u001b[2Jx\\u009by\\u007f"\n')
    result = run_qmpshell("--print-config")
    assert result.returncode == 0, result.stderr
    assert not any(raw in result.stdout for raw in ("\x1b", "\x9b", "\x7f"))
    assert 'address = "/tmp/\\u001b[2Jx\\u009by\\u007f"' in result.stdout
    assert _toml().loads(result.stdout)["connection"]["address"] == "/tmp/\x1b[2Jx\x9by\x7f"


# -- odd config files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n", "invalid TOML: nested too deeply"),
        (b"a = " + b"{b = " * 5000 + b"1" + b"}" * 5000 + b"\n", "invalid TOML: nested too deeply"),
        (b"[output]\npretty = true # caf\xe9\n", "2: invalid UTF-8 at byte 20"),
    ],
    ids=["deep-arrays", "deep-tables", "latin-1"],
)
def test_an_odd_config_file_is_one_line_naming_it(private_xdg: Path, content: bytes, problem: str) -> None:
    """Before: ``internal error: RecursionError`` and a decoder's message."""
    config = private_xdg / "xdg_config_home" / "qmpshell" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_bytes(content)
    result = run_inprocess("--print-config")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith(f"qmpshell: {config}") and line.endswith(problem)


# -- timeouts --------------------------------------------------------------------------------------

BAD_SECONDS = {
    "inf": "expected at most 86400 seconds (a day), got inf",
    "1e400": "expected at most 86400 seconds (a day), got 1e400",
    "86401": "expected at most 86400 seconds (a day), got 86401",
    "nan": "expected a number of seconds greater than 0, got nan",
    "0": "expected a number of seconds greater than 0, got 0",
    "-1": "expected a number of seconds greater than 0, got -1",
    "soon": "expected a number of seconds, got 'soon'",
}


@pytest.mark.parametrize("option", ["--timeout", "--connect-timeout"])
@pytest.mark.parametrize("value", list(BAD_SECONDS))
def test_timeout_options_must_be_sensible(option: str, value: str) -> None:
    """Before: ``--timeout inf`` died of OverflowError in the lock; ``nan`` waited forever."""
    result = run_inprocess("/nonexistent.sock", f"{option}={value}", "-c", "query-status")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == f"qmpshell: error: argument {option}: {BAD_SECONDS[value]}"


@pytest.mark.parametrize("value", list(BAD_SECONDS))
def test_wait_timeouts_must_be_sensible(qemu: Qemu, value: str) -> None:
    result = run_qmpshell(qemu.socket, "-c", f"/wait STOP timeout={value}")
    assert result.returncode == 2
    assert one_line(result.stderr) == f"qmpshell: 1: timeout=: {BAD_SECONDS[value]}"


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ("inf", "expected at most 86400 seconds (a day), got inf"),
        ("nan", "expected a number of seconds greater than 0, got nan"),
        ("1e400", "expected at most 86400 seconds (a day), got inf"),
        ("100_000", "expected at most 86400 seconds (a day), got 100000"),
        ('"5"', 'expected a number of seconds, got "5"'),
    ],
)
@pytest.mark.parametrize("key", ["timeout", "connect_timeout"])
def test_timeout_config_keys_must_be_sensible(private_xdg: Path, key: str, toml: str, problem: str) -> None:
    config = private_xdg / "xdg_config_home" / "qmpshell" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f"[connection]\n{key} = {toml}\n")
    result = run_inprocess("--print-config")
    assert result.returncode == 2
    assert one_line(result.stderr) == f"qmpshell: {config}:2: connection.{key}: {problem}"


def test_a_sensible_timeout_still_works(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "--timeout", "86400", "--connect-timeout", "0.5", "-c", "query-status")
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [{"return": status_return("running", running=True)}]


# -- what a user types -----------------------------------------------------------------------------


def test_control_characters_typed_are_shown_in_errors_with_the_caret_in_place(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input=b"query-status x=\x01\x00 y={\n")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "qmpshell: 1: unclosed '{' (column 21)",
        "  query-status x=^A^@ y={",
        "                        ^",
    ]
    result = run_qmpshell(qemu.socket, "-c", "query\x1b[2Jstatus")
    assert one_line(result.stderr).startswith("qmpshell: 1: unknown command 'query^[[2Jstatus'")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("x-fake n=" + "7" * 5000, "an integer of more than 4300 digits"),
        ("x-fake f=1" + "0" * 400 + ".5", "number 100000000000000000000000... is out of range"),
        ('x-fake v={"a": NaN}', "invalid JSON: NaN is not a JSON value"),
        (
            '{"execute": "x-fake", "arguments": {"a": -Infinity}}',
            "invalid JSON: -Infinity is not a JSON value",
        ),
    ],
    ids=["digits", "overflow", "nan", "raw-infinity"],
)
def test_numbers_json_cannot_carry_are_refused_before_sending(qemu: Qemu, line: str, problem: str) -> None:
    """Before: ``f=1e400`` was sent as ``Infinity`` (invalid JSON); 5,000 digits crashed the parser.

    (``1e400`` itself now stays the string it is written as: untyped numbers are plain decimals.)
    """
    result = run_qmpshell(qemu.socket, "-v", "-N", input=line + "\n")
    assert result.returncode == 2
    assert problem in result.stderr.splitlines()[0]
    assert result.stdout == ""  # nothing sent (-v would show it)


@pytest.mark.parametrize(
    "line",
    [
        'qom-get path="/\\ud800" property=type',
        '{"execute": "qom-get", "arguments": {"path": "/\\ud800", "property": "type"}}',
    ],
    ids=["keys", "json"],
)
def test_a_lone_surrogate_typed_is_sent_as_its_escape(qemu: Qemu, line: str) -> None:
    """Before: ``internal error: UnicodeEncodeError`` (-v, -n, the send); QEMU now says what it is."""
    result = run_qmpshell(qemu.socket, "-v", "-c", line)
    assert result.returncode == 1
    sent = json_lines(result.stdout)[0]
    assert sent["arguments"]["path"] == "/\ud800" and "\\ud800" in result.stdout.splitlines()[0]
    assert (
        result.stderr
        == "qmpshell: 1: GenericError: JSON parse error, \\ud800 is not a valid Unicode character\n"
    )
    dry = run_qmpshell("-n", "-c", line)
    assert dry.returncode == 0, dry.stderr
    assert json_lines(dry.stdout)[0]["arguments"]["path"] == "/\ud800"


# -- credentials in URLs ---------------------------------------------------------------------------

URL = "https://alice:s3cret-pw@127.0.0.1:9/disk.img"


def test_credentials_in_a_url_never_reach_the_log(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    command = f"blockdev-add driver=raw node-name=web file.driver=https file.url={URL}"
    result = run_qmpshell(qemu.socket, "-l", str(log), "-c", command)
    assert result.returncode == 1  # nothing listens there (or the curl driver is missing)
    text = log.read_text()
    assert "s3cret-pw" not in text and "alice" not in text
    sent = [json.loads(line)["message"] for line in text.splitlines()]
    add = next(m for m in sent if m.get("execute") == "blockdev-add")
    assert add["arguments"]["file"]["url"] == "https://<redacted>@127.0.0.1:9/disk.img"


def test_credentials_in_a_url_never_reach_the_history(tmp_path: Path) -> None:
    path = tmp_path / "history"
    history = SecretFreeHistory(str(path), is_hmp=lambda: False)
    history.append_string(f"blockdev-add driver=raw node-name=web file.driver=https file.url={URL}")
    history.append_string("drive_add 0 file=ftp://bob:hunter2@host/x.img,if=none")
    history.append_string("query-status")
    assert "s3cret-pw" not in path.read_text() and "hunter2" not in path.read_text()
    redacted = [
        "blockdev-add driver=raw node-name=web file.driver=https file.url=https://<redacted>@127.0.0.1:9/disk.img",
        "drive_add 0 file=ftp://<redacted>@host/x.img,if=none",
        "query-status",
    ]
    assert history.get_strings() == redacted  # redacted, not dropped (issue 13 item 6)
    assert [line[1:] for line in path.read_text().splitlines() if line.startswith("+")] == redacted


def test_the_interactive_pane_shows_control_characters_with_the_caret_in_place() -> None:
    """The output pane's parse error: ``^A`` takes two columns, so the caret moves with it."""
    from qmpshell.errors import ParseError
    from qmpshell.repl.styled import failure

    ((_, text),) = failure(ParseError("unclosed '{'", "x a=\x01 b={", 8))
    message, shown, caret = text.rstrip("\n").split("\n")
    assert shown == "  x a=^A b={"
    assert caret.index("^") == shown.index("{")
