"""The optional config file: ``$XDG_CONFIG_HOME/qmpshell/config.toml`` -> ``Settings``.

The file holds the defaults a user sets once; command-line options override
it (``options.settings_from``).  Every key is known here, with its table, its
``Settings`` field and how its value is checked, so that a mistake is reported
as ``FILE:LINE: KEY: what is wrong`` and ``--print-config`` can write the
effective settings back in the same format.  A missing file is not an error.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from qmpshell.config import Settings, default_config_file, seconds
from qmpshell.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _toml() -> ModuleType:
    """The TOML parser (tomli on 3.10), imported only when a config file exists."""
    return importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")


class _Invalid(Exception):
    """A value of the wrong type or out of range; the caller adds the key and line."""


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {_shown(value)}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid(f"expected a non-empty string, got {_shown(value)}")
    return value


def _path(value: Any) -> str:
    return os.path.expanduser(_text(value))


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Invalid(f"expected a whole number of 0 or more, got {_shown(value)}")
    return value


def _count_to(maximum: int) -> Callable[[Any], int]:
    """A count from 0 to ``maximum`` (docs/limits.md): TOML's integers reach 2**63, which a deque,
    a history or a transcript cannot hold (they failed at start-up with an internal error)."""

    def check(value: Any) -> int:
        count = _count(value)
        if count > maximum:
            raise _Invalid(f"expected a whole number from 0 to {maximum:,}, got {_shown(value)}")
        return count

    return check


EVENTS_KEPT_MAX = 1_000_000
HISTORY_MAX = 1_000_000
TRANSCRIPT_MAX = 1_000_000


def _seconds(value: Any) -> float:
    if isinstance(value, str):  # TOML keeps "5" and 5 apart; so does this file
        raise _Invalid(f"expected a number of seconds, got {_shown(value)}")
    try:
        return seconds(value)
    except ValueError as err:
        raise _Invalid(str(err)) from None


def _width(value: Any) -> float:
    """Columns (a whole number, 10 or more) or a fraction of the terminal (more than 0, less than 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Invalid(
            f"expected columns (e.g. 40) or a fraction of the terminal (e.g. 0.25), got {_shown(value)}"
        )
    if (isinstance(value, int) and value >= 10) or (isinstance(value, float) and 0 < value < 1):
        return value
    raise _Invalid(f"expected 10 or more columns, or a fraction between 0 and 1, got {_shown(value)}")


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise _Invalid(f"expected a list of event names or patterns, got {_shown(value)}")
    return tuple(value)


def _theme(value: Any) -> str:
    """A pygments style name; pygments is imported only when a theme is configured."""
    from pygments.styles import STYLE_MAP, get_style_by_name
    from pygments.util import ClassNotFound

    name = _text(value)
    if name == "terminal":  # the terminal's own palette (repl/style.py), not a pygments style
        return name
    try:
        get_style_by_name(name)
    except ClassNotFound:
        close = difflib.get_close_matches(name, STYLE_MAP, n=1)
        hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(STYLE_MAP))}"
        raise _Invalid(f"unknown pygments style {_shown(name)} ({hint})") from None
    return name


def _one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise _Invalid(f"expected one of {', '.join(choices)}, got {_shown(value)}")
        return str(value)

    return check


