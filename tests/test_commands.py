"""The one table of shell commands: dispatch, help, completion and the man page all follow it."""

from __future__ import annotations

import inspect

import pytest

from qmpshell import commands
from qmpshell.manpage import render
from qmpshell.repl.completer import SHELL_NAMES
from qmpshell.repl.frontend import FrontEndCommands
from qmpshell.shell import Shell


@pytest.mark.parametrize("command", [c for c in commands.COMMANDS if not c.by_front_end], ids=str)
def test_every_shell_run_command_has_its_handler(command: commands.ShellCommand) -> None:
    handler = getattr(Shell, command.shell_handler, None)
    assert handler is not None and inspect.isfunction(handler), command.shell_handler


def test_the_interactive_front_ends_carry_out_exactly_their_commands() -> None:
    handlers = FrontEndCommands(app=None).handlers  # type: ignore[arg-type]
    assert set(handlers) == commands.front_end_names(commands.SCREEN)
    assert commands.front_end_names(commands.LINE) <= set(handlers)


def test_completion_help_and_the_man_page_list_every_command() -> None:
    page = render()
    for command in commands.COMMANDS:
        assert command.name in SHELL_NAMES
        assert f"\\fB{command.usage}\\fR".replace("-", "\\-") in page or command.usage in page
    assert "exit" in SHELL_NAMES  # an alias completes too


def test_an_alias_finds_its_command() -> None:
    quit_command = commands.lookup("exit")
    assert quit_command is not None and quit_command.name == "quit"
    assert commands.lookup("q") is quit_command
    assert commands.lookup("nosuch") is None


def test_help_lines_align_their_summaries() -> None:
    short = commands.lookup("qmp")
    assert short is not None
    assert short.help_line() == "/qmp" + " " * 16 + "switch back to QMP mode"
    long = commands.lookup("wait")
    assert long is not None and long.help_line().startswith(long.usage + "  wait")
