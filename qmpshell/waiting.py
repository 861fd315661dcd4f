"""``/wait``: block until an event of a name (a glob) whose ``data`` matches the fields given arrives.

Fields are dotted paths into the event's ``data``; a value is matched as typed
(``id=123`` matches 123 and "123").  Which events count, ``since=`` and the
timeout's note on an earlier event: ``qmpshell.waits``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from qmpshell import waits
from qmpshell.config import seconds
from qmpshell.errors import CommandTimeout, UsageError
from qmpshell.language.requests import ShellRequest
from qmpshell.language.untyped import ArgTree, Value, flatten_tree, guess_value
from qmpshell.protocol import events as event_log
from qmpshell.protocol.events import EventLog, WaitInterrupted, event_matcher
from qmpshell.protocol.pending import Cancelled
from qmpshell.protocol.session import QmpSession
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

USAGE = "usage: /wait EVENT [FIELD=VALUE ...] [timeout=SECONDS] [since=start|last|HH:MM:SS[.mmm]]"


def wait_for_event(
    request: ShellRequest,
    client: QmpSession,
    events: EventLog,
    *,
    unknown: Callable[[str], str] | None,
    timeout: float | None,
    last_wait_end: int = 0,
    doing: Callable[[str], None] = lambda text: None,
) -> Message:
    """The event ``/wait`` asked for; CommandTimeout when none came in time, Cancelled on Ctrl-C.

    ``last_wait_end``: the event number where the previous wait ended (``since=last``);
    ``doing`` is told what is awaited (the status bar says it).
    """
    if len(request.words) != 1:
        raise UsageError(USAGE)
    name = request.words[0]
    if unknown is not None and (problem := unknown(name)):
        raise UsageError(problem)
    options = dict(request.options)
    limit = _timeout_option(options.pop("timeout", None), timeout)
    since = options.pop("since", None)
    if since is not None and not isinstance(since, Value):
        raise UsageError(waits.SINCE_USAGE)
    where = waits.window(events, since.text if since else None, last_wait_end)
    fields = flatten_tree(options)
    matcher = event_matcher(name, {path: _value_test(value) for path, value in fields})
    said = " ".join(f"{path}={value.text}" for path, value in fields)
    what = f"{name} with {said}" if said else f"{name} event"
    doing(f"waiting for {what}")
    client.listen_for_events()
    try:
        event = event_log.wait_from(events, where.first, waits.in_window(matcher, where), limit)
    except WaitInterrupted as stop:
        if client.lost is not None:
            raise client.lost from None
        raise Cancelled(str(stop)) from None
    if event is None:
        earlier = waits.earlier_note(events, matcher, where, name)
        raise CommandTimeout(f"no {what} within {limit:g} s{earlier}")
    return event


def _timeout_option(value: Value | ArgTree | None, default: float | None) -> float | None:
    if value is None:
        return default
    if not isinstance(value, Value):
        raise UsageError("timeout= needs a number of seconds")
    try:
        return seconds(value.text)
    except ValueError as err:
        raise UsageError(f"timeout=: {err}") from None


def _value_test(value: Value) -> Any:
    """Match an event field against a value as typed: ``id=123`` matches 123 and "123"."""
    guessed = guess_value(value)
    text = value.text

    def test(actual: Any) -> bool:
        if actual == guessed and type(actual) is type(guessed):
            return True
        if isinstance(actual, str):
            return actual == text
        return json.dumps(actual) == text

    return test
