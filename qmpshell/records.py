"""``NamedTuple`` and ``Protocol`` for qmpshell's modules, without loading ``typing`` at run time.

mypy sees ``typing``'s own (this module re-exports them when type checking).
At run time a ``class Reply(NamedTuple)`` is made by ``collections.namedtuple``
directly, as ``typing.NamedTuple`` makes it, less the checks of its
annotations that nothing reads at run time; and a ``Protocol`` is a plain base.

Why: ``import typing`` is 12 M instructions and each ``typing.NamedTuple`` class
0.6 M (0.36 M by ``collections.namedtuple``): a third of what qmpshell added to
a bare Python one-shot (issue 26).  ``tests/test_records.py`` checks that the
classes made here behave as ``typing``'s, and ``tests/test_habits.py`` that a
one-shot does not load ``typing``.  Modules import ``typing``'s names for their
annotations only under ``TYPE_CHECKING = False`` / ``if TYPE_CHECKING:``, which
mypy reads as ``typing.TYPE_CHECKING``.
"""

from __future__ import annotations

import collections

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
    from typing import NamedTuple as NamedTuple
    from typing import Protocol as Protocol
else:
    Protocol = object  # nothing checks a protocol at run time here (no runtime_checkable)

    # What the class body may not set (as typing), and what is the namedtuple's own.
    _PROHIBITED = frozenset(
        {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
    )
    _PROHIBITED |= {"_make", "_replace", "_asdict", "_source"}
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _RecordMaker(type):
        """Turns ``class Name(NamedTuple): field: type = default ...`` into a namedtuple class."""

        def __new__(mcs, typename: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:  # noqa: N804
            annotations = namespace.get("__annotations__", {})
            defaults = [namespace[name] for name in annotations if name in namespace]
            record = collections.namedtuple(  # type: ignore[misc]
                typename, list(annotations), defaults=defaults, module=namespace["__module__"]
            )
            record.__annotations__ = annotations
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in record._fields:
                    setattr(record, key, value)
            return record

    NamedTuple = type.__new__(_RecordMaker, "NamedTuple", (), {})
