"""``/wait EVENT [FIELD=VALUE...] [timeout=SECONDS] [since=start|last|TIME]``: which events count.

By default the window opens when the previous command was *sent*: an event that
command caused counts even when it came before its reply, and before ``/wait``
was typed.  ``since=`` widens it: ``start`` (the session's first event), ``last``
(where the previous ``/wait`` ended) or ``HH:MM:SS[.mmm]``, a local time as the
events pane shows it (QEMU's own timestamp of the event).  An event a ``/wait``
took counts for no later one.  When nothing matches in time, the message says
whether a matching event came earlier than the window, and when.
"""

from __future__ import annotations

import re

from qmpshell.errors import UsageError
from qmpshell.protocol import events as event_log
from qmpshell.protocol.events import EventLog, Matcher
from qmpshell.protocol.messages import event_seconds
from qmpshell.qmptypes import Message
from qmpshell.records import NamedTuple

SINCE_USAGE = "since= takes start, last or a time HH:MM:SS[.mmm]"
_TIME = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?")


class Window(NamedTuple):
    """Where a wait's window opens: an event number, or a time; ``after`` names what opened it."""

    first: int
    after: str
    not_before: float | None = None  # epoch seconds (since=TIME)


def window(log: EventLog, since: str | None, last_wait_end: int) -> Window:
    """The window ``since=`` asks for (None: from the previous command's sending)."""
    if since is None:
        first, name = event_log.last_sent(log)
        return Window(first, name)
    if since == "start":
        return Window(0, "the session began")
    if since == "last":
        return Window(last_wait_end, "the previous /wait ended")
    return Window(0, since, _epoch_of(since))


def in_window(matches: Matcher, where: Window) -> Matcher:
    """``matches``, and (for since=TIME) stamped at or after the time."""
    if where.not_before is None:
        return matches
    start = where.not_before

    def timed(event: Message) -> bool:
        return matches(event) and _stamp(event) >= start - 1e-6  # the pane shows stamps cut to ms

    return timed


def earlier_note(log: EventLog, matches: Matcher, where: Window, event_name: str) -> str:
    """``; a STOP arrived at 06:36:58.490, before query-status``, or '' when none came earlier."""
    from qmpshell.output.render import event_time  # only a timed-out wait needs it

    if where.not_before is not None:
        return ""
    earlier = event_log.last_match_before(log, where.first, matches)
    if earlier is None:
        return ""
    before = f"before {where.after}" if where.after else "before the window opened"
    return f"; a {earlier.get('event', event_name)} arrived at {event_time(earlier)}, {before}"


def _epoch_of(text: str) -> float:
    """Today's (or, if that is still to come, yesterday's) local ``HH:MM:SS[.mmm]`` in epoch seconds."""
    from datetime import datetime, timedelta

    found = _TIME.fullmatch(text)
    if found is None:
        raise UsageError(SINCE_USAGE)
    hours, minutes, secs = (int(found.group(i)) for i in (1, 2, 3))
    if hours > 23 or minutes > 59 or secs > 59:
        raise UsageError(f"since={text}: not a time of day")
    micro = int((found.group(4) or "0").ljust(6, "0"))
    now = datetime.now()
    when = now.replace(hour=hours, minute=minutes, second=secs, microsecond=micro)
    if when > now + timedelta(seconds=1):
        when -= timedelta(days=1)
    return when.timestamp()


def _stamp(event: Message) -> float:
    seconds = event_seconds(event)
    return float("inf") if seconds is None else seconds  # no stamp: it came after any time asked for
