"""Events kept for ``/wait``: those seen since the last command was sent.

The reader thread adds; the shell marks when it sends a command and waits
for a matching event.  A matched event is consumed, so two ``/wait STOP`` in a
row need two STOP events.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable

from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Matcher = Callable[[Message], bool]
FieldTest: TypeAlias = "Callable[[Any], bool]"


class WaitInterrupted(Exception):
    """``interrupt()`` was called while waiting (Ctrl-C in the REPL)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)


class EventLog:
    """A bounded, thread-safe record of recent events with a wait primitive."""

    def __init__(self, *, limit: int = 100_000) -> None:
        self._events: deque[Message] = deque(maxlen=limit)
        self._changed = threading.Condition()
        self._stop_reason = ""
        self._ended = ""
        self.total = 0
        self._window = EventWindow(limit)

    def add(self, event: Message) -> None:
        with self._changed:
            self._events.append(event)
            self._window.add(event)
            self.total += 1
            self._changed.notify_all()

    def mark(self, name: str) -> int:
        """Command ``name`` is about to be sent: older events no longer satisfy /wait, and the
        default ``/wait`` window starts here (the number returned, ``last_sent`` later)."""
        with self._changed:
            self._events.clear()
            self._window.sent = (self._window.total, name)
            return self._window.total

    def interrupt(self, why: str) -> None:
        """Wake a waiter, which raises WaitInterrupted(why): Ctrl-C, or the connection ended.

        It holds until ``clear_interrupt``, so that a Ctrl-C pressed before the
        wait began still ends it.
        """
        with self._changed:
            self._stop_reason = why
            self._changed.notify_all()

    def clear_interrupt(self) -> None:
        """A new statement starts: an earlier ``interrupt`` no longer applies."""
        with self._changed:
            self._stop_reason = ""

    def connection_ended(self, why: str) -> None:
        """No event can come any more: waiters stop (after taking what had arrived)."""
        with self._changed:
            self._ended = why
            self._changed.notify_all()

    def connection_started(self) -> None:
        with self._changed:
            self._ended = ""

    def wait_for(self, matches: Matcher, timeout: float | None) -> Message | None:
        """The first matching event (consumed with those before it), or None on timeout.

        Events that arrived before the connection ended still count; after that,
        and on ``interrupt()``, WaitInterrupted says why.
        """
        with self._changed:
            checked = [self.total - len(self._events)]  # events numbered below this were looked at
            found = self._changed.wait_for(
                lambda: self._take(matches, checked) or self._stop_reason or self._ended, timeout
            )
            if isinstance(found, dict):
                return found
            if found:
                raise WaitInterrupted(str(found))
            return None

    def _take(self, matches: Matcher, checked: list[int]) -> Message | None:
        """Look only at the events that came since the last look (``checked[0]`` counts them all):
        each wake in a burst costs the new events, not the whole record (that was quadratic)."""
        new = self.total - max(checked[0], self.total - len(self._events))
        checked[0] = self.total
        if new <= 0:
            return None
        fresh = list(itertools.islice(reversed(self._events), new))
        fresh.reverse()
        for offset, event in enumerate(fresh):
            if matches(event):
                after = new - offset - 1  # the events after the match stay for the next /wait
                while len(self._events) > after:
                    self._events.popleft()
                return event
        return None


class EventWindow:
    """Every recent event by its number (``EventLog.total`` when it came), for ``/wait``'s windows.

    ``/wait`` takes the first matching event from a number on (the previous
    command's sending, the session's start, the previous wait's end) that no
    earlier wait took; and, when it times out, can say which matching event came
    before its window.  Guarded by the EventLog's lock.
    """

    def __init__(self, limit: int) -> None:
        self.events: deque[Message] = deque(maxlen=limit)
        self.total = 0
        self.taken: set[int] = set()  # id() of events a /wait took
        self.sent = (0, "")  # the number and name of the last command sent

    def add(self, event: Message) -> None:
        if len(self.events) == self.events.maxlen:
            self.taken.discard(id(self.events[0]))
        self.events.append(event)
        self.total += 1

    def numbered(self, first: int) -> list[tuple[int, Message]]:
        """The events from number ``first`` on, with their numbers."""
        base = self.total - len(self.events)
        start = max(first - base, 0)
        return [(base + i, self.events[i]) for i in range(start, len(self.events))]


def last_sent(log: EventLog) -> tuple[int, str]:
    """The number where the last command was sent, and its name."""
    with log._changed:
        return log._window.sent


def position(log: EventLog) -> int:
    """The number the next event will get."""
    with log._changed:
        return log._window.total


def events_from(log: EventLog, first: int) -> list[Message]:
    with log._changed:
        return [event for _, event in log._window.numbered(first)]


def wait_from(
    log: EventLog, first: int, matches: Matcher, timeout: float | None, *, take: bool = True
) -> Message | None:
    """The first matching event numbered ``first`` or later that no wait took (``take``: now taken).

    None on timeout; WaitInterrupted on ``interrupt()`` or when the connection ended.
    Each event is looked at once per wait, however many wake it.
    """
    window = log._window
    cursor = [first]

    def found() -> Message | str | None:
        for number, event in window.numbered(cursor[0]):
            cursor[0] = number + 1
            if id(event) not in window.taken and matches(event):
                if take:
                    window.taken.add(id(event))
                return event
        return log._stop_reason or log._ended or None

    with log._changed:
        result = log._changed.wait_for(found, timeout)
    if isinstance(result, dict):
        return result
    if result:
        raise WaitInterrupted(str(result))
    return None


def last_match_before(log: EventLog, first: int, matches: Matcher) -> Message | None:
    """The latest matching event numbered before ``first`` that no wait took (for a timeout's message)."""
    with log._changed:
        window = log._window
        earlier = window.numbered(0)[: max(first - (window.total - len(window.events)), 0)]
        return next(
            (e for _, e in reversed(earlier) if id(e) not in window.taken and matches(e)),
            None,
        )


def event_matcher(name: str, fields: dict[str, FieldTest]) -> Matcher:
    """Match an event name (a glob) and ``data`` fields given as dotted paths."""
    import fnmatch  # only /wait matches events: a one-shot never loads it

    def matches(event: Message) -> bool:
        if not fnmatch.fnmatchcase(str(event.get("event", "")), name):
            return False
        data = event.get("data") or {}
        return all(_field_matches(data, path, want) for path, want in fields.items())

    return matches


def _field_matches(data: Any, path: str, test: FieldTest) -> bool:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return test(data)
