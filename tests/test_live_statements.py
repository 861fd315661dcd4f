"""Live values (completion's node names, jobs, devices) and the statements that change them, against a
real QEMU: an answer is never one from before a statement that ran (the CI flake of one Tab right
after ``blockdev-add`` showing nothing)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from qmpshell.protocol.address import parse_address
from qmpshell.protocol.client import Client
from qmpshell.schema.live import Answer, LiveItem, LiveValues
from qmpshell.schema.suggestions import LiveQuery
from tests.qemu_support import Qemu

NODES = LiveQuery("node-names")
NA = LiveItem("na", "null-co")


class Late:
    """``Client.execute`` whose answers come from QEMU at once but reach the caller only when
    ``release`` is set: a fetch that started before a statement and ends after it."""

    def __init__(self, execute: Any) -> None:
        self._execute = execute
        self.answered = threading.Event()  # QEMU has answered the first question
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, command: str, arguments: Any = None, *, timeout: float | None = None) -> Any:
        reply = self._execute(command, arguments, timeout=timeout)
        self.calls += 1
        self.answered.set()
        self.release.wait(10)
        return reply


@pytest.fixture
def client(qemu: Qemu) -> Iterator[Client]:
    client = Client(parse_address(qemu.socket))
    client.connect()
    yield client
    client.close()


def blockdev_add(qemu: Qemu) -> None:
    """A statement that makes a node (on the second monitor: the shell's client is the one watched)."""
    qemu.aux.execute("blockdev-add", driver="null-co", **{"node-name": "na"})


def test_nodes_asked_before_a_statement_and_answered_after_it_are_asked_again(
    client: Client, qemu: Qemu
) -> None:
    late = Late(client.execute)
    live = LiveValues(late)
    try:
        assert live.lookup(NODES) is None  # asked
        assert late.answered.wait(10)  # QEMU's answer: no node yet
        blockdev_add(qemu)
        live.expire()  # the statement ended while that answer was on its way
        late.release.set()
        assert live.lookup(NODES, wait=10) == [NA]  # not the empty list, kept as new
        assert late.calls == 2
    finally:
        late.release.set()
        live.close()


def test_while_a_statement_runs_the_nodes_known_are_not_final_and_asked_again_at_its_end(
    client: Client, qemu: Qemu
) -> None:
    arrived = threading.Event()
    live = LiveValues(client.execute, on_ready=arrived.set)
    try:
        assert live.answer(NODES, wait=10) == Answer([], final=True)
        arrived.clear()
        live.hold()  # blockdev-add starts, and takes longer than a Tab waits
        assert live.answer(NODES, wait=0.1) == Answer([], final=False)  # shown, but completed again later
        assert arrived.wait(10)  # what QEMU says while it runs: not final either
        assert live.answer(NODES) == Answer([], final=False)
        arrived.clear()
        blockdev_add(qemu)
        live.expire()  # it ended: asked again at once, for the Tab that waits
        assert arrived.wait(10)
        assert live.answer(NODES) == Answer([NA], final=True)
    finally:
        live.close()


def test_a_tab_waiting_while_a_statement_runs_gets_what_it_made(client: Client, qemu: Qemu) -> None:
    live = LiveValues(client.execute)
    try:
        live.hold()
        answers: list[list[LiveItem] | None] = []
        tab = threading.Thread(target=lambda: answers.append(live.lookup(NODES, wait=10)))
        tab.start()
        blockdev_add(qemu)
        live.expire()
        tab.join(15)
        assert answers == [[NA]]
    finally:
        live.close()


class Gated:
    """``Client.execute`` whose every call waits for a ``permit``: the test says when each fetch ends."""

    def __init__(self, execute: Any) -> None:
        self._execute = execute
        self.started = threading.Semaphore(0)
        self._permits = threading.Semaphore(0)

    def __call__(self, command: str, arguments: Any = None, *, timeout: float | None = None) -> Any:
        self.started.release()
        assert self._permits.acquire(timeout=10)
        return self._execute(command, arguments, timeout=timeout)

    def permit(self) -> None:
        self._permits.release()


def test_a_tab_waiting_across_two_statements_asks_again_after_the_second(client: Client, qemu: Qemu) -> None:
    """The Tab of test_tmux_daily's one-Tab test, once typed ahead behind two statements: what it
    waited for was asked during the first, answered during the second, and dropped at its end."""
    gated, stored = Gated(client.execute), threading.Event()
    live = LiveValues(gated, on_ready=stored.set)
    answers: list[Answer] = []
    tab = threading.Thread(target=lambda: answers.append(live.answer(NODES, wait=10)))
    try:
        live.hold()
        tab.start()
        assert gated.started.acquire(timeout=10)  # the Tab's question, while the first statement runs
        blockdev_add(qemu)
        live.expire()
        gated.permit()  # answered after the statement's end: asked again
        assert gated.started.acquire(timeout=10)
        live.hold()  # the second statement starts
        gated.permit()
        assert stored.wait(10)  # kept, not final
        live.expire()  # the second ends: nothing may be being asked, and the Tab still waits
        for _ in range(3):  # what it asks from now on (it may have asked once more meanwhile)
            gated.permit()
        tab.join(5)
        assert answers == [Answer([NA], final=True)]
    finally:
        for _ in range(5):
            gated.permit()
        live.close()
        tab.join(10)
