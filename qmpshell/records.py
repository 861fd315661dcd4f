"""``NamedTuple`` and ``Protocol`` for qmpshell's modules, without loading ``typing`` at run time.

mypy sees ``typing``'s own (this module re-exports them when type checking).
At run time a ``class Reply(NamedTuple)`` is made here as a tuple subclass with
the same members as one ``collections.namedtuple`` makes (fields, defaults,
``_make``, ``_replace``, ``_asdict``, the repr), less the checks of its
annotations that nothing reads at run time; and a ``Protocol`` is a plain base.

Why: ``import typing`` is 12 M instructions and each ``typing.NamedTuple`` class
0.6 M, of which 0.36 M is ``collections.namedtuple`` compiling the class's
``__new__`` from source (one ``eval`` a class, 51 classes, 21 of them in a
one-shot): together a third of what qmpshell added to a bare Python one-shot
(issue 26).  Here ``__new__`` is a precompiled function of the right number of
parameters, renamed after the fields (``_NEW_BY_COUNT``; a class with more
fields than those takes ``*args``).  ``tests/test_records.py`` checks that the
classes made here behave as ``typing``'s, and ``tests/test_habits.py`` that a
one-shot does not load ``typing``.  Modules import ``typing``'s names for their
annotations only under ``TYPE_CHECKING = False`` / ``if TYPE_CHECKING:``, which
mypy reads as ``typing.TYPE_CHECKING``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
    from typing import NamedTuple as NamedTuple
    from typing import Protocol as Protocol
else:
    from types import FunctionType

    try:
        from _collections import _tuplegetter  # the C field accessor collections.namedtuple uses
    except ImportError:  # not CPython
        from operator import itemgetter

        def _tuplegetter(index: int, doc: str) -> Any:
            return property(itemgetter(index), doc=doc)

    Protocol = object  # nothing checks a protocol at run time here (no runtime_checkable)

    # What the class body may not set (as typing), and what is the record's own.
    _PROHIBITED = frozenset(
        {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
    )
    _PROHIBITED |= {"_make", "_replace", "_asdict", "_source"}
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    _tuple_new = tuple.__new__

    # A record's __new__ by its number of fields, the parameters renamed after them.
    _NEW_BY_COUNT = (
        lambda _cls: _tuple_new(_cls, ()),
        lambda _cls, a: _tuple_new(_cls, (a,)),
        lambda _cls, a, b: _tuple_new(_cls, (a, b)),
        lambda _cls, a, b, c: _tuple_new(_cls, (a, b, c)),
        lambda _cls, a, b, c, d: _tuple_new(_cls, (a, b, c, d)),
        lambda _cls, a, b, c, d, e: _tuple_new(_cls, (a, b, c, d, e)),
        lambda _cls, a, b, c, d, e, f: _tuple_new(_cls, (a, b, c, d, e, f)),
        lambda _cls, a, b, c, d, e, f, g: _tuple_new(_cls, (a, b, c, d, e, f, g)),
        lambda _cls, a, b, c, d, e, f, g, h: _tuple_new(_cls, (a, b, c, d, e, f, g, h)),
        lambda _cls, a, b, c, d, e, f, g, h, i: _tuple_new(_cls, (a, b, c, d, e, f, g, h, i)),
    )

    def _new_for(typename: str, fields: tuple[str, ...], defaults: dict[str, Any]) -> Any:
        """The record's ``__new__``: positional or by field name, the last fields' defaults."""
        if len(fields) < len(_NEW_BY_COUNT):
            template = _NEW_BY_COUNT[len(fields)].__code__
            code = template.replace(co_varnames=("_cls", *fields), co_name="__new__")
            new = FunctionType(code, {"_tuple_new": _tuple_new}, "__new__", tuple(defaults.values()) or None)
        else:

            def new(_cls: type, *args: Any, **named: Any) -> Any:
                if named or len(args) != len(fields):
                    args = _bound(typename, fields, defaults, args, named)
                return _tuple_new(_cls, args)

        new.__qualname__ = f"{typename}.__new__"
        return new

    def _bound(
        typename: str,
        fields: tuple[str, ...],
        defaults: dict[str, Any],
        args: tuple[Any, ...],
        named: dict[str, Any],
    ) -> tuple[Any, ...]:
        """The values of a call with names or defaults, as Python binds them, or its TypeError."""
        if len(args) > len(fields):
            raise TypeError(
                f"{typename}() takes {len(fields)} positional arguments but {len(args)} were given"
            )
        for name in fields[: len(args)]:
            if name in named:
                raise TypeError(f"{typename}() got multiple values for argument '{name}'")
        values = list(args)
        for name in fields[len(args) :]:
            if name not in named and name not in defaults:
                raise TypeError(f"{typename}() missing required argument: '{name}'")
            values.append(named.pop(name) if name in named else defaults[name])
        if named:
            raise TypeError(f"{typename}() got an unexpected keyword argument '{next(iter(named))}'")
        return tuple(values)

    # The members every record shares.
    def _make(cls: type, iterable: Any) -> Any:
        record = _tuple_new(cls, iterable)
        if len(record) != len(cls._fields):  # type: ignore[attr-defined]
            raise TypeError(f"{cls.__name__} takes {len(cls._fields)} values, got {len(record)}")  # type: ignore[attr-defined]
        return record

    def _replace(self: Any, /, **changes: Any) -> Any:
        values = [changes.pop(name, value) for name, value in zip(self._fields, self, strict=True)]
        if changes:
            raise ValueError(f"{type(self).__name__} has no field(s) {list(changes)!r}")
        return self._make(values)

    def _repr(self: Any) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True))
        return f"{type(self).__name__}({shown})"

    def _asdict(self: Any) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    def _getnewargs(self: Any) -> tuple[Any, ...]:
        return tuple(self)

    def _record(typename: str, fields: tuple[str, ...], defaults: dict[str, Any], module: str) -> Any:
        """A tuple subclass with named fields: what ``collections.namedtuple`` makes."""
        namespace: dict[str, Any] = {
            "__doc__": f"{typename}({', '.join(fields)})",
            "__slots__": (),
            "__module__": module,
            "_fields": fields,
            "_field_defaults": defaults,
            "__new__": _new_for(typename, fields, defaults),
            "_make": classmethod(_make),
            "_replace": _replace,
            "__repr__": _repr,
            "_asdict": _asdict,
            "__getnewargs__": _getnewargs,
            "__match_args__": fields,
        }
        for index, name in enumerate(fields):
            namespace[name] = _tuplegetter(index, f"field {index} of {typename}")
        return type(typename, (tuple,), namespace)

    class _RecordMaker(type):
        """Turns ``class Name(NamedTuple): field: type = default ...`` into a record class."""

        def __new__(mcs, typename: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:  # noqa: N804
            annotations = namespace.get("__annotations__", {})
            defaults = {name: namespace[name] for name in annotations if name in namespace}
            record = _record(typename, tuple(annotations), defaults, namespace["__module__"])
            record.__annotations__ = annotations
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"cannot overwrite NamedTuple attribute {key}")
                if key not in _SPECIAL and key not in record._fields:
                    setattr(record, key, value)
            return record

    NamedTuple = type.__new__(_RecordMaker, "NamedTuple", (), {})
