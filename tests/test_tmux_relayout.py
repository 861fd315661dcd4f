"""Replies already drawn follow the output pane's width (issue 23's niggle), in a real terminal (tmux)
at 80 and 120 columns against a real QEMU: F2 hides or shows the events pane, and the
``query-commands`` names on the screen are laid out again in as many columns as the new width holds,
neither left in the old layout nor wrapped in the middle of a name."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.qemu_support import Qemu
from tests.tmux_support import Tmux

NAMES_ROW = re.compile(r"(?:[a-z][a-z0-9_-]*)(?: +[a-z][a-z0-9_-]*)*")
SEPARATOR = "\u2502"  # between the output and the events pane


def name_rows(screen: str, commands: set[str]) -> list[list[str]]:
    """The output pane's rows of command names (left of the events pane), each as its words."""
    rows = []
    for line in screen.splitlines():
        left = line.split(SEPARATOR, 1)[0].rstrip()
        if NAMES_ROW.fullmatch(left) and any(word in commands for word in left.split()):
            rows.append(left.split())
    return rows


def wider(rows: list[list[str]]) -> bool:
    """Rows of several names each (the last may hold fewer), enough of them to tell."""
    return len(rows) > 10 and all(len(row) > 1 for row in rows[:-1])


def narrow(rows: list[list[str]]) -> bool:
    """Rows of one name each, enough of them to tell."""
    return len(rows) > 10 and all(len(row) == 1 for row in rows)


def commands_on(machine: Qemu) -> set[str]:
    return {command["name"] for command in machine.aux.execute("query-commands")}


def test_hiding_the_events_pane_lays_the_names_out_in_more_columns(
    start: Callable[..., Tmux], machine: Qemu
) -> None:
    commands = commands_on(machine)
    tmux = start(machine.socket, width=120, height=30)  # wide enough for the pane: it is shown
    tmux.enter("query-commands")
    screen = tmux.wait_for(lambda screen: len(name_rows(screen, commands)) > 10)
    assert "(F2 hides)" in screen and narrow(name_rows(screen, commands))
    tmux.send("F2")
    screen = tmux.wait_for(lambda screen: "(F2 hides)" not in screen)
    screen = tmux.wait_for(lambda screen: wider(name_rows(screen, commands)))
    assert all(word in commands for row in name_rows(screen, commands) for word in row)
    tmux.send("F2")  # shown again: one column again
    tmux.wait_for(lambda screen: "(F2 hides)" in screen and narrow(name_rows(screen, commands)))


def test_showing_the_events_pane_lays_the_names_out_in_fewer_columns(
    start: Callable[..., Tmux], machine: Qemu
) -> None:
    commands = commands_on(machine)
    tmux = start(machine.socket, width=80, height=30)  # narrower than events.pane_min_columns: hidden
    tmux.enter("query-commands")
    screen = tmux.wait_for(lambda screen: len(name_rows(screen, commands)) > 10)
    assert all(len(row) == 2 for row in name_rows(screen, commands)[:-1])
    tmux.send("F2")
    screen = tmux.wait_for(lambda screen: "(F2 hides)" in screen)
    screen = tmux.wait_for(lambda screen: narrow(name_rows(screen, commands)))
    rows = name_rows(screen, commands)
    assert len(rows) > 10 and all(row[0] in commands for row in rows)  # not cut in the middle


def test_a_wider_terminal_lays_the_names_out_again(start: Callable[..., Tmux], machine: Qemu) -> None:
    commands = commands_on(machine)
    tmux = start(machine.socket, width=120, height=30)
    tmux.enter("query-commands")
    screen = tmux.wait_for(lambda screen: len(name_rows(screen, commands)) > 10)
    assert narrow(name_rows(screen, commands))
    tmux.resize(220, 30)  # the events pane stays; the output pane widens
    screen = tmux.wait_for(lambda screen: "(F2 hides)" in screen and wider(name_rows(screen, commands)))
