"""The command line's options: one table, read without argparse when it can be, and the ``Settings``.

The table (``GROUPS``) describes every option once.  ``qmpshell.usage`` builds
argparse's parser from it, for ``--help``, usage errors, the man page and the
shell completions.  A plain command line (every option spelt in full, every
value in range) is read straight from the table instead: building argparse's
parser, with gettext and locale, was 4-5 ms of a 45 ms one-shot.  Anything
else (an abbreviation, ``-kq``, ``-cLINE``, a value that starts with ``-``, a
bad value, ``--help``) goes to argparse, which reads it or says what is wrong.
``tests/test_options.py`` checks that both readings agree.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import SimpleNamespace

from qmpshell.config import Settings, default_history_file, seconds
from qmpshell.errors import UsageError
from qmpshell.numbers import whole_number

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_PARALLEL = 4  # targets at a time (qmpshell.targets)
PROGRAM = "qmpshell"
DESCRIPTION = "An interactive and scriptable shell for the QEMU Machine Protocol (QMP)."
EPILOG = (
    "Exit status: 0 success, 1 a command failed, 2 usage or parse error, "
    "3 could not connect or connection lost, 130 interrupted, 128+N stopped by signal N."
)
ADDRESS_HELP = (
    "UNIX socket path, HOST:PORT, [IPv6]:PORT or libvirt:DOMAIN (default: $QMP_SOCKET, then the "
    "config file's address); several, a glob or libvirt:* run the script against each, or open one "
    "session with all (NAME=ADDR names one)"
)


class Options(SimpleNamespace):
    """The parsed command line: one attribute per option (named as argparse names it) and
    ``address``, the list of addresses."""


def positive(text: str) -> int:
    """A whole number of 1 or more (``--parallel``, ``--history-script``)."""
    number = whole_number(text)
    if number is None or number < 1:
        raise ValueError(f"expected a whole number of 1 or more, got '{text}'")
    return number


class Option:
    """One option as argparse's ``add_argument`` takes it (``action``: store, store_true or append).

    A plain class: a NamedTuple would evaluate these annotations at start, a ``compile()`` each.
    """

    __slots__ = ("flags", "help", "action", "default", "metavar", "choices", "convert", "nargs", "const")

    def __init__(
        self,
        flags: tuple[str, ...],
        help: str,
        action: str = "store",
        default: Any = None,
        metavar: str | tuple[str, ...] | None = None,
        choices: tuple[str, ...] | None = None,
        convert: Callable[[str], Any] | None = None,  # raises ValueError with the message to show
        nargs: int | str | None = None,
        const: Any = None,
    ) -> None:
        self.flags, self.help, self.action, self.default = flags, help, action, default
        self.metavar, self.choices, self.convert, self.nargs, self.const = (
            metavar,
            choices,
            convert,
            nargs,
            const,
        )

    @property
    def initial(self) -> Any:
        """Its value when it is not given (a fresh list for an ``append`` default)."""
        return list(self.default) if isinstance(self.default, tuple) else self.default

    @property
    def dest(self) -> str:
        """The attribute's name, as argparse derives it: the first long flag."""
        long = next((flag for flag in self.flags if flag.startswith("--")), self.flags[0])
        return long.lstrip("-").replace("-", "_")


def _flag(*flags: str, help: str, default: Any = False) -> Option:
    return Option(flags, help, "store_true", default)


def _value(*flags: str, help: str, **more: Any) -> Option:
    return Option(flags, help, **more)


