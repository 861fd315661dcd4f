"""Whose message is this: the user's, or the shell's own (``"source"`` in the ``-l`` log).

The shell asks QEMU things on its own account: the schema, completion's
``qom-list`` and ``device-list-properties``, the run state for the status bar,
a ``device_add``'s property types, a ``/job``'s ``query-jobs``.  Code that does
so runs under ``own(SOURCE)``; the log writes that source as a top-level
``"source"`` key of the record (never inside the message sent to QEMU), and
``-v`` shows such messages dimmed.  A context variable, not a parameter: the
client's ``send`` stays one signature for every caller, and each thread (the
completion worker, the front-end's) carries its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

COMPLETION, SCHEMA, TYPING, STATUS, JOB, CONNECTION, CPU = (
    "completion", "schema", "typing", "status", "job", "connection", "cpu",
)  # fmt: skip
_SOURCE: ContextVar[str] = ContextVar("qmpshell_source", default="")


@contextmanager
def own(source: str) -> Iterator[None]:
    """Messages sent inside are the shell's own, for ``source``."""
    token = _SOURCE.set(source)
    try:
        yield
    finally:
        _SOURCE.reset(token)


def current() -> str:
    """The source of a message sent now: '' for the user's own commands."""
    return _SOURCE.get()


def marked(execute: Callable[..., Any], source: str) -> Callable[..., Any]:
    """``execute`` (a client's), each call the shell's own for ``source``."""

    def run(*args: Any, **kwargs: Any) -> Any:
        with own(source):
            return execute(*args, **kwargs)

    return run
