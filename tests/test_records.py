"""qmpshell.records' run-time ``NamedTuple`` makes the classes ``typing.NamedTuple`` makes."""

from __future__ import annotations

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
