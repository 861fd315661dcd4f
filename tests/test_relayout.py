"""Replies already drawn are laid out again at the pane's new width (``qmpshell.repl.relayout``),
without a server: replies captured from QEMU 10.0 (``tests/data``) are added to an output log as the
full screen adds them, then the pane is drawn at another width.  What must hold: the replies in view
read as if laid out afresh at that width, and everything numbered by line (statement marks, the
scroll position, a secret's public form, the search) still points at the same text; replies far above
the view wait until they come into view, so a long session does not make F2 slow."""

from __future__ import annotations

import json
from pathlib import Path

from qmpshell.outcomes import Reply
from qmpshell.repl import styled
from qmpshell.repl.panes import OutputLog, plain
from qmpshell.repl.relayout import Relayout
from qmpshell.repl.rendered import render
from qmpshell.repl.search import OutputSearch

CAPTURE = Path(__file__).parent / "data" / "qemu-10.0-replies.json"
HEIGHT = 30


def captured(name: str) -> Reply:
    item = next(each for each in json.loads(CAPTURE.read_text())["replies"] if each["name"] == name)
    return Reply({"execute": item["execute"], "id": 1}, item["response"])


class Pane:
    """An output log, its search and its relayout, fed as ``InteractiveCore.show`` feeds them."""

    def __init__(self, width: int) -> None:
        self.log = OutputLog()
        self.search = OutputSearch(self.log)
        self.drawn = Relayout(self.log, self.search)
        self.width = width

    def run(self, reply: Reply, *, secret: str | None = None) -> None:
        self.log.add(styled.echo("qmp> ", reply.command, hmp=False), mark=True)
        rendered = render(reply, styled.Presentation("auto", self.width - 1))
        assert not isinstance(rendered, Exception) and hasattr(rendered, "fragments")
        start = self.log.end
        public = secret if secret is not None else rendered.public
        self.log.add(rendered.fragments, public=public)
        self.drawn.add(start, rendered.outcome, rendered.presentation, public)

    def view(self) -> list[str]:
        top = self.log.view_top(HEIGHT)
        return [plain(line) for line in list(self.log.lines)[top : top + HEIGHT]]


def fresh(reply: Reply, width: int) -> list[str]:
    rendered = render(reply, styled.Presentation("auto", width - 1))
    assert hasattr(rendered, "fragments")
    return plain(rendered.fragments).rstrip("\n").split("\n")


def test_the_replies_in_view_are_laid_out_at_the_new_width() -> None:
    commands, chardevs = captured("query-commands"), captured("query-chardev")
    pane = Pane(72)
    pane.run(chardevs)
    pane.run(commands)
    pane.drawn.fit(72, HEIGHT)
    assert pane.view() == fresh(commands, 72)[-HEIGHT:]
    pane.drawn.fit(120, HEIGHT)
    assert pane.view() == fresh(commands, 120)[-HEIGHT:] != fresh(commands, 72)[-HEIGHT:]
    assert pane.log.text().endswith("\n".join(["qmp> query-commands", *fresh(commands, 120)]))
    marks = [plain(pane.log.lines[mark - pane.log.dropped]) for mark in pane.log.marks]
    assert marks == ["qmp> query-chardev", "qmp> query-commands"]  # the marks moved with their lines


def test_a_reply_scrolled_into_view_is_laid_out_then_and_the_view_stays_on_it() -> None:
    commands = captured("query-commands")
    pane = Pane(72)
    for _ in range(3):
        pane.run(commands)
    pane.drawn.fit(72, HEIGHT)
    first = pane.log.marks[0]
    pane.log.show_line(first)  # scrolled back to the first statement
    pane.drawn.fit(120, HEIGHT)
    assert pane.view()[0] == "qmp> query-commands"  # the view still starts at that statement
    assert pane.view()[1:] == fresh(commands, 120)[: HEIGHT - 1]
    newest = pane.log.end - 1
    assert plain(pane.log.lines[newest - pane.log.dropped]) == fresh(commands, 72)[-1]  # not in view: later


def test_a_secret_reply_keeps_its_public_form_and_the_search_follows() -> None:
    commands, chardevs = captured("query-commands"), captured("query-chardev")
    pane = Pane(72)
    pane.run(chardevs, secret="<redacted>")
    pane.run(commands)
    pane.search.find("query-colo-status")
    found = pane.search.current
    pane.log.show_line(pane.log.marks[0])
    pane.drawn.fit(120, HEIGHT)
    assert "<redacted>" in pane.log.text() and "compat_monitor0" not in pane.log.text()
    assert pane.search.current is not None and found is not None
    assert "query-colo-status" in plain(pane.log.lines[pane.search.current - pane.log.dropped])


def test_a_long_session_lays_out_only_what_is_in_view() -> None:
    replies = [captured(name) for name in ("query-commands", "query-block", "qom-list", "query-pci")]
    pane = Pane(72)
    for number in range(2_000):
        pane.run(replies[number % len(replies)])
    pane.drawn.fit(72, HEIGHT)
    pane.drawn.fit(120, HEIGHT)
    widths = [drawn.presentation.width for drawn in pane.drawn._drawn]
    assert widths[-1] == 119 and widths.count(119) <= 4  # the newest; the thousands above wait
    assert pane.view() == fresh(replies[(2_000 - 1) % len(replies)], 120)[-HEIGHT:]


def test_replies_cleared_from_the_screen_are_not_laid_out() -> None:
    commands = captured("query-commands")
    pane = Pane(72)
    for _ in range(3):
        pane.run(commands)
    pane.drawn.fit(72, HEIGHT)
    pane.drawn.fit(120, HEIGHT)  # the newest laid out again; the two above wait for the view
    pane.log.clear()  # Ctrl-L: the lines leave the pane, the transcript keeps them
    pane.drawn.fit(120, 200)  # the empty pane drawn, on a taller terminal
    assert pane.view() == []
    pane.run(captured("query-status"))
    pane.drawn.fit(120, HEIGHT)
    assert pane.view() == ["qmp> query-status", *fresh(captured("query-status"), 120)]
    assert pane.log.text().count("\n".join(fresh(commands, 72))) == 2  # as they were drawn
