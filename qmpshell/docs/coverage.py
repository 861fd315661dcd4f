"""How much of a server's schema its documentation covers (``scripts/docs-coverage``).

Counted from the live schema: commands and events the manual documents, the
top-level arguments ``/help`` shows with the manual's text (its own "Not
documented" counts: the manual says so), and the examples of the server's
commands whose qmpshell line, typed as ``--dry-run`` types it, sends the
documented JSON again (same ``execute``, same ``arguments``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from qmpshell.docs.examples import as_line, first_message, sends_something
from qmpshell.docs.join import definition_for, gather
from qmpshell.docs.model import Manual
from qmpshell.language.parse import parse_statement
from qmpshell.language.requests import QmpRequest
from qmpshell.language.untyped import ArgumentTyper
from qmpshell.schema.index import SchemaIndex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@dataclass
class Coverage:
    """Counts (found, of all) and what was missed, by name."""

    commands: tuple[int, int] = (0, 0)
    events: tuple[int, int] = (0, 0)
    arguments: tuple[int, int] = (0, 0)
    examples: tuple[int, int] = (0, 0)
    missed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"{what:<10} {found}/{total}"
            for what, (found, total) in (
                ("commands", self.commands),
                ("events", self.events),
                ("arguments", self.arguments),
                ("examples", self.examples),
            )
        ]


def measure(index: SchemaIndex, manual: Manual, typer: ArgumentTyper) -> Coverage:
    report = Coverage()
    report.commands = _named(index.commands, manual, report.missed)
    report.events = _named(index.events, manual, report.missed)
    report.arguments = _arguments(index, manual, report.missed)
    report.examples = _examples(index, manual, typer, report.missed)
    return report


def _named(names: Mapping[str, Any], manual: Manual, missed: list[str]) -> tuple[int, int]:
    found = [name for name in names if name in manual.definitions]
    missed.extend(f"not documented: {name}" for name in names if name not in manual.definitions)
    return len(found), len(names)


def _arguments(index: SchemaIndex, manual: Manual, missed: list[str]) -> tuple[int, int]:
    found = total = 0
    for name, entity in index.commands.items():
        definition = definition_for(manual, index, name)
        docs = {m.name: m for m in gather(manual, definition, {})} if definition else {}
        for member in index.type(entity.arg_type).members:
            total += 1
            if docs.get(member.name) is not None and docs[member.name].text:
                found += 1
            else:
                missed.extend([f"argument without text: {name} {member.name}"])
    return found, total


def _examples(index: SchemaIndex, manual: Manual, typer: ArgumentTyper, missed: list[str]) -> tuple[int, int]:
    found = total = 0
    for name in index.commands:
        definition = manual.definitions.get(name)
        for number, example in enumerate(definition.examples if definition else [], start=1):
            if not sends_something(example):
                continue  # a reply or an event on its own
            total += 1
            message = first_message(example)
            line = as_line(message) if message is not None else None
            if line is not None and message is not None and _round_trip(line, message, typer):
                found += 1
            else:
                missed.append(f"example not converted: {name} {number}: {line or example[:60]!r}")
    return found, total


def _round_trip(line: str, message: dict[str, Any], typer: ArgumentTyper) -> bool:
    try:
        request = parse_statement(line, typer=typer)
    except Exception:  # noqa: BLE001 - any failure is a miss, reported by name
        return False
    if not isinstance(request, QmpRequest):
        return False
    sent = request.message
    return sent.get("execute") == message.get("execute") and sent.get("arguments", {}) == message.get(
        "arguments", {}
    )
