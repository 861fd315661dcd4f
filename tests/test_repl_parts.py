"""The REPL's pieces without a server: lexer, history, HMP help parsing, panes, status bar."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from qmpshell.protocol.pending import PendingReply
from qmpshell.qmptypes import Message
from qmpshell.repl.connection import Status
from qmpshell.repl.history import SecretFreeHistory, make_history
from qmpshell.repl.hmpcomplete import HmpCompleter, HmpNames, parse_help
from qmpshell.repl.lexer import InputLexer, input_fragments, json_fragments
from qmpshell.repl.panes import EventFeed, OutputLog
from qmpshell.repl.widgets import prompt_fragments, status_fragments
from tests.qemu_support import Qemu


def styles(text: str, *, hmp: bool = False) -> dict[str, str]:
    return {fragment[1]: fragment[0] for fragment in input_fragments(text, hmp=hmp)}


def test_input_is_highlighted_by_token_kind() -> None:
    seen = styles("blockdev-add driver=null-co size=1024 read-only=true cache={\"direct\":true} name='x'")
    assert seen["blockdev-add"] == "class:input.command"
    assert seen["driver"] == "class:input.key"
    assert seen["="] == "class:input.equals"
    assert seen["1024"] == "class:input.number"
    assert seen['{"direct":true}'] == "class:input.json"
    assert seen["'x'"] == "class:input.string"
    assert styles("/events filter STOP")["/events"] == "class:input.shell"


def test_a_syntax_error_is_marked_but_an_unfinished_bracket_is_not() -> None:
    assert "class:input.error" in styles("query-status =oops").values()
    assert "class:input.error" not in styles('query-status arg={"a":').values()


def test_the_lexer_keeps_every_character_in_place() -> None:
    text = "transaction(\n  block-dirty-bitmap-add node=n0 name=b0\n)"
    lexer = InputLexer(lambda: False)
    get_line = lexer.lex_document(Document(text))
    rebuilt = "\n".join("".join(f[1] for f in get_line(n)) for n in range(3))
    assert rebuilt == text


def test_hmp_lines_are_plain_text() -> None:
    assert styles("info status", hmp=True) == {"info status": "class:input.text"}


def test_json_is_coloured_by_pygments() -> None:
    fragments = json_fragments('{"return": {}}')
    assert "".join(f[1] for f in fragments) == '{"return": {}}'
    assert any(f[0].startswith("class:pygments") for f in fragments)


@pytest.mark.parametrize(
    "line",
    [
        "object-add qom-type=secret id=s0 data=hunter2",
        "set_password protocol=vnc password=hunter2",
        "change-vnc-password password=hunter2",
        "blockdev-add driver=luks key-secret=sec0 node-name=x",
        '{"execute": "set_password", "arguments": {"password": "hunter2"}}',
    ],
)
def test_secret_lines_never_reach_the_history(tmp_path: Path, line: str) -> None:
    path = tmp_path / "new" / "history"
    history = SecretFreeHistory(str(path), is_hmp=lambda: False)
    history.append_string(line)
    history.append_string("query-status")
    assert "query-status" in path.read_text()
    assert "hunter2" not in path.read_text() and "sec0" not in path.read_text()
    assert line not in history.get_strings()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_history_appends_so_two_shells_keep_both_lines(tmp_path: Path) -> None:
    path = str(tmp_path / "history")
    first = SecretFreeHistory(path, is_hmp=lambda: False)
    second = SecretFreeHistory(path, is_hmp=lambda: False)
    first.append_string("query-name")
    second.append_string("query-kvm")
    reread = SecretFreeHistory(path, is_hmp=lambda: False)
    assert list(reread.load_history_strings()) == ["query-kvm", "query-name"]


def test_history_size_limits_what_is_loaded_not_the_file(tmp_path: Path) -> None:
    path = str(tmp_path / "history")
    writer = SecretFreeHistory(path, is_hmp=lambda: False)
    for number in range(5):
        writer.append_string(f"query-status # {number}")
    small = SecretFreeHistory(path, is_hmp=lambda: False, size=2)
    assert list(small.load_history_strings()) == ["query-status # 4", "query-status # 3"]
    assert len(list(SecretFreeHistory(path, is_hmp=lambda: False).load_history_strings())) == 5


def test_no_history_file_means_memory_only(tmp_path: Path) -> None:
    history = make_history(None, is_hmp=lambda: False)
    history.append_string("query-status")
    assert history.get_strings() == ["query-status"]
    assert not list(tmp_path.rglob("history"))


HELP = (
    "announce_self [interfaces] [id] -- Trigger GARP/RARP announcements\r\n"
    "block_job_cancel [-f] device -- stop an active background block operation (use -f\r\n"
    "\t\t\t if you want to abort the operation immediately\r\n"
    "info [subcommand] -- show various information about the system state\r\n"
    "quit|q  -- quit the emulator\r\n"
)
INFO = (
    "info balloon  -- show balloon information\r\n"
    "info status  -- show the current VM status (running|paused)\r\n"
)


def test_hmp_help_output_gives_command_names_and_aliases() -> None:
    names = parse_help(HELP)
    assert set(names) == {"announce_self", "block_job_cancel", "info", "quit", "q"}
    assert names["quit"] == "quit the emulator"
    assert set(parse_help(INFO, prefix="info ")) == {"balloon", "status"}


def complete(completer: HmpCompleter, text: str) -> list[str]:
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_hmp_completer_completes_commands_and_info_subcommands() -> None:
    completer = HmpCompleter(HmpNames(parse_help(HELP), parse_help(INFO, prefix="info ")))
    assert complete(completer, "q") == ["q", "quit"]
    assert complete(completer, "info s") == ["status"]
    assert complete(completer, "info ") == ["balloon", "status"]
    assert complete(completer, "quit now ") == []


def test_output_log_is_bounded_and_scrolls() -> None:
    log = OutputLog(limit=50)
    for number in range(80):
        log.add([("", f"line {number}\n")])
    assert len(log.lines) == 50 and log.text().startswith("line 30")
    log.page_up(10)
    assert not log.following and log.cursor_line(50) == 31
    log.page_down(10)
    log.page_down(10)
    assert log.following


def event(name: str, **data: object) -> dict[str, object]:
    return {"event": name, "data": data, "timestamp": {"seconds": 0, "microseconds": 0}}


def test_event_feed_is_bounded_filtered_and_flags_redraws() -> None:
    feed = EventFeed(limit=3)
    for name in ("STOP", "RESUME", "STOP", "RESUME"):
        feed.add(event(name, reason="x"))
    assert feed.dirty and feed.names() == ["RESUME", "STOP", "RESUME"]
    feed.set_filter(["ST*"])
    lines = ["".join(f[1] for f in line) for line in feed.visible()]
    assert len(lines) == 1 and lines[0].endswith("STOP reason=x")
    assert len(feed.visible(1)) == 1


def test_prompt_and_status_bar() -> None:
    assert prompt_fragments(False, False)[0][1] == "qmp> "
    assert prompt_fragments(True, False)[0][1] == "hmp> "
    assert prompt_fragments(True, True)[0][1] == "...> "
    up = Status("/tmp/q.sock", "7.2.22", "paused", False, 3, "")
    text = "".join(f[1] for f in status_fragments(up, busy=False))
    assert all(part in text for part in ("/tmp/q.sock", "QEMU 7.2.22", "paused", "QMP", "events: 3"))
    down = Status("/tmp/q.sock", "7.2.22", "paused", True, 3, "the server closed the connection")
    text = "".join(f[1] for f in status_fragments(down, busy=False, width=120))
    assert "DISCONNECTED: the server closed the connection" in text and "HMP" in text


def test_hmp_names_reuse_the_command_list_asked_at_connect(machine: Qemu) -> None:
    """``query-commands`` is asked once a connection: HMP completion takes identify's list."""
    from qmpshell.protocol.address import parse_address
    from qmpshell.protocol.client import Client
    from qmpshell.protocol.server import identify
    from qmpshell.repl.hmpcomplete import fetch_hmp_names

    client = Client(parse_address(machine.socket))
    client.connect()
    try:
        asked: list[str] = []
        send = client.send

        def counted(message: Message, *, source: str = "") -> PendingReply:
            asked.append(str(message.get("execute")))
            return send(message, source=source)

        client.send = counted  # type: ignore[method-assign]
        identify(client)
        names = fetch_hmp_names(client, timeout=5)
    finally:
        client.close()
    assert asked.count("query-commands") == 1, asked
    assert "status" in names.info and "device_del" in names.commands
