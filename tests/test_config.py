"""The config file: applied, overridden by options, printed back, and precise when wrong.

The TOML parser comes from configfile so that Python 3.10 (tomli) runs these too.
End-to-end cases run the real command against a real QEMU with
``$XDG_CONFIG_HOME`` pointing at the test's own directory (see conftest).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from qmpshell.config import Settings, default_config_file
from qmpshell.configfile import KEYS, _toml, config_text, find_line, load_config, parse_config
from qmpshell.errors import UsageError
from tests.qemu_support import Qemu, run_qmpshell


def write_config(text: str) -> Path:
    path = Path(default_config_file())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


SAMPLE = """\
# a user's defaults
[output]
color = "never"
pretty = true

[events]
pane = false
filter = ["STOP", "RESUME"]

[history]
file = "~/qmp-history"
size = 500

[connection]
timeout = 30
connect_timeout = 2.5

[interactive]
key_bindings = "vi"
"""


def test_a_sample_file_sets_each_field() -> None:
    path = write_config(SAMPLE)
    settings = load_config(str(path))
    assert settings == Settings(
        color="never",
        pretty=True,
        events_pane=False,
        events_filter=("STOP", "RESUME"),
        history_file=os.path.expanduser("~/qmp-history"),
        history_size=500,
        timeout=30.0,
        connect_timeout=2.5,
        key_bindings="vi",
    )


def test_the_default_location_is_read() -> None:
    write_config('[interactive]\nkey_bindings = "vi"\n')
    assert load_config().key_bindings == "vi"


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    assert load_config(str(tmp_path / "absent.toml")) == Settings()


def test_dotted_keys_and_inline_tables_are_toml_too() -> None:
    assert parse_config("output.pretty = true\nevents = { pane = false }\n") == {
        "pretty": True,
        "events_pane": False,
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[output]\npretty = true\ncolour = "always"\n',
            "config.toml:3: output.colour: unknown key (did you mean output.color?)",
        ),
        (
            '[output]\n\ncolor = "blue"\n',
            'config.toml:3: output.color: expected one of auto, always, never, got "blue"',
        ),
        (
            "[history]\nsize = -1\n",
            "config.toml:2: history.size: expected a whole number of 0 or more, got -1",
        ),
        (
            "[connection]\n# no limit\ntimeout = 0\n",
            "config.toml:3: connection.timeout: expected a number of seconds greater than 0, got 0",
        ),
        (
            '[events]\nfilter = "STOP"\n',
            'config.toml:2: events.filter: expected a list of event names or patterns, got "STOP"',
        ),
        ('[output]\npretty = "yes"\n', 'config.toml:2: output.pretty: expected true or false, got "yes"'),
        ("\n[outptu]\npretty = true\n", "config.toml:2: outptu: unknown table (did you mean output?)"),
        (
            'color = "never"\n',
            "config.toml:1: color: unknown key (did you mean output.color, under [output]?)",
        ),
        ("output = 3\n", "config.toml:1: output: expected a table ([output]), got 3"),
        (
            "[interactive]\nkey_bindings = 'vim'\n",
            'config.toml:2: interactive.key_bindings: expected one of emacs, vi, got "vim"',
        ),
        (
            '[output]\ntheme = "monokia"\n',
            'config.toml:2: output.theme: unknown pygments style "monokia" (did you mean monokai?)',
        ),
        ("[output]\n\n  pretty  = true\n", None),
    ],
)
def test_an_invalid_file_names_the_key_and_line(text: str, message: str | None) -> None:
    if message is None:
        assert parse_config(text) == {"pretty": True}
        return
    with pytest.raises(UsageError) as caught:
        parse_config(text)
    assert str(caught.value) == message


def test_invalid_toml_says_where() -> None:
    with pytest.raises(UsageError, match=r"^config.toml: invalid TOML: .*\(at line 3, column \d+\)"):
        parse_config("[output]\npretty = true\ncolor = \n")


def test_find_line_follows_tables_and_dotted_keys() -> None:
    text = '[output]\ncolor = "x"\n[events]\n"pane" = true\noutput.theme = 1\n'
    assert find_line(text, "output.color") == 2
    assert find_line(text, "events.pane") == 4
    assert find_line(text, "events.output.theme") == 5
    assert find_line(text, "history.size") is None


def test_print_config_is_a_config_file_that_reads_back() -> None:
    settings = Settings(timeout=4.0, events_filter=('ODD "NAME"',), theme="monokai", logfile="/tmp/x\x7fy")
    text = config_text(settings)
    assert _toml().loads(text)["output"]["theme"] == "monokai"
    assert Settings(**parse_config(text)) == settings


def test_print_config_lists_every_key_and_comments_out_unset_ones() -> None:
    text = config_text(Settings())
    for key in KEYS:
        assert f"\n{key.name} = " in text or f"\n# {key.name} = (not set)" in text, key.dotted
    assert "# timeout = (not set)" in text


def test_print_config_command_shows_file_and_options() -> None:
    write_config('[output]\ncolor = "always"\npretty = true\n[connection]\ntimeout = 9\n')
    result = run_qmpshell("--print-config", "--color", "never", "--timeout", "2")
    assert result.returncode == 0, result.stderr
    printed = _toml().loads(result.stdout)
    assert printed["output"]["color"] == "never"  # the option wins
    assert printed["output"]["pretty"] is True  # the file's value stays
    assert printed["connection"]["timeout"] == 2.0
    assert printed["history"]["file"].endswith("qmpshell/history")


def test_the_file_shapes_a_real_session(qemu: Qemu) -> None:
    write_config("[output]\npretty = true\n")
    result = run_qmpshell("-c", "query-status", qemu.socket)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('{\n  "return": {\n')
    assert json.loads(result.stdout)["return"]["status"] == "running"


def test_hmp_from_the_file(qemu: Qemu) -> None:
    write_config("[interactive]\nhmp = true\n")
    result = run_qmpshell("-c", "info status", qemu.socket)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "VM status: running\n"


def test_options_override_the_file(qemu: Qemu) -> None:
    write_config('[output]\ncolor = "always"\n')
    coloured = run_qmpshell("-c", "query-status", qemu.socket)
    assert "\x1b[" in coloured.stdout
    plain = run_qmpshell("--color=never", "-c", "query-status", qemu.socket)
    assert "\x1b[" not in plain.stdout
    assert json.loads(plain.stdout)["return"]["status"] == "running"


def test_an_invalid_file_stops_the_command_with_status_2(qemu: Qemu) -> None:
    path = write_config("[output]\npretty = true\ncolour = 1\n")
    result = run_qmpshell("-c", "query-status", qemu.socket)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"qmpshell: {path}:3: output.colour: unknown key (did you mean output.color?)\n"


def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(UsageError, match="cannot read config file"):
        load_config(str(tmp_path / "dir.toml"))
