"""Is a reply the one recorded?  Equal apart from ids, timestamps and the members ``--ignore`` names.

An ``--ignore`` KEY without a dot leaves out every member of that name at any
depth (``--ignore file``); a dotted path leaves out that member only, counted
from the message (``return.status``) or, when its first name is not one of the
message's own, from its ``return`` or an event's ``data`` (``inserted.file``).
A path goes through arrays: the rest applies to each element.  A difference is
shown as a unified diff of the two, indented JSON with sorted keys.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Message: TypeAlias = "dict[str, Any]"
NOISE = frozenset({"id", "timestamp"})  # differ on every run: never compared
BODIES = ("return", "data", "error")  # where a path that does not start at the message starts


class Ignored:
    """The members left out of a comparison: names at any depth, and dotted paths."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        keys = list(keys)
        self.names = frozenset(key for key in keys if "." not in key)
        self.paths = [key.split(".") for key in keys if "." in key]

    def clean(self, message: Message) -> Any:
        """A copy of ``message`` without ids, timestamps and the ignored members."""
        message = {k: v for k, v in message.items() if k not in NOISE}
        tree = _without_names(message, self.names) if self.names else message
        for path in self.paths:
            if path[0] in tree:
                tree = _without_path(tree, path)
            else:
                tree = {k: _without_path(v, path) if k in BODIES else v for k, v in tree.items()}
        return tree


def _without_names(value: Any, names: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _without_names(v, names) for k, v in value.items() if k not in names}
    if isinstance(value, list):
        return [_without_names(v, names) for v in value]
    return value


def _without_path(value: Any, path: list[str]) -> Any:
    if isinstance(value, list):
        if path[0].isdigit():
            index = int(path[0])
            return [_without_path(v, path[1:]) if i == index and path[1:] else v for i, v in enumerate(value)]
        return [_without_path(v, path) for v in value]
    if not isinstance(value, dict) or path[0] not in value:
        return value
    if len(path) == 1:
        return {k: v for k, v in value.items() if k != path[0]}
    return {k: _without_path(v, path[1:]) if k == path[0] else v for k, v in value.items()}


def same(recorded: Any, got: Any) -> bool:
    """Equal as JSON: 1, 1.0 and true kept apart, key order not (iteratively: replies nest deep)."""
    pairs = [(recorded, got)]
    while pairs:
        a, b = pairs.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            if a.keys() != b.keys():
                return False
            pairs.extend((a[key], b[key]) for key in a)
        elif isinstance(a, list):
            if len(a) != len(b):
                return False
            pairs.extend(zip(a, b, strict=True))
        elif a != b:
            return False
    return True


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2)


def diff_lines(recorded: Any, got: Any, *, indent: str = "    ") -> list[str]:
    """The unified diff of recorded against got, each line indented."""
    lines = difflib.unified_diff(
        _text(recorded).splitlines(), _text(got).splitlines(), "recorded", "replayed", lineterm="", n=2
    )
    return [indent + line for line in lines]


def summary(recorded: Any, got: Any) -> str:
    """A few words on how two replies differ."""
    if isinstance(recorded, dict) and isinstance(got, dict):
        was, now = _outcome(recorded), _outcome(got)
        if was != now:
            return f"recorded {was}, replayed {now}"
    changed = max(sum(1 for line in diff_lines(recorded, got, indent="") if line[:1] in "+-") - 2, 1)
    return f"the reply differs ({changed} line{'' if changed == 1 else 's'})"


def _outcome(reply: Message) -> str:
    error = reply.get("error")
    if isinstance(error, dict):
        return f"error {error.get('class', '?')}"
    return "a return" if "return" in reply else "no reply"


def event_set(events: Iterable[Message], ignored: Ignored) -> list[Any]:
    """Events as a set (timestamps aside), sorted so that two sets diff line by line."""
    cleaned = {_text(ignored.clean(event)): ignored.clean(event) for event in events}
    return [cleaned[key] for key in sorted(cleaned)]
