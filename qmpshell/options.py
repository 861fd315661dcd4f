"""The command line's options: the argparse parser, and the ``Settings`` they make over the config.

``cli`` parses with it; ``manpage`` and the shell completions' tests read the same parser, so the
options are described once.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from qmpshell.config import Settings, default_history_file, seconds
from qmpshell.errors import UsageError
from qmpshell.numbers import whole_number

DEFAULT_PARALLEL = 4  # targets at a time (qmpshell.targets)


def build_parser() -> argparse.ArgumentParser:
    """The command line; also the source of the man page and shell completions."""
    parser = argparse.ArgumentParser(
        prog="qmpshell",
        description="An interactive and scriptable shell for the QEMU Machine Protocol (QMP).",
        epilog="Exit status: 0 success, 1 a command failed, 2 usage or parse error, "
        "3 could not connect or connection lost, 130 interrupted, 128+N stopped by signal N.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "address",
        nargs="*",
        help="UNIX socket path, HOST:PORT, [IPv6]:PORT or libvirt:DOMAIN (default: $QMP_SOCKET, then the "
        "config file's address); "
        "several, a glob or libvirt:* run the script against each, or open one session with all "
        "(NAME=ADDR names one)",
    )
    _add_input_options(parser)
    _add_output_options(parser)
    _add_connection_options(parser)
    _add_interactive_options(parser)
    _add_replay_options(parser)
    parser.add_argument(
        "--version", action="store_true", help="print the version (and the server's, with -c)"
    )
    parser.add_argument("--print-config", action="store_true", help="print the settings in effect, as TOML")
    return parser


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own layout at the terminal's width, measured as ``shutil.get_terminal_size`` does.

    argparse builds a formatter for every option it adds, and its default one
    imports shutil (and with it bz2 and lzma) to measure: 1.6 ms of a one-shot.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=terminal_columns() - 2)


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


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("input")
    group.add_argument(
        "-c", "--command", action="append", metavar="LINE", help="run LINE (repeatable, in order)"
    )
    group.add_argument("-f", "--file", metavar="PATH", help="run the script in PATH ('-' is stdin)")
    group.add_argument("-H", "--hmp", action="store_true", help="lines are HMP commands")
    group.add_argument(
        "--hmp-via",
        choices=("auto", "qmp", "passthrough"),
        help="HMP lines translated to QMP (qmp), sent to HMP (passthrough) or both (auto, the default)",
    )
    group.add_argument(
        "--hmp-coverage",
        action="store_true",
        help="print which HMP commands run over QMP (on ADDRESS, or what qmpshell translates at all)",
    )
    group.add_argument("-k", "--keep-going", action="store_true", help="run every line even after a failure")
    group.add_argument(
        "--pipeline",
        action="store_true",
        help="send up to 8 lines before their replies (as -k does); replies stay in order",
    )
    group.add_argument(
        "-n", "--dry-run", action="store_true", help="print the JSON each line would send; send nothing"
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("-p", "--pretty", action="store_true", default=None, help="indent JSON replies")
    group.add_argument(
        "-v", "--verbose", action="store_true", help="write each command as sent before its reply"
    )
    group.add_argument(
        "--events",
        action="store_true",
        help="batch: write events to stdout as they arrive (--replay: compare them)",
    )
    group.add_argument("--json", action="store_true", help="batch: print only the return values")
    group.add_argument(
        "--format",
        choices=("json", "human", "table"),
        help="replies as JSON (batch default) or for people: tables, trees, text (human = table)",
    )
    group.add_argument("--color", choices=("auto", "always", "never"), help="colour output (default auto)")
    group.add_argument(
        "-l", "--logfile", metavar="PATH", help="append every message sent and received to PATH"
    )


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "-N", "--skip-negotiation", action="store_true", help="no greeting or qmp_capabilities"
    )
    group.add_argument(
        "--timeout", type=_seconds_option, metavar="SECONDS", help="fail a command with no reply in time"
    )
    group.add_argument(
        "--connect-timeout",
        type=_seconds_option,
        metavar="SECONDS",
        help="wait this long for the greeting (5)",
    )
    group.add_argument("--launch", action="store_true", help="start QEMU (argv after --) and connect to it")
    group.add_argument(
        "--launch-pair",
        action="store_true",
        help="start two QEMUs (argv after --), src and dst (-incoming defer), for a migration",
    )
    group.add_argument(
        "--no-reconnect", action="store_true", help="interactive: do not reconnect when QEMU goes"
    )
    group.add_argument(
        "--quiet-monitor",
        action="store_true",
        help="send only what you type (and qmp_capabilities, the schema when not cached)",
    )
    group.add_argument(
        "--libvirt-uri", metavar="URI", help="libvirt URI for libvirt:DOMAIN (default: libvirt's own)"
    )
    group.add_argument(
        "--parallel",
        type=_positive,
        default=DEFAULT_PARALLEL,
        metavar="N",
        help=f"with several targets, run N at a time (default {DEFAULT_PARALLEL})",
    )


def _positive(text: str) -> int:
    number = whole_number(text)
    if number is None or number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got '{text}'")
    return number


def _seconds_option(text: str) -> float:
    """argparse type of the timeouts: finite, more than 0, at most a day (``config.seconds``)."""
    try:
        return seconds(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_interactive_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("interactive")
    group.add_argument(
        "--history", metavar="PATH", help="history file (default $XDG_STATE_HOME/qmpshell/history)"
    )
    group.add_argument("--no-history", action="store_true", help="keep no history file")
    group.add_argument(
        "--line", action="store_true", help="a prompt and lines, no full screen (as with TERM=dumb)"
    )
    group.add_argument(
        "--no-transcript", action="store_true", help="do not print the session to the terminal on exit"
    )
    group.add_argument(
        "--qapi-dir",
        metavar="DIR",
        help="read /help's documentation from a QEMU source tree (its root or qapi/ folder) "
        "instead of the installed manual",
    )


def _add_replay_options(parser: argparse.ArgumentParser) -> None:
    """Record, replay and watch (``qmpshell.replay``, ``qmpshell.proxy``)."""
    group = parser.add_argument_group("record, replay and watch")
    group.add_argument(
        "--history-script",
        nargs="?",
        const=0,
        type=_positive,
        metavar="N",
        help="print the last N statements of the history (default all) as a script for -f",
    )
    group.add_argument(
        "--replay",
        metavar="LOG",
        help="send the commands of LOG (a qmpshell, qmp-shell or libvirt log, or -> <- lines) to the "
        "address and compare each reply with the recorded one; with -n print them as a script",
    )
    group.add_argument("--to-script", metavar="LOG", help="print the commands of LOG as a qmpshell script")
    group.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="KEY",
        help="--replay: leave out members named KEY at any depth, or the dotted path KEY (repeatable)",
    )
    group.add_argument(
        "--proxy",
        nargs=2,
        metavar=("LISTEN", "UPSTREAM"),
        help="serve QMP clients on LISTEN (a socket path or loopback HOST:PORT) through one connection "
        "to UPSTREAM, showing their traffic",
    )


def parse_command_line(options: list[str]) -> argparse.Namespace:
    """The options and addresses; addresses may come before and after options.

    ``parse_intermixed_args`` first formats the whole usage line for its error messages (3 M
    instructions, 2% of a one-shot), so a command line the plain parse reads whole (addresses
    first, as usual) is taken from it: the same namespace.  Any other is parsed again, intermixed.
    """
    parser = build_parser()
    args, rest = parser.parse_known_args(options)
    return args if not rest else parser.parse_intermixed_args(options)


def split_launch_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """Options before ``--``, QEMU's argv after it (for --launch)."""
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def settings_from(args: argparse.Namespace, base: Settings) -> Settings:
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
