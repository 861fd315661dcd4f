"""qmpshell.records' run-time ``NamedTuple`` makes the classes ``typing.NamedTuple`` makes."""

from __future__ import annotations

import copy
import pickle
import types
import typing

import pytest

from qmpshell import records
from qmpshell.outcomes import Reply
from qmpshell.protocol.address import Address


def both(base: typing.Any) -> type:
    """The same record written on ``base`` (typing's NamedTuple or qmpshell's)."""

    class Point(base):  # type: ignore[misc, valid-type]
        """Where something is."""

        x: int
        y: int = 0
        tags: tuple[str, ...] = ()

        @property
        def far(self) -> bool:
            return abs(self.x) + abs(self.y) > 10

        def moved(self, by: int) -> Point:
            return self._replace(x=self.x + by)

    return Point


MINE, TYPINGS = both(records.NamedTuple), both(typing.NamedTuple)


def test_a_record_is_a_tuple_with_the_same_fields_and_defaults() -> None:
    assert issubclass(MINE, tuple)
    assert MINE._fields == TYPINGS._fields == ("x", "y", "tags")
    assert MINE._field_defaults == TYPINGS._field_defaults == {"y": 0, "tags": ()}
    assert list(MINE.__annotations__) == list(TYPINGS.__annotations__)
    assert MINE.__doc__ == TYPINGS.__doc__ == "Where something is."
    assert MINE.__module__ == TYPINGS.__module__ == __name__


def test_a_record_behaves_as_typings() -> None:
    for cls in (MINE, TYPINGS):
        point = cls(12, tags=("a",))
        assert point == (12, 0, ("a",))
        assert point.far
        assert point.moved(-12) == cls(0, 0, ("a",))
        assert point._asdict() == {"x": 12, "y": 0, "tags": ("a",)}
        assert repr(point) == "Point(x=12, y=0, tags=('a',))"
        x, y, tags = point
        assert (x, y, tags) == (12, 0, ("a",))
        with pytest.raises(TypeError):
            cls()  # x has no default
        with pytest.raises(AttributeError):
            point.x = 3  # type: ignore[misc]


def test_a_record_may_not_replace_what_makes_it_a_tuple() -> None:
    for base in (records.NamedTuple, typing.NamedTuple):
        with pytest.raises(AttributeError):

            class Bad(base):  # type: ignore[misc, valid-type]
                x: int

                def _replace(self, **changes: typing.Any) -> None: ...


def test_qmpshells_records_are_namedtuples() -> None:
    assert Reply._fields == ("sent", "response", "hint", "as_json")
    address = Address("/tmp/q.sock")
    assert isinstance(address, tuple)
    assert address._replace(path="/tmp/r.sock") == Address(path="/tmp/r.sock")
    assert str(address) == "/tmp/q.sock"


def wide(base: typing.Any) -> type:
    """A record with more fields than ``records`` has precompiled ``__new__`` functions for."""
    fields = {f"f{i}": int for i in range(12)}
    body = {"__annotations__": fields, "__module__": __name__, "f10": 10, "f11": 11}
    return types.new_class("Wide", (base,), exec_body=lambda namespace: namespace.update(body))


@pytest.mark.parametrize("make", [both, wide])
def test_calls_bind_as_typings_records_do(make: typing.Callable[[typing.Any], type]) -> None:
    """Positional, by name, mixed and defaulted calls give the same records; bad calls the same error."""
    mine, theirs = make(records.NamedTuple), make(typing.NamedTuple)
    names = mine._fields
    required = [name for name in names if name not in mine._field_defaults]
    calls: list[tuple[tuple[int, ...], dict[str, int]]] = [
        (tuple(range(len(names))), {}),
        (tuple(range(len(required))), {}),
        ((), {name: 7 for name in required}),
        ((1,), {name: 7 for name in names[1:]}),
        ((1,), {name: 7 for name in required[1:]}),
    ]
    for args, named in calls:
        assert mine(*args, **named) == theirs(*args, **named)
        assert type(mine(*args, **named)) is mine
    bad: list[tuple[tuple[int, ...], dict[str, int]]] = [
        ((), {}),  # a field without default is missing
        (tuple(range(len(names) + 1)), {}),  # too many
        ((1,), {names[0]: 2}),  # twice
        (tuple(range(len(required))), {"nope": 1}),  # unknown
    ]
    for args, named in bad:
        with pytest.raises(TypeError):
            theirs(*args, **named)
        with pytest.raises(TypeError):
            mine(*args, **named)


@pytest.mark.parametrize("make", [both, wide])
def test_the_records_own_members_behave_as_typings(make: typing.Callable[[typing.Any], type]) -> None:
    mine, theirs = make(records.NamedTuple), make(typing.NamedTuple)
    values = tuple(range(len(mine._fields)))
    a, b = mine(*values), theirs(*values)
    assert a._asdict() == b._asdict()
    assert repr(a) == repr(b)
    assert a._replace(**{mine._fields[0]: 9}) == b._replace(**{theirs._fields[0]: 9})
    assert mine._make(values) == theirs._make(values) and type(mine._make(values)) is mine
    assert mine.__match_args__ == theirs.__match_args__
    assert hash(a) == hash(b) and a == b and copy.copy(a) == a
    assert pickle.loads(pickle.dumps(Address("/tmp/q.sock"))) == Address("/tmp/q.sock")
    assert [getattr(a, name) for name in mine._fields] == list(values)
    for record in (a, b):
        with pytest.raises(TypeError):
            record._make(values[:-1])  # too few values
        with pytest.raises(ValueError):
            record._replace(nope=1)
