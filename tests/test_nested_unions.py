"""Dotted keys through a union whose variant is itself a union, to any depth, and lists of objects.

QEMU 8.2's ``migrate channels=[{addr: MigrationAddress}]``: ``MigrationAddress``
is a union on ``transport`` whose ``socket`` variant is ``SocketAddress``, a
union on ``type``.  Before, ``channels.0.addr.path`` was refused as unknown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qmpshell.errors import UsageError
from qmpshell.language.parse import parse_statement
from qmpshell.schema.index import SchemaIndex
from qmpshell.schema.suggest import signature_at, suggest
from qmpshell.schema.values import SchemaTyper
from tests.qemu_support import BACKPORTS_QEMU, json_lines, run_qmpshell

SOCKET_MIGRATION = (
    "migrate channels.0.channel-type=main channels.0.addr.transport=socket "
    "channels.0.addr.type=unix channels.0.addr.path=/tmp/m.sock"
)


def _object(name: str, members: list[tuple[str, str]], tag: str = "", variants: Any = ()) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "meta-type": "object",
        "members": [{"name": n, "type": t} for n, t in members],
    }
    if tag:
        entry["tag"] = tag
        entry["variants"] = [{"case": case, "type": type_} for case, type_ in variants]
    return entry


def deep_schema() -> SchemaIndex:
    """Three unions nested in each other (QEMU has two today; the rule must not stop there)."""
    entries = [
        {"name": "go", "meta-type": "command", "arg-type": "A", "ret-type": "e"},
        {"name": "e", "meta-type": "object", "members": []},
        {"name": "str", "meta-type": "builtin", "json-type": "string"},
        {"name": "int", "meta-type": "builtin", "json-type": "int"},
        {"name": "K1", "meta-type": "enum", "values": ["b"]},
        {"name": "K2", "meta-type": "enum", "values": ["c"]},
        {"name": "K3", "meta-type": "enum", "values": ["d"]},
        _object("A", [("top", "U1")]),
        _object("U1", [("k1", "K1")], "k1", [("b", "U2")]),
        _object("U2", [("k2", "K2")], "k2", [("c", "U3")]),
        _object("U3", [("k3", "K3")], "k3", [("d", "Leaf")]),
        _object("Leaf", [("size", "int"), ("name", "str")]),
    ]
    return SchemaIndex.from_entries(entries)


def test_a_union_three_deep_types_and_checks_its_leaf() -> None:
    typer = SchemaTyper(deep_schema())
    request = parse_statement("go top.k1=b top.k2=c top.k3=d top.size=4K top.name=00.3", typer=typer)
    assert request is not None
    assert request.message["arguments"] == {  # type: ignore[union-attr]
        "top": {"k1": "b", "k2": "c", "k3": "d", "size": 4096, "name": "00.3"}
    }
    with pytest.raises(UsageError, match="unknown argument 'top.sise' for go; did you mean top.size"):
        parse_statement("go top.k1=b top.k2=c top.k3=d top.sise=1", typer=typer)


def test_completion_and_the_toolbar_follow_the_tags_given() -> None:
    index = deep_schema()
    words = suggest("go top.k1=b top.k2=c top.k3=d top.", index)
    assert {c.text for c in words.candidates} == {"size", "name"}
    assert "size=int" in signature_at(index, "go top.k1=b top.k2=c top.k3=d top.")


@pytest.fixture(scope="module")
def qemu10(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """``--launch`` argv for the QEMU 10 that scripts/setup unpacks (8.2 brought the shape)."""
    assert Path(BACKPORTS_QEMU).exists(), f"no {BACKPORTS_QEMU}: run scripts/setup"
    return ["--", BACKPORTS_QEMU, "-M", "none", "-nodefaults", "-display", "none"]


def test_socket_migration_in_shorthand_on_qemu_10(qemu10: list[str]) -> None:
    result = run_qmpshell("--launch", "--dry-run", "-c", SOCKET_MIGRATION, *qemu10)
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [
        {
            "execute": "migrate",
            "arguments": {
                "channels": [
                    {
                        "channel-type": "main",
                        "addr": {"transport": "socket", "type": "unix", "path": "/tmp/m.sock"},
                    }
                ]
            },
        }
    ]


def test_an_object_where_a_list_belongs_is_refused_before_sending(qemu10: list[str]) -> None:
    line = "migrate-set-capabilities capabilities.capability=events capabilities.state=true"
    result = run_qmpshell("--launch", "--dry-run", "-c", line, *qemu10)
    assert result.returncode == 2
    assert "'capabilities' is a list: number its items, e.g. capabilities.0.capability=" in result.stderr
    assert result.stdout == ""


def test_a_mistyped_member_deep_in_a_list_is_named_with_its_path(qemu10: list[str]) -> None:
    line = SOCKET_MIGRATION.replace("addr.path", "addr.pth")
    result = run_qmpshell("--launch", "--dry-run", "-c", line, *qemu10)
    assert result.returncode == 2
    assert (
        "unknown argument 'channels.0.addr.pth' for migrate; did you mean channels.0.addr.path?"
        in result.stderr
    )
