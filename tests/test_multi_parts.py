"""Several targets, the parts without a server: completion follows the target a line names, the
events pane tags and filters by target, the prompt names the current target."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from qmpshell.repl.completer import ShellCompleter
from qmpshell.repl.eventlines import event_line
from qmpshell.repl.panes import EventFeed, plain
from qmpshell.repl.widgets import prompt_fragments
from qmpshell.schema.index import SchemaIndex
from qmpshell.schema.live import CompletionSource

CAPTURE = Path(__file__).parent / "data" / "qemu-7.2-schema.json"


@pytest.fixture(scope="module")
def source() -> CompletionSource:
    return CompletionSource(SchemaIndex.from_entries(json.loads(CAPTURE.read_text())), None)


def texts(completer: ShellCompleter, text: str) -> list[str]:
    document = Document(text, len(text))
    return [c.text for c in completer.get_completions(document, CompleteEvent(completion_requested=True))]


def test_a_line_naming_a_target_completes_from_that_targets_schema(source: CompletionSource) -> None:
    sources = {"dst": source, "src": None}
    completer = ShellCompleter(lambda: None, target_source=sources.get, target_names=lambda: list(sources))
    assert "migrate-incoming" in texts(completer, "@dst migrate-inc")
    assert texts(completer, "migrate-inc") == []  # the current target's schema is not known yet
    assert texts(completer, "@d") == ["@dst "]
    assert texts(completer, "@") == ["@dst ", "@src ", "@all "]
    assert texts(completer, "/use s") == ["src"]
    assert texts(completer, "/migrate src d") == ["dst"]


def test_one_target_completes_no_names(source: CompletionSource) -> None:
    completer = ShellCompleter(lambda: source)
    assert texts(completer, "@") == []


def test_events_are_tagged_and_filtered_by_target() -> None:
    feed = EventFeed()
    feed.colours = {"src": 0, "dst": 1}
    event: dict[str, Any] = {
        "event": "MIGRATION",
        "data": {"status": "active"},
        "timestamp": {"seconds": 0, "microseconds": 0},
    }
    feed.add({"target": "src", **event})
    feed.add({"target": "dst", **event})
    line = event_line({"target": "dst", **event}, colours=feed.colours)
    assert ("class:event.target.1", "dst ") in line
    assert plain(line) == "00:00:00.000 dst MIGRATION status=active"
    feed.set_filter(["src:MIGRATION"])
    assert [plain(shown).split()[1] for shown in feed.visible()] == ["src"]
    feed.set_filter(["MIGRATION"])
    assert len(feed.visible()) == 2


def test_the_prompt_names_the_current_target() -> None:
    assert plain(prompt_fragments(False, False, target="src")) == "src qmp> "
    assert plain(prompt_fragments(True, False, target="dst")) == "dst hmp> "
    assert plain(prompt_fragments(False, False)) == "qmp> "


def test_replies_side_by_side() -> None:
    from qmpshell.output.sidebyside import side_by_side

    table = side_by_side(
        [
            ("src", {"status": "active", "ram": {"total": 10, "transferred": 4}, "x": "\x1b[2J"}),
            ("dst", {"status": "active"}),
        ]
    )
    assert table.splitlines() == [
        "FIELD            src     dst",
        "status           active  active",
        "ram.total        10",
        "ram.transferred  4",
        "x                ^[[2J",
    ]


def test_dry_run_leaves_the_target_prefix_out() -> None:
    from tests.qemu_support import json_lines, run_qmpshell

    result = run_qmpshell("--dry-run", "-c", "@dst migrate-incoming uri=unix:/tmp/m.sock", "-c", "@all stop")
    assert (result.returncode, result.stderr) == (0, "")
    assert json_lines(result.stdout) == [
        {"execute": "migrate-incoming", "arguments": {"uri": "unix:/tmp/m.sock"}},
        {"execute": "stop"},
    ]
