"""Generate the man page ``qmpshell.1`` from the argparse definition in ``options.build_parser``.

The page ships inside the package; a test checks that the shipped file is what
this module generates now, so an option cannot be added without its page.
Regenerate with ``python -m qmpshell.manpage`` (writes ``qmpshell/qmpshell.1``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qmpshell import __version__
from qmpshell.usage import build_parser

PAGE = Path(__file__).with_name("qmpshell.1")

DESCRIPTION = (
    "A line is a command and its arguments, NAME KEY=VALUE..., with dotted keys for nested objects "
    "(file.driver=file); a line that starts with { is raw QMP JSON; lines that start with / are the "
    "shell's own commands (/help lists them).",
    "On a terminal qmpshell opens a full-screen shell with completion from the server's schema and a "
    "live events pane. Otherwise (a pipe, -f or -c) it runs in batch mode: one JSON reply per line on "
    "standard output, one line per failure on standard error, and an exit status that tells what happened.",
)

ENVIRONMENT = (
    ("QMP_SOCKET", "The address to connect to when none is given (as QEMU's qmp-shell reads it)."),
    ("NO_COLOR", "When set and not empty, no colour unless --color=always or the config file asks for it."),
    ("XDG_CONFIG_HOME", "Holds qmpshell/config.toml (default ~/.config)."),
    ("XDG_STATE_HOME", "Holds qmpshell/history (default ~/.local/state)."),
    ("XDG_CACHE_HOME", "Holds qmpshell/, the cache of QMP schemas (default ~/.cache)."),
)

FILES = (
    ("$XDG_CONFIG_HOME/qmpshell/config.toml", "Optional defaults; qmpshell --print-config shows the format."),
    ("$XDG_STATE_HOME/qmpshell/history", "History of the interactive shell, mode 0600."),
)

EXAMPLES = (
    ("Open the shell on a QEMU started for the occasion:", "qmpshell --launch"),
    ("Open the shell on a running QEMU's monitor socket:", "qmpshell /run/qemu/vm1.qmp"),
    (
        "Run commands and read the return values with jq:",
        "qmpshell --json -c query-status /tmp/qmp.sock | jq .status",
    ),
    ("Run a script, stopping at the first failure:", "qmpshell -f setup.qmp /tmp/qmp.sock"),
)


def escape(text: str) -> str:
    """Roff-safe text: backslashes, hyphens (so that options copy as ASCII) and leading dots."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text.startswith((".", "'")) else text


def render(parser: argparse.ArgumentParser | None = None) -> str:
    """The whole page, in the man(7) macros."""
    parser = parser or build_parser()
    lines = [
        f'.TH QMPSHELL 1 "" "qmpshell {__version__}" "User Commands"',
        ".SH NAME",
        f"qmpshell \\- {escape(_first_sentence(parser.description or ''))}",
        ".SH SYNOPSIS",
        *_synopsis(parser),
        ".SH DESCRIPTION",
        escape(parser.description or ""),
        *(line for paragraph in DESCRIPTION for line in (".PP", escape(paragraph))),
        *_groups(parser),
        *_shell_commands(),
        ".SH EXIT STATUS",
        escape((parser.epilog or "").removeprefix("Exit status: ")),
        *_pairs("ENVIRONMENT", ENVIRONMENT),
        *_pairs("FILES", FILES),
        *_examples(),
        ".SH SEE ALSO",
        "\\fBqemu\\-system\\-x86_64\\fR(1), \\fBjq\\fR(1),",
        "the QMP specification (docs/interop/qmp\\-spec in QEMU's sources)",
    ]
    return "\n".join(lines) + "\n"


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".").removeprefix("An ").removeprefix("A ")


def _synopsis(parser: argparse.ArgumentParser) -> list[str]:
    return [
        ".B qmpshell",
        "[\\fIOPTION\\fR]... [\\fIADDRESS\\fR]",
        ".br",
        ".B qmpshell",
        "\\-\\-launch [\\fIOPTION\\fR]... [\\-\\- \\fIQEMU\\-ARGV\\fR...]",
    ]


def _groups(parser: argparse.ArgumentParser) -> list[str]:
    lines: list[str] = []
    for group in parser._action_groups:
        actions = [action for action in group._group_actions if action.help != argparse.SUPPRESS]
        if not actions:
            continue
        title = "ARGUMENTS" if group.title == "positional arguments" else (group.title or "").upper()
        if title == "OPTIONS":
            title = "GENERAL OPTIONS"
        lines.append(f".SH {escape(title)}")
        for action in actions:
            lines += [".TP", _invocation(action), escape(_help(action))]
    return lines


def _invocation(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"\\fI{escape(str(action.metavar or action.dest).upper())}\\fR"
    value = _value_name(action)
    shown = [
        f"\\fB{escape(option)}\\fR" + (f" \\fI{escape(value)}\\fR" if value else "")
        for option in action.option_strings
    ]
    return ", ".join(shown)


def _value_name(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices:
        return "{" + ",".join(str(choice) for choice in action.choices) + "}"
    return str(action.metavar or action.dest.upper())


def _help(action: argparse.Action) -> str:
    text = (action.help or "").replace("%(prog)s", "qmpshell")
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _pairs(title: str, pairs: tuple[tuple[str, str], ...]) -> list[str]:
    lines = [f".SH {title}"]
    for name, text in pairs:
        lines += [".TP", f"\\fB{escape(name)}\\fR", escape(text)]
    return lines


def _shell_commands() -> list[str]:
    """The ``/commands`` from the one table (``qmpshell.commands``), with where each applies."""
    from qmpshell import commands

    lines = [".SH SHELL COMMANDS", escape("Lines that start with / are the shell's own:")]
    for command in commands.COMMANDS:
        where = "" if command.where == commands.EVERYWHERE else f" ({', '.join(sorted(command.where))} only)"
        lines += [
            ".TP",
            f"\\fB{escape(command.usage)}\\fR",
            escape(command.summary[:1].upper() + command.summary[1:] + where + "."),
        ]
    return lines


def _examples() -> list[str]:
    lines = [".SH EXAMPLES"]
    for text, command in EXAMPLES:
        lines += [".PP", escape(text), ".PP", ".RS", ".nf", escape(command), ".fi", ".RE"]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Write the page next to this module (or to the path given), or check it with ``--check``."""
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args == ["--check"]:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        return 0 if current == text else 1
    target = Path(args[0]) if args else PAGE
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
