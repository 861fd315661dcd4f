"""The prompt_toolkit completer with ``Document`` objects, and live values that never block.

The schema is the QEMU 7.2 capture in ``tests/data``; live answers come from
a plain callable standing in for ``Client.execute`` (a slow server is the
fault under test, which a real QEMU does not produce on demand).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.buffer import Buffer, CompletionState
from prompt_toolkit.completion import CompleteEvent, Completion
from prompt_toolkit.document import Document

from qmpshell.repl.completer import ShellCompleter
from qmpshell.repl.completion import enter_in_menu
from qmpshell.schema.index import SchemaIndex
from qmpshell.schema.live import CompletionSource, LiveItem, LiveValues
from qmpshell.schema.suggestions import LiveQuery
from tests.qemu_support import wait_until

CAPTURE = Path(__file__).parent / "data" / "qemu-7.2-schema.json"


@pytest.fixture(scope="module")
def index() -> SchemaIndex:
    return SchemaIndex.from_entries(json.loads(CAPTURE.read_text()))


def completions(
    completer: ShellCompleter, text: str, cursor: int | None = None, *, tab: bool = True
) -> list[Any]:
    document = Document(text, len(text) if cursor is None else cursor)
    return list(completer.get_completions(document, CompleteEvent(completion_requested=tab)))


class Answers:
    """Client.execute for the worker: canned replies, optionally held until released."""

    def __init__(self, replies: dict[str, Any], *, hold: bool = False) -> None:
        self.replies = replies
        self.calls: list[tuple[str, Any]] = []
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, command: str, arguments: Any = None, *, timeout: float | None = None) -> Any:
        self.calls.append((command, arguments))
        self.release.wait(10)
        return self.replies[command]


def test_command_names_with_meta(index: SchemaIndex) -> None:
    completer = ShellCompleter(lambda: CompletionSource(index))
    found = completions(completer, "query-sta")
    assert [c.text for c in found] == ["query-stats", "query-stats-schemas", "query-status"]
    assert all(c.start_position == -len("query-sta") for c in found)
    assert found[0].display_meta_text == "command"


def test_argument_names_insert_their_equals_sign(index: SchemaIndex) -> None:
    completer = ShellCompleter(lambda: CompletionSource(index))
    found = {c.display_text: c for c in completions(completer, "blockdev-add driver=null-co ")}
    assert found["size"].text == "size=" and found["size"].display_meta_text == "int, optional"
    assert found["cache"].text == "cache."
    nested = completions(completer, "blockdev-add driver=qcow2 file.driver=file file.fil")
    assert [(c.text, c.start_position) for c in nested] == [("filename=", -3)]


def test_cursor_in_the_middle_uses_the_text_before_it(index: SchemaIndex) -> None:
    completer = ShellCompleter(lambda: CompletionSource(index))
    found = completions(completer, "set-action shutdown=po node-name=x", cursor=len("set-action shutdown=po"))
    assert [c.text for c in found] == ["poweroff"]


def test_shell_commands_and_hmp_mode(index: SchemaIndex) -> None:
    hmp = [False]
    completer = ShellCompleter(
        lambda: CompletionSource(index), hmp=lambda: hmp[0], hmp_commands=lambda: ["info", "help", "stop"]
    )
    assert {c.text for c in completions(completer, "/e")} == {"/events", "/example", "/exit"}
    assert [c.text for c in completions(completer, "/hmp in")] == ["info"]
    hmp[0] = True
    assert [c.text for c in completions(completer, "st")] == ["stop"]
    assert completions(completer, "stop ") == []


def test_the_source_is_asked_each_time(index: SchemaIndex) -> None:
    source: list[CompletionSource | None] = [None]
    completer = ShellCompleter(lambda: source[0])
    assert completions(completer, "query-sta") == []
    source[0] = CompletionSource(index)  # reconnected: a new index is swapped in
    assert len(completions(completer, "query-sta")) == 3


def test_live_values_appear_once_fetched_and_never_block(index: SchemaIndex) -> None:
    answers = Answers({"query-named-block-nodes": [{"node-name": "n0", "drv": "null-co"}]}, hold=True)
    redraws = threading.Event()
    live = LiveValues(answers, on_ready=redraws.set)
    completer = ShellCompleter(lambda: CompletionSource(index, live))
    started = time.monotonic()
    assert completions(completer, "block_resize node-name=", tab=False) == []  # not ready: nothing, at once
    assert time.monotonic() - started < 0.5
    waiting: list[str | None] = []
    tab = ShellCompleter(lambda: CompletionSource(index, live), on_waiting=waiting.append)
    started = time.monotonic()
    assert completions(tab, "block_resize node-name=") == []  # Tab waits a moment, no longer
    assert 0.5 < time.monotonic() - started < 5
    assert waiting == ["block_resize node-name="]  # so the front-end completes again on the answer
    answers.release.set()
    assert redraws.wait(10)
    found = completions(completer, "block_resize node-name=")
    assert [(c.text, c.display_meta_text) for c in found] == [("n0", "null-co")]
    assert answers.calls == [("query-named-block-nodes", {"flat": True})]
    live.close()


def test_a_tab_shows_a_live_answer_that_comes_within_a_moment(index: SchemaIndex) -> None:
    answers = Answers({"query-named-block-nodes": [{"node-name": "n0", "drv": "null-co"}]}, hold=True)
    live = LiveValues(answers)
    waiting: list[str | None] = []
    completer = ShellCompleter(lambda: CompletionSource(index, live), on_waiting=waiting.append)
    threading.Timer(0.1, answers.release.set).start()
    assert [c.text for c in completions(completer, "block_resize node-name=")] == ["n0"]
    assert waiting == ["block_resize node-name=", None]
    live.close()


def test_one_tab_after_a_command_shows_what_the_command_made(index: SchemaIndex) -> None:
    nodes = [{"node-name": "n0", "drv": "null-co"}]
    answers = Answers({"query-named-block-nodes": nodes})
    live = LiveValues(answers)
    completer = ShellCompleter(lambda: CompletionSource(index, live))
    assert [c.text for c in completions(completer, "block_resize node-name=")] == ["n0"]
    nodes.append({"node-name": "n1", "drv": "null-co"})  # blockdev-add ran
    assert [c.text for c in completions(completer, "block_resize node-name=")] == ["n0"]  # kept a while
    live.expire()  # the front-end says a statement ran: the first Tab asks again and waits for it
    assert [c.text for c in completions(completer, "block_resize node-name=")] == ["n0", "n1"]
    assert len(answers.calls) == 2
    live.close()

    old = LiveValues(answers, ttl=0.0)  # an answer older than its ttl: Tab waits for the new one too
    completer = ShellCompleter(lambda: CompletionSource(index, old))
    assert [c.text for c in completions(completer, "block_resize node-name=")] == ["n0", "n1"]
    nodes.append({"node-name": "n2", "drv": "null-co"})
    assert [c.text for c in completions(completer, "block_resize node-name=")] == ["n0", "n1", "n2"]
    old.close()


def test_a_tab_while_a_statement_runs_shows_what_is_known_and_completes_again_after_it(
    index: SchemaIndex,
) -> None:
    nodes = [{"node-name": "n0", "drv": "null-co"}]
    live = LiveValues(Answers({"query-named-block-nodes": nodes}))
    waiting: list[str | None] = []
    completer = ShellCompleter(lambda: CompletionSource(index, live), on_waiting=waiting.append)
    try:
        assert [c.text for c in completions(completer, "block_resize node-name=")] == ["n0"]
        live.hold()  # a statement starts (a long one: longer than a Tab waits)
        waiting.clear()
        assert [c.text for c in completions(completer, "block_resize node-name=")] == ["n0"]
        assert waiting == ["block_resize node-name="]  # still waiting: completed again once it ended
        nodes.append({"node-name": "n1", "drv": "null-co"})
        live.expire()
        assert [c.text for c in completions(completer, "block_resize node-name=")] == ["n0", "n1"]
        assert waiting[-1] is None
    finally:
        live.close()


def test_live_property_names_skip_used_and_schema_names(index: SchemaIndex) -> None:
    props = [
        {"name": "drive", "type": "str"},
        {"name": "id", "type": "str"},
        {"name": "serial", "type": "str"},
    ]
    answers = Answers({"device-list-properties": props})
    live = LiveValues(answers)
    completer = ShellCompleter(lambda: CompletionSource(index, live))
    line = "device_add driver=virtio-blk-pci drive=d "
    assert [c.text for c in completions(completer, line, tab=False)] == [
        "bus=",
        "id=",
    ]  # the schema's, at once
    wait_until(lambda: len(completions(completer, line)) > 2, what="live props")
    assert [c.text for c in completions(completer, line)] == ["bus=", "id=", "serial="]
    live.close()


def test_volatile_answers_are_refreshed_after_their_ttl() -> None:
    replies: dict[str, Any] = {"query-block-jobs": [{"device": "j1", "type": "mirror"}], "query-jobs": []}
    live = LiveValues(Answers(replies), ttl=0.0)
    query = LiveQuery("job-ids")
    assert wait_until(lambda: live.lookup(query), what="jobs") == [LiveItem("j1", "mirror")]
    replies["query-block-jobs"] = []
    wait_until(lambda: live.lookup(query) == [], what="refreshed jobs")
    live.close()


def test_the_source_must_be_a_callable() -> None:
    with pytest.raises(TypeError, match="callable"):
        ShellCompleter(object())  # type: ignore[arg-type]


def menu(text: str, *words: str) -> Buffer:
    """A buffer holding ``text`` with the completion menu open on ``words`` (nothing chosen)."""
    buffer = Buffer(document=Document(text))
    word = text.rsplit("=", 1)[-1]
    choices = [Completion(w, start_position=-len(word)) for w in words]
    buffer.complete_state = CompletionState(buffer.document, choices)
    return buffer


def test_enter_in_the_menu_runs_only_a_value_the_user_typed() -> None:
    typed = menu("blockdev-add driver=qcow", "qcow", "qcow2")
    assert enter_in_menu(typed, asked="blockdev-add driver=qcow") is True
    assert typed.complete_state is None

    inserted = menu("blockdev-add driver=qcow", "qcow", "qcow2")  # Tab made 'qco' into 'qcow'
    assert enter_in_menu(inserted, asked="blockdev-add driver=qco") is False
    assert inserted.complete_state is not None and inserted.complete_state.complete_index == 0

    prefix = menu("blockdev-add driver=null-", "null-aio", "null-co")
    assert enter_in_menu(prefix, asked="blockdev-add driver=null-") is False

    chosen = menu("blockdev-add driver=qcow", "qcow", "qcow2")
    chosen.complete_next()
    assert enter_in_menu(chosen, asked="blockdev-add driver=qco") is False  # takes it; the line stays
    assert chosen.complete_state is None


def test_enter_while_the_menu_is_still_being_computed_sends_nothing() -> None:
    buffer = Buffer(document=Document("blockdev-add driver=qco"))
    buffer.complete_state = CompletionState(buffer.document)  # Tab pressed, no answer yet
    assert enter_in_menu(buffer, asked="blockdev-add driver=qco") is False  # the menu it opens decides
    assert buffer.complete_state is not None


def answered_after_enter(buffer: Buffer, answer: list[Completion] | None) -> bool:
    """Enter while the completion is computed; then it answers (None: nothing to offer). Did the line run?"""
    import asyncio

    from qmpshell.repl.completion import enter_when_answered

    ran = asyncio.Event()

    async def session() -> bool:
        loop = asyncio.get_running_loop()
        enter_when_answered(loop, buffer, lambda: buffer.text, ran.set)
        await asyncio.sleep(0.1)  # still computing: nothing is decided
        assert not ran.is_set()
        if answer is None:
            buffer.complete_state = None  # what prompt_toolkit does when there is nothing to offer
        else:
            assert buffer.complete_state is not None
            buffer.complete_state.completions.extend(answer)
        try:
            await asyncio.wait_for(ran.wait(), timeout=2)
        except TimeoutError:
            return False
        return True

    return asyncio.run(session())


def test_enter_during_a_completion_that_offers_nothing_runs_the_line() -> None:
    """prompt_toolkit starts a Tab that came during another completion afterwards, on the line as it
    is by then: Enter on that line was swallowed by a menu that never showed, and the line never ran."""
    buffer = Buffer(document=Document("query-status"))
    buffer.complete_state = CompletionState(buffer.document)
    assert answered_after_enter(buffer, None) is True


def test_enter_during_a_completion_lets_the_menu_that_opens_decide() -> None:
    prefix = Buffer(document=Document("blockdev-add driver=null-"))
    prefix.complete_state = CompletionState(prefix.document)
    offered = [Completion(w, start_position=-5) for w in ("null-aio", "null-co")]
    assert answered_after_enter(prefix, offered) is False  # into the menu, nothing sent
    assert prefix.complete_state is not None and prefix.complete_state.complete_index == 0


def test_a_directory_in_a_file_name_completes_with_its_slash(index: SchemaIndex, tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "image.qcow2").write_bytes(b"")
    completer = ShellCompleter(lambda: CompletionSource(index))
    found = completions(completer, f"blockdev-add driver=file node-name=f filename={tmp_path}/ima")
    assert sorted(c.text for c in found) == ["ge.qcow2", "ges/"]


def test_a_tab_waiting_on_values_closed_meanwhile_gets_none_not_the_old_list(index: SchemaIndex) -> None:
    """A reconnect or a replaced schema closes the source a Tab waits on: None keeps the Tab
    waiting, so it completes again from the new source, rather than showing the old answer."""
    answers = Answers({"query-named-block-nodes": [{"node-name": "n0", "drv": "null-co"}]})
    live = LiveValues(answers, ttl=0.0)
    query = LiveQuery("node-names")
    assert live.lookup(query, wait=10) == [LiveItem("n0", "null-co")]
    answers.release.clear()  # the next fetch hangs
    found: list[list[LiveItem] | None] = []
    tab = threading.Thread(target=lambda: found.append(live.lookup(query, wait=10)))
    try:
        tab.start()
        wait_until(lambda: len(answers.calls) == 2, what="the fetch again")
        live.close()
        tab.join(5)
        assert found == [None]
    finally:
        live.close()
        answers.release.set()
