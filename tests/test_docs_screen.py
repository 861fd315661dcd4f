"""QEMU's documentation while typing, in a real terminal (tmux), and deprecations said once.

The menu's and the toolbar's texts are checked against the installed page as
groff renders it (``tests/test_docs.py``), so none of QEMU's prose is copied here.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.qemu_support import Qemu, run_qmpshell
from tests.test_docs import own_page, rendered, squeeze
from tests.tmux_support import Tmux, shell_env, start_qmpshell


@pytest.fixture
def terminal(qemu: Qemu, tmp_path: Path) -> Iterator[Tmux]:
    tmux = start_qmpshell(tmp_path / "xdg", qemu.socket)
    try:
        yield tmux
    finally:
        tmux.close()


def menu_sentence(screen: str, entry: str) -> str:
    """The documentation part of a menu entry's meta (after 'TYPE - ')."""
    match = re.search(rf"{re.escape(entry)}\s+\S[^-\n]*? - (.+?)\s*(?:[│|]|$)", screen, re.M)
    return match.group(1) if match else ""


def test_the_menu_shows_each_arguments_first_sentence(terminal: Tmux) -> None:
    terminal.type("block_resize ")
    screen = terminal.wait_for(lambda s: bool(menu_sentence(s, "size")) or terminal.send("Tab"))
    sentence = menu_sentence(screen, "size").rstrip(".")  # the menu may cut it short
    assert len(sentence) > 5 and squeeze(sentence) in rendered(own_page())


def test_the_toolbar_shows_the_doc_of_the_argument_under_the_cursor(terminal: Tmux) -> None:
    terminal.type("block_resize size=")
    screen = terminal.wait_for(lambda s: re.search(r"^ ?size: \S", s, re.M) is not None)
    line = next(line for line in screen.splitlines() if re.match(r"^ ?size: \S", line))
    assert squeeze(line.split(":", 1)[1]) in rendered(own_page())


def test_slash_example_puts_the_line_on_the_input_line(terminal: Tmux) -> None:
    terminal.type("block_resiz")  # the schema is read after the prompt appears: Tab until it is there
    terminal.wait_for(lambda s: terminal.input_line().rstrip() == "qmp> block_resize" or terminal.send("Tab"))
    terminal.send("C-u")
    terminal.enter("/example block_resize")
    terminal.wait_for(lambda s: terminal.input_line().startswith("qmp> block_resize ") or None)
    line = terminal.input_line().removeprefix("qmp> ").rstrip()
    assert re.fullmatch(r"block_resize device=\S+ size=\d+", line), line  # editable, not sent


def deprecated_argument(qemu: Qemu) -> tuple[str, str]:
    """A command and a string argument of it that this QEMU's schema marks deprecated."""
    entries = {e["name"]: e for e in qemu.aux.execute("query-qmp-schema")}
    for entry in entries.values():
        if entry["meta-type"] != "command":
            continue
        members: list[dict[str, Any]] = entries.get(entry["arg-type"], {}).get("members", [])
        for member in members:
            if "deprecated" in member.get("features", []) and member["type"] == "str":
                return entry["name"], member["name"]
    raise AssertionError("this QEMU deprecates no string argument")


def test_a_deprecated_argument_is_warned_about_once_a_session(qemu: Qemu) -> None:
    command, argument = deprecated_argument(qemu)
    line = f"{command} {argument}=nothing-here"
    result = run_qmpshell("-k", "-c", line, "-c", line, qemu.socket)
    assert result.stderr.count(f"warning: {argument} is deprecated") == 1, result.stderr


def test_slash_example_in_line_mode_starts_the_next_prompt_with_the_line(qemu: Qemu, tmp_path: Path) -> None:
    tmux = Tmux([sys.executable, "-m", "qmpshell", "--line", qemu.socket], env=shell_env(tmp_path / "xdg"))
    try:
        tmux.wait_for("qmp>")
        tmux.enter("/example block_resize")
        tmux.wait_for(lambda s: re.search(r"^qmp> block_resize device=\S+ size=\d+\s*$", s, re.M) is not None)
    finally:
        tmux.close()


def test_device_properties_show_type_default_and_description_in_the_menu(qemu: Qemu) -> None:
    """The same data as /help device_add driver=TYPE, in the completion menu's meta."""
    from qmpshell.protocol.address import parse_address
    from qmpshell.protocol.client import Client
    from qmpshell.schema.live import LiveValues
    from qmpshell.schema.suggestions import LiveQuery
    from tests.qemu_support import wait_until

    client = Client(parse_address(qemu.socket))
    client.connect()
    try:
        live = LiveValues(client.execute)
        items = wait_until(lambda: live.lookup(LiveQuery("device-props", "virtio-net-pci")), what="props")
        live.close()
    finally:
        client.close()
    truth = {p["name"]: p for p in qemu.aux.execute("device-list-properties", typename="virtio-net-pci")}
    described = [item for item in items if truth[item.text].get("description")]
    assert described
    for item in described:
        prop = truth[item.text]
        assert item.meta.startswith(prop["type"]) and item.meta.endswith(f" - {prop['description']}")


def test_a_deprecated_argument_is_marked_in_the_menu(qemu: Qemu) -> None:
    from qmpshell.protocol.address import parse_address
    from qmpshell.protocol.client import Client
    from qmpshell.schema.knowledge import knowledge_for
    from qmpshell.schema.suggest import suggest

    command, argument = deprecated_argument(qemu)
    client = Client(parse_address(qemu.socket))
    client.connect()
    try:
        knowledge = knowledge_for(client, use_cache=False)
        assert knowledge is not None
        found = suggest(f"{command} ", knowledge.index)
    finally:
        client.close()
    entries = {e["name"]: e for e in qemu.aux.execute("query-qmp-schema")}
    members = entries[entries[command]["arg-type"]]["members"]
    deprecated = {m["name"] for m in members if "deprecated" in m.get("features", [])}
    marked = {c.text for c in found.candidates if c.meta.endswith(", deprecated")}
    assert argument in marked and marked == deprecated
