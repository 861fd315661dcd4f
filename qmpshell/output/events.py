"""Events for people: one compact line for the events pane, a fuller view for ``/events show``.

The compact line puts the fields that say *what* an event is about first (ids,
device, node, job, status), then the rest as ``key=value``; nested values are
compact JSON, so nothing of the event is dropped here (the pane may shorten
the line to its width).
"""

from __future__ import annotations

import json

from qmpshell.output.render import event_time
from qmpshell.output.rows import Line, Rendering, cell, flatten, scalar, scalar_list
from qmpshell.output.safe import escape_json_controls, visible
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.schema.index import SchemaIndex

IDENTIFYING = (
    "id", "job-id", "device", "node-name", "node", "job", "qom-path", "path", "name",
    "status", "type", "action", "reason", "operation",
)  # fmt: skip
STATE = ("status", "action", "reason", "operation", "type")  # what happened: right after the one id


def event_line(event: Message) -> Line:
    """``HH:MM:SS.mmm NAME key=value ...``: identifying fields first."""
    line: Line = [("time", event_time(event) + " "), ("event", str(event.get("event", "?")))]
    data = event.get("data")
    if isinstance(data, dict) and data:
        for key, value in data_pairs(data):
            line += [("", " "), ("dim", f"{key}="), _compact(value)]
    elif data is not None and data != {}:  # ``{}`` has nothing to show (flattened, it would be `` ={}``)
        line += [("", " "), _compact(data)]
    return [(style, text if style == "json" else visible(text, one_line=True)) for style, text in line]


def data_pairs(data: Message) -> list[tuple[str, Any]]:
    """The data's leaves (nested objects as ``a.b``): the first identifying field, then the state
    (``status``, ``action``, ``reason``...), then the other identifying ones, then the rest as sent.

    ``JOB_STATUS_CHANGE id=commit0 status=concluded``: a narrow pane keeps both.
    """
    pairs = list(flatten(data))
    names = [key for key, _ in pairs]
    first = next((key for key in IDENTIFYING if key in names and key not in STATE), None)
    order = ([first] if first else []) + list(STATE) + [key for key in IDENTIFYING if key not in STATE]
    rank = {key: position for position, key in enumerate(dict.fromkeys(order))}
    return sorted(pairs, key=lambda pair: rank.get(pair[0], len(rank)))


def _compact(value: Any) -> tuple[str, str]:
    if scalar(value) or (scalar_list(value) and value):
        style, text = cell(value)
        return style, text if not isinstance(value, list) else "[" + text + "]"
    return "json", escape_json_controls(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def render_event(event: Message, *, width: int = 100, index: SchemaIndex | None = None) -> Rendering:
    """``/events show``: the time and name, then the data in the view that fits it."""
    from qmpshell.output.generic import Context
    from qmpshell.output.views import render_value

    head: Line = [
        ("time", event_time(event) + " "),
        ("event", visible(str(event.get("event", "?")), one_line=True)),
    ]
    data = event.get("data")
    if data is None:
        return Rendering([head], "event")
    entity = index.events.get(str(event.get("event"))) if index is not None else None
    ctx = Context(str(event.get("event", "")), max(width - 2, 20), index, entity.arg_type if entity else "")
    body = render_value(data, ctx)
    lines = [head] + [[("", "  "), *line] for line in body.lines]
    return Rendering(lines, f"event/{body.view}")
