"""What a translated HMP line does: the QMP calls to send and how to show their replies.

A ``Translation`` names the QMP commands it may send (the coverage report and
the availability check read them) and builds a ``Plan`` from the parsed HMP
arguments.  A ``Raw`` value is text the shell's schema typer types when the
line runs, as it types a QMP line (``addr=00.3`` stays ``"00.3"``).
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.records import NamedTuple, Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias


class Raw(NamedTuple):
    """Text typed by the schema at run time (QemuOpts values, ``migrate_set_parameter`` values)."""

    text: str


class Call(NamedTuple):
    command: str
    arguments: dict[str, Any] = {}


Show: TypeAlias = "Callable[[list[Any]], str]"  # the return values of the calls, in order -> text


class Plan(NamedTuple):
    """Calls sent in order (stopping at the first error); ``show`` None: a ``{}`` reply, shown as ok."""

    calls: list[Call]
    show: Show | None = None


class Context(Protocol):
    """What a translation may ask while it is built."""

    cpu_index: int | None

    def ask(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        """Run a QMP query needed to translate (sent and logged like the rest)."""


Args: TypeAlias = "dict[str, Any]"  # an HMP line's arguments (hmp.args), or a QMP command's
Build: TypeAlias = "Callable[[Args, Context], Plan]"


class Translation(NamedTuple):
    qmp: tuple[str, ...]  # every QMP command it may send: all must exist on the server
    build: Build


def one(command: str, mapping: dict[str, str] | None = None, **fixed: Any) -> Translation:
    """The common case: one QMP command, HMP argument names renamed by ``mapping``."""
    names = mapping or {}

    def build(args: dict[str, Any], ctx: Context) -> Plan:
        arguments = {names.get(k, k): v for k, v in args.items() if names.get(k, k)}
        return Plan([Call(command, {**arguments, **fixed})])

    return Translation((command,), build)


def raw_tree(value: Any) -> Any:
    """A QemuOpts tree with every text leaf made ``Raw`` (typed by the schema later)."""
    if isinstance(value, dict):
        return {k: raw_tree(v) for k, v in value.items()}
    return Raw(value) if isinstance(value, str) else value
