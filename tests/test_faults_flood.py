"""A flood of 100,000 events while commands run: none lost, all in order, replies still matched."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.fakeserver import Answer, FakeServer, handshake, line
from tests.qemu_support import json_lines, log_records, run_qmpshell

COMMANDS = 10
EVENTS_PER_COMMAND = 10_000


def event(seq: int) -> dict[str, Any]:
    return {"event": "FLOOD", "data": {"seq": seq}, "timestamp": {"seconds": seq, "microseconds": 0}}


def flood_then_reply(command: dict[str, Any]) -> bytes:
    """Ten thousand events, then the reply, which carries the command's own argument back."""
    n = command["arguments"]["n"]
    first = n * EVENTS_PER_COMMAND
    events = b"".join(line(event(seq)) for seq in range(first, first + EVENTS_PER_COMMAND))
    return events + line({"return": {"n": n}, "id": command["id"]})


def test_100000_events_while_commands_run(tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    # 4093-byte writes split messages at arbitrary places.
    steps = [*handshake(), *(Answer(flood_then_reply, chunk=4093) for _ in range(COMMANDS))]
    commands = [f"-cecho n={n}" for n in range(COMMANDS)]
    started = time.monotonic()
    with FakeServer(tmp_path / "fake.sock", steps):
        result = run_qmpshell(str(tmp_path / "fake.sock"), "--events", "--logfile", str(log), *commands)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    out = json_lines(result.stdout)
    total = COMMANDS * EVENTS_PER_COMMAND
    assert [m["data"]["seq"] for m in out if "event" in m] == list(range(total))
    replies = [(i, m) for i, m in enumerate(out) if "event" not in m]
    # Each reply comes after its command's events, and carries its command's n.
    assert [m for _, m in replies] == [{"return": {"n": n}} for n in range(COMMANDS)]
    assert [i for i, _ in replies] == [(n + 1) * (EVENTS_PER_COMMAND + 1) - 1 for n in range(COMMANDS)]

    records = log_records(log)
    logged = [r["message"]["data"]["seq"] for r in records if "event" in r["message"]]
    assert logged == list(range(total))
    print(f"flood of {total} events with {COMMANDS} commands: {elapsed:.1f} s")
