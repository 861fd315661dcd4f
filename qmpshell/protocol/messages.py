"""QMP messages read once, at the protocol boundary: the one description of an error reply.

The spec (docs/interop/qmp-spec.rst) says an error response is
``{"error": {"class": json-string, "desc": json-string}, "id": ...}``; a server
may still send anything there.  Every output mode (JSON, views, batch's stderr,
a ``QmpError``'s message) describes an error through ``error_summary``, so the
same odd reply reads the same everywhere, and JSON-faithfully: ``{"error":
["oops"]}`` is ``Error: ["oops"]``, never Python's ``['oops']``.
"""

from __future__ import annotations

import json

from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def error_class_and_desc(response: Message) -> tuple[str, str]:
    """The error's class and description as text (anything but a string as compact JSON)."""
    error = response.get("error")
    if not isinstance(error, dict):  # the whole value as JSON: "oops" stays quoted, as sent
        return "Error", json.dumps(error, ensure_ascii=False)
    return as_text(error.get("class", "Error")), as_text(error.get("desc", ""))


def error_summary(response: Message) -> str:
    """``CLASS: desc`` of an error response, whatever shape the server gave it."""
    error_class, desc = error_class_and_desc(response)
    return f"{error_class}: {desc}"


def as_text(value: Any) -> str:
    """A string as itself; any other JSON value (a server may send any) as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def capabilities_of(greeting: Message | None) -> list[Any]:
    """The greeting's ``QMP.capabilities`` list ([] when it has none)."""
    try:
        capabilities = greeting["QMP"]["capabilities"]  # type: ignore[index]
    except (KeyError, TypeError):
        return []
    return capabilities if isinstance(capabilities, list) else []


def version_text(greeting: Message | None) -> str:
    """``7.2.22 (Debian ...)`` from a greeting; '' when it holds no version of three integers.

    The greeting is the server's to write: a package that is not a string is left out,
    a version that is not numbers is no version, and neither stops the shell.
    """
    try:
        version = greeting["QMP"]["version"]  # type: ignore[index]
        numbers = [version["qemu"][part] for part in ("major", "minor", "micro")]
        package = version.get("package")
    except (KeyError, TypeError, AttributeError):
        return ""
    if not all(isinstance(number, int) and not isinstance(number, bool) for number in numbers):
        return ""
    text = ".".join(str(number) for number in numbers)
    return f"{text} ({package.strip()})" if isinstance(package, str) and package.strip() else text


def late_note(message: Message, width: int = 100) -> str:
    """What is said of a reply whose command was given up (``--timeout``, Ctrl-C): it is dropped."""
    text = json.dumps(message, ensure_ascii=False)
    text = text if len(text) <= width else text[: width - 3] + "..."
    return f"a reply came after its command was given up, dropped: {text}"


def event_seconds(event: Message) -> float | None:
    """An event's own timestamp (QMP's ``{"seconds", "microseconds"}``) in epoch seconds; None when
    the server gave none that reads as numbers."""
    stamp = event.get("timestamp")
    try:
        return float(stamp["seconds"]) + float(stamp["microseconds"]) / 1e6  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None