def _shown(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


@dataclass(frozen=True)
class Key:
    """One key of the file: ``table.name``, the ``Settings`` field it sets, its check and meaning."""

    table: str
    name: str
    field: str
    convert: Callable[[Any], Any]
    help: str

    @property
    def dotted(self) -> str:
        return f"{self.table}.{self.name}"


KEYS: tuple[Key, ...] = (
    Key(
        "output",
        "color",
        "color",
        _one_of("auto", "always", "never"),
        "auto: only on a terminal, without $NO_COLOR",
    ),
    Key(
        "output",
        "format",
        "output_format",
        _one_of("auto", "json", "compact"),
        "interactive replies: auto (tables, trees, text), json, compact",
    ),
    Key("output", "pretty", "pretty", _boolean, "indent JSON replies"),
    Key("output", "verbose", "verbose", _boolean, "show each command as sent"),
    Key("output", "events", "show_events", _boolean, "batch: write events to stdout"),
    Key("output", "theme", "theme", _theme, "pygments style of the interactive shell"),
    Key("events", "pane", "events_pane", _boolean, "show the events pane at start"),
    Key("events", "filter", "events_filter", _names, "event names or globs shown in the pane (empty: all)"),
    Key("events", "pane_size", "events_pane_size", _count_to(EVENTS_KEPT_MAX), "events kept in the pane"),
    Key(
        "events", "pane_width", "events_pane_width", _width, "the pane's columns, or a fraction such as 0.25"
    ),
    Key(
        "events",
        "pane_min_columns",
        "events_pane_min_columns",
        _count,
        "a narrower terminal starts it hidden",
    ),
    Key("history", "file", "history_file", _path, "history file"),
    Key("history", "size", "history_size", _count_to(HISTORY_MAX), "lines of history kept"),
    Key("connection", "timeout", "timeout", _seconds, "seconds a command may take (not set: no limit)"),
    Key("connection", "connect_timeout", "connect_timeout", _seconds, "seconds to wait for the greeting"),
    Key("connection", "negotiate", "negotiate", _boolean, "send qmp_capabilities (false: like -N)"),
    Key("connection", "reconnect", "reconnect", _boolean, "interactive: reconnect when QEMU goes away"),
    Key("connection", "probe", "probe", _boolean, "ask QEMU for completion, state (false: --quiet-monitor)"),
    Key("connection", "address", "address", _text, "address when none is given nor $QMP_SOCKET set"),
    Key("connection", "libvirt_uri", "libvirt_uri", _text, "libvirt URI for libvirt:DOMAIN (--libvirt-uri)"),
    Key("interactive", "key_bindings", "key_bindings", _one_of("emacs", "vi"), "line editing keys"),
    Key("interactive", "hmp", "hmp", _boolean, "start in HMP mode"),
    Key("hmp", "via", "hmp_via", _one_of("auto", "qmp", "passthrough"), "HMP lines over QMP, or HMP itself"),
    Key("interactive", "transcript", "transcript", _boolean, "print the session to the terminal on exit"),
    Key(
        "interactive",
        "transcript_lines",
        "transcript_lines",
        _count_to(TRANSCRIPT_MAX),
        "at most this many lines of it",
    ),
    Key("interactive", "transcript_events", "transcript_events", _boolean, "events in it, in time order"),
    Key("interactive", "line_mode", "line_mode", _boolean, "a prompt and lines, no full screen (--line)"),
    Key("interactive", "instant_prompt", "instant_prompt", _boolean, "a first frame at once (false: wait)"),
    Key("schema", "cache", "schema_cache", _boolean, "cache query-qmp-schema per QEMU version"),
    Key("log", "file", "logfile", _path, "append every message sent and received here"),
    Key("docs", "qapi_dir", "qapi_dir", _path, "QEMU source tree whose qapi/*.json documents /help"),
)
TABLES: tuple[str, ...] = tuple(dict.fromkeys(key.table for key in KEYS))
_BY_NAME = {key.dotted: key for key in KEYS}


def load_config(path: str | None = None, *, base: Settings | None = None) -> Settings:
    """``base`` (the defaults) with the file at ``path`` (default: the XDG location) applied."""
    settings = base if base is not None else Settings()
    path = path if path is not None else default_config_file()
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return settings
    except OSError as err:
        raise UsageError(f"cannot read config file {path}: {err.strerror or err}") from err
    return settings._replace(**parse_config(_decoded(data, path), source=path))


def _decoded(data: bytes, path: str) -> str:
    """The file's text, a UTF-8 byte-order mark skipped; bad UTF-8 named by line and byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1)
        raise UsageError(f"{path}:{line}: invalid UTF-8 at byte {column + 1}") from None


def parse_config(text: str, *, source: str = "config.toml") -> dict[str, Any]:
    """The ``Settings`` fields a config text sets; ``UsageError`` naming key and line otherwise."""
    tomllib = _toml()
    try:
        document = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"{source}: invalid TOML: {err}") from None
    except RecursionError:  # [[[[...]]]] or {a = {b = ...}} thousands deep
        raise UsageError(f"{source}: invalid TOML: nested too deeply") from None
    changes: dict[str, Any] = {}
    for dotted, value in _leaves(document, text, source):
        key = _BY_NAME.get(dotted)
        if key is None:
            raise _error(source, text, dotted, f"unknown key{_suggestion(dotted)}")
        try:
            changes[key.field] = key.convert(value)
        except _Invalid as err:
            raise _error(source, text, dotted, str(err)) from None
    return changes


def _leaves(document: dict[str, Any], text: str, source: str) -> list[tuple[str, Any]]:
    leaves: list[tuple[str, Any]] = []
    for table, content in document.items():
        if table not in TABLES:
            raise _error(source, text, table, _unknown_top_level(table, content))
        if not isinstance(content, dict):
            raise _error(source, text, table, f"expected a table ([{table}]), got {_shown(content)}")
        leaves.extend((f"{table}.{name}", value) for name, value in content.items())
    return leaves


def _unknown_top_level(name: str, content: Any) -> str:
    if isinstance(content, dict):
        return f"unknown table{_suggestion(name, tables=True)}"
    homes = [key.dotted for key in KEYS if key.name == name]
    if homes:
        return f"unknown key (did you mean {homes[0]}, under [{homes[0].split('.')[0]}]?)"
    return f"unknown key{_suggestion(name)}"


def _suggestion(dotted: str, *, tables: bool = False) -> str:
    known = list(TABLES) if tables else list(_BY_NAME)
    close = difflib.get_close_matches(dotted, known, n=1)
    return f" (did you mean {close[0]}?)" if close else f"; known: {', '.join(known)}"


def _error(source: str, text: str, dotted: str, problem: str) -> UsageError:
    line = find_line(text, dotted)
    where = f"{source}:{line}" if line else source
    return UsageError(f"{where}: {dotted}: {problem}")


_HEADER = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ASSIGN = re.compile(r"\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")


def find_line(text: str, dotted: str) -> int | None:
    """The 1-based line that defines ``dotted`` (or the nearest enclosing key), if it can be seen.

    tomllib reports no positions for keys, so this reads the lines the way a
    person would: ``[table]`` headers and ``key = ...`` assignments (dotted or
    quoted keys included).  Multi-line values are rare enough in this file.
    """
    best: tuple[int, int] | None = None  # (length of the matched prefix, line)
    table: list[str] = []
    wanted = dotted.split(".")
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _key_parts(header.group(1))
            path = table
        else:
            assign = _ASSIGN.match(line)
            if not assign:
                continue
            path = table + _key_parts(assign.group(1))
        if path == wanted[: len(path)] and (best is None or len(path) > best[0]):
            best = (len(path), number)
    return best[1] if best else None


def _key_parts(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in key.split(".")]


def config_text(settings: Settings) -> str:
    """The settings as a config file (what ``--print-config`` prints); unset values commented out."""
    lines = ["# qmpshell settings in effect (config file, then command-line options)"]
    for table in TABLES:
        lines += ["", f"[{table}]"]
        for key in KEYS:
            if key.table == table:
                lines.append(_assignment(key, getattr(settings, key.field)))
    return "\n".join(lines) + "\n"


def _assignment(key: Key, value: Any) -> str:
    if value is None:
        return f"# {key.name} = (not set)  # {key.help}"
    return f"{key.name} = {toml_value(value)}  # {key.help}"


def toml_value(value: Any) -> str:
    """A TOML literal for a bool, number, string or sequence of strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    # A JSON string is a TOML basic string, except that TOML also wants DEL escaped; the C1 controls
    # are escaped too, so that --print-config never writes an 8-bit CSI (U+009B) to a terminal.
    return re.sub("[\x7f-\x9f]", _escaped, json.dumps(str(value), ensure_ascii=False))


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"