GROUPS: tuple[tuple[str, tuple[Option, ...]], ...] = (
    (
        "input",
        (
            _value(
                "-c", "--command", action="append", metavar="LINE", help="run LINE (repeatable, in order)"
            ),
            _value("-f", "--file", metavar="PATH", help="run the script in PATH ('-' is stdin)"),
            _flag("-H", "--hmp", help="lines are HMP commands"),
            _value(
                "--hmp-via",
                choices=("auto", "qmp", "passthrough"),
                help="HMP lines translated to QMP (qmp), sent to HMP (passthrough) "
                "or both (auto, the default)",
            ),
            _flag(
                "--hmp-coverage",
                help="print which HMP commands run over QMP (on ADDRESS, or what qmpshell translates at all)",
            ),
            _flag("-k", "--keep-going", help="run every line even after a failure"),
            _flag(
                "--pipeline",
                help="send up to 8 lines before their replies (as -k does); replies stay in order",
            ),
            _flag("-n", "--dry-run", help="print the JSON each line would send; send nothing"),
        ),
    ),
    (
        "output",
        (
            _flag("-p", "--pretty", default=None, help="indent JSON replies"),
            _flag("-v", "--verbose", help="write each command as sent before its reply"),
            _flag("--events", help="batch: write events to stdout as they arrive (--replay: compare them)"),
            _flag("--json", help="batch: print only the return values"),
            _value(
                "--format",
                choices=("json", "human", "table"),
                help="replies as JSON (batch default) or for people: tables, trees, text (human = table)",
            ),
            _value("--color", choices=("auto", "always", "never"), help="colour output (default auto)"),
            _value("-l", "--logfile", metavar="PATH", help="append every message sent and received to PATH"),
        ),
    ),
    (
        "connection",
        (
            _flag("-N", "--skip-negotiation", help="no greeting or qmp_capabilities"),
            _value(
                "--timeout", convert=seconds, metavar="SECONDS", help="fail a command with no reply in time"
            ),
            _value(
                "--connect-timeout",
                convert=seconds,
                metavar="SECONDS",
                help="wait this long for the greeting (5)",
            ),
            _flag("--launch", help="start QEMU (argv after --) and connect to it"),
            _flag(
                "--launch-pair",
                help="start two QEMUs (argv after --), src and dst (-incoming defer), for a migration",
            ),
            _flag("--no-reconnect", help="interactive: do not reconnect when QEMU goes"),
            _flag(
                "--quiet-monitor",
                help="send only what you type (and qmp_capabilities, the schema when not cached)",
            ),
            _value(
                "--libvirt-uri", metavar="URI", help="libvirt URI for libvirt:DOMAIN (default: libvirt's own)"
            ),
            _value(
                "--parallel",
                convert=positive,
                default=DEFAULT_PARALLEL,
                metavar="N",
                help=f"with several targets, run N at a time (default {DEFAULT_PARALLEL})",
            ),
        ),
    ),
    (
        "interactive",
        (
            _value(
                "--history", metavar="PATH", help="history file (default $XDG_STATE_HOME/qmpshell/history)"
            ),
            _flag("--no-history", help="keep no history file"),
            _flag("--line", help="a prompt and lines, no full screen (as with TERM=dumb)"),
            _flag("--no-transcript", help="do not print the session to the terminal on exit"),
            _value(
                "--qapi-dir",
                metavar="DIR",
                help="read /help's documentation from a QEMU source tree (its root or qapi/ folder) "
                "instead of the installed manual",
            ),
        ),
    ),
    (
        "record, replay and watch",
        (
            _value(
                "--history-script",
                nargs="?",
                const=0,
                convert=positive,
                metavar="N",
                help="print the last N statements of the history (default all) as a script for -f",
            ),
            _value(
                "--replay",
                metavar="LOG",
                help="send the commands of LOG (a qmpshell, qmp-shell or libvirt log, or -> <- lines) to the "
                "address and compare each reply with the recorded one; with -n print them as a script",
            ),
            _value("--to-script", metavar="LOG", help="print the commands of LOG as a qmpshell script"),
            _value(
                "--ignore",
                action="append",
                default=(),
                metavar="KEY",
                help="--replay: leave out members named KEY at any depth, "
                "or the dotted path KEY (repeatable)",
            ),
            _value(
                "--proxy",
                nargs=2,
                metavar=("LISTEN", "UPSTREAM"),
                help="serve QMP clients on LISTEN (a socket path or loopback HOST:PORT) "
                "through one connection to UPSTREAM, showing their traffic",
            ),
        ),
    ),
    (
        "",  # after the groups, as argparse lists options added to the parser itself
        (
            _flag("--version", help="print the version (and the server's, with -c)"),
            _flag("--print-config", help="print the settings in effect, as TOML"),
        ),
    ),
)
_BY_FLAG = {flag: option for _, options in GROUPS for option in options for flag in option.flags}


def read_plain(words: list[str]) -> Options | None:
    """The options and addresses (which may come before and after options) read as argparse would
    read them, or None when argparse must look (``qmpshell.usage.parse_with_argparse``)."""
    values: dict[str, Any] = {option.dest: option.initial for _, group in GROUPS for option in group}
    addresses: list[str] = []
    words = list(words)
    while words:
        word = words.pop(0)
        if not word.startswith("-"):
            addresses.append(word)
            continue
        name, equals, attached = word.partition("=") if word.startswith("--") else (word, "", "")
        option = _BY_FLAG.get(name)
        if option is None or option.nargs is not None:
            return None
        if option.action == "store_true":
            if equals:
                return None
            values[option.dest] = True
            continue
        if not equals and (not words or (words[0].startswith("-") and words[0] != "-")):
            return None
        value = _converted(option, attached if equals else words.pop(0))
        if value is None:
            return None
        if option.action == "append":
            values[option.dest] = [*(values[option.dest] or ()), value]
        else:
            values[option.dest] = value
    return Options(address=addresses, **values)


def _converted(option: Option, text: str) -> Any:
    """``text`` as the option's value, or None when argparse must say what is wrong with it."""
    if option.choices is not None and text not in option.choices:
        return None
    if option.convert is None:
        return text
    try:
        return option.convert(text)
    except ValueError:
        return None


def terminal_columns(*, fallback: int = 80) -> int:
    """$COLUMNS if set, else the width of the terminal on stdout, else ``fallback``."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or fallback  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return fallback


def split_launch_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """Options before ``--``, QEMU's argv after it (for --launch)."""
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def settings_from(args: Options, base: Settings) -> Settings:
    """Command-line options over the configured defaults."""
    history = None if args.no_history else (args.history or base.history_file or default_history_file())
    changes: dict[str, Any] = {
        "history_file": history,
        "verbose": args.verbose or base.verbose,
        "show_events": args.events or base.show_events,
        "json_only": args.json,
        "keep_going": args.keep_going,
        "pipeline": args.pipeline or args.keep_going,
        "negotiate": not args.skip_negotiation and base.negotiate,
        "hmp": args.hmp or base.hmp,
        "logfile": args.logfile or base.logfile,
        "reconnect": base.reconnect and not args.no_reconnect,
        "probe": base.probe and not args.quiet_monitor,
        "transcript": base.transcript and not args.no_transcript,
        "line_mode": args.line or base.line_mode,
    }
    if args.qapi_dir is not None and not os.path.isdir(args.qapi_dir):
        raise UsageError(f"--qapi-dir {args.qapi_dir}: not a directory (a QEMU source tree or its qapi/)")
    for name in ("pretty", "color", "timeout", "connect_timeout", "libvirt_uri", "qapi_dir", "hmp_via"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.format is not None:
        human = args.format in ("human", "table")
        if human and args.json:
            raise UsageError("--json prints return values as JSON lines; it does not go with --format human")
        changes["batch_format"] = "human" if human else "json"
        changes["output_format"] = "auto" if human else "json"
    return base._replace(**changes)
