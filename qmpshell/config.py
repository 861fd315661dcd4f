"""Settings: one frozen object, built once by the CLI and passed down.

Also the XDG locations of the files qmpshell keeps (history, cache, config).
"""

from __future__ import annotations

import math
import os

from qmpshell.records import NamedTuple

MAX_SECONDS = 86_400.0  # one day: the longest timeout accepted anywhere


def seconds(value: object) -> float:
    """A timeout: a finite number of seconds, more than 0 and at most a day; ``ValueError`` else.

    (``inf`` overflows lock and socket timeouts; ``nan`` compares false with everything.)
    """
    shown = value if isinstance(value, str) else repr(value)
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"expected a number of seconds, got '{value}'") from None
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise ValueError(f"expected a number of seconds, got {shown}")
    if math.isnan(number) or number <= 0:
        raise ValueError(f"expected a number of seconds greater than 0, got {shown}")
    if number > MAX_SECONDS:
        raise ValueError(f"expected at most {MAX_SECONDS:g} seconds (a day), got {shown}")
    return float(number)


class Settings(NamedTuple):
    """Every user-adjustable behaviour; defaults here, overridden by config file then options."""

    color: str = "auto"  # auto | always | never
    pretty: bool = False
    verbose: bool = False
    show_events: bool = False  # batch: write events to stdout
    json_only: bool = False  # batch: print only return values
    output_format: str = "auto"  # interactive replies: auto (views) | json (indented) | compact (one line)
    batch_format: str = "json"  # batch replies: json (JSON lines) | human (the views, --format human)
    keep_going: bool = False
    pipeline: bool = False  # batch: up to 8 commands in flight (-k, --pipeline) when QEMU offers oob
    timeout: float | None = None  # seconds a command may take; None waits forever
    connect_timeout: float = 5.0
    negotiate: bool = True
    hmp: bool = False
    hmp_via: str = "auto"  # auto | qmp | passthrough: how HMP lines run (qmpshell.hmp.engine)
    logfile: str | None = None
    history_file: str | None = None  # None: no history
    history_size: int = 10000
    events_pane: bool = True
    events_filter: tuple[str, ...] = ()
    events_pane_size: int = 500
    events_pane_width: float = 0.4  # columns, or (below 1) a fraction of the terminal
    events_pane_min_columns: int = 100  # a narrower terminal starts with the pane hidden
    reconnect: bool = True
    probe: bool = True  # ask QEMU on the shell's own account (completion, run state); --quiet-monitor: no
    address: str | None = None  # a socket, HOST:PORT or libvirt:DOMAIN, when none is given
    libvirt_uri: str | None = None  # None: libvirt's own default
    theme: str = "terminal"  # the terminal's own ANSI palette; or any pygments style
    key_bindings: str = "emacs"  # emacs | vi
    schema_cache: bool = True
    qapi_dir: str | None = None  # a QEMU source tree whose qapi/*.json documents /help (--qapi-dir)
    transcript: bool = True  # print the session's output to the normal screen when the shell exits
    transcript_lines: int = 1000
    transcript_events: bool = True  # events in the transcript, in time order with the replies
    line_mode: bool = False  # a prompt and lines, no full screen (--line; also TERM=dumb)
    instant_prompt: bool = True  # the full screen's first frame drawn before prompt_toolkit loads


def _xdg(variable: str, fallback: str) -> str:
    base = os.environ.get(variable) or os.path.join(os.path.expanduser("~"), fallback)
    return os.path.join(base, "qmpshell")


def state_dir() -> str:
    """``$XDG_STATE_HOME/qmpshell`` (history)."""
    return _xdg("XDG_STATE_HOME", ".local/state")


def cache_dir() -> str:
    """``$XDG_CACHE_HOME/qmpshell`` (schema cache)."""
    return _xdg("XDG_CACHE_HOME", ".cache")


def config_dir() -> str:
    """``$XDG_CONFIG_HOME/qmpshell`` (config.toml)."""
    return _xdg("XDG_CONFIG_HOME", ".config")


def default_history_file() -> str:
    return os.path.join(state_dir(), "history")


def default_config_file() -> str:
    return os.path.join(config_dir(), "config.toml")
