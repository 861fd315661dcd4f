"""Schema-directed values on the QEMU 7.2 capture, through the real parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qmpshell.errors import ParseError, UsageError
from qmpshell.language.parse import parse_statement
from qmpshell.language.requests import QmpRequest
from qmpshell.schema.index import SchemaIndex
from qmpshell.schema.values import SchemaTyper

CAPTURE = Path(__file__).parent / "data" / "qemu-7.2-schema.json"


@pytest.fixture(scope="module")
def typer() -> SchemaTyper:
    return SchemaTyper(SchemaIndex.from_entries(json.loads(CAPTURE.read_text())))


def arguments(line: str, typer: SchemaTyper) -> Any:
    request = parse_statement(line, typer=typer)
    assert isinstance(request, QmpRequest)
    return request.message.get("arguments", {})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("human-monitor-command command-line=123", {"command-line": "123"}),
        ("human-monitor-command command-line=true", {"command-line": "true"}),
        ("human-monitor-command command-line='info  status'", {"command-line": "info  status"}),
        ("human-monitor-command command-line=info cpu-index=0x1", {"command-line": "info", "cpu-index": 1}),
        ("device_add driver=e1000 id=123", {"driver": "e1000", "id": "123"}),
        (
            "device_add driver=virtio-blk-pci id=d num-queues=4 x=true",
            {"driver": "virtio-blk-pci", "id": "d", "num-queues": 4, "x": True},
        ),
        ("qom-set path=/m property=p value=false", {"path": "/m", "property": "p", "value": False}),
        ("qom-set path=/m property=p value=12", {"path": "/m", "property": "p", "value": 12}),
        ("qom-set path=/m property=p value='12'", {"path": "/m", "property": "p", "value": "12"}),
    ],
)
def test_strings_and_any(typer: SchemaTyper, line: str, expected: dict[str, Any]) -> None:
    assert arguments(line, typer) == expected


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1M", 1 << 20),
        ("4K", 4096),
        ("2G", 2 << 30),
        ("1T", 1 << 40),
        ("1P", 1 << 50),
        ("1k", 1024),
        ("0x10", 16),
        ("0o17", 15),
        ("0b101", 5),
        ("-3", -3),
        ("1.5K", 1536),
        ("1MiB", 1 << 20),
        ("512", 512),
    ],
)
def test_integers_with_bases_and_suffixes(typer: SchemaTyper, text: str, number: int) -> None:
    assert arguments(f"block_resize node-name=n size={text}", typer) == {"node-name": "n", "size": number}


@pytest.mark.parametrize("text", ["abc", "1.5", "1Q", "0x", "1e3"])
def test_bad_integers_are_refused_with_a_column(typer: SchemaTyper, text: str) -> None:
    line = f"block_resize node-name=n size={text}"
    with pytest.raises(ParseError) as caught:
        parse_statement(line, typer=typer)
    assert caught.value.what.startswith("size: expected an integer")
    assert caught.value.column == line.index("size=") + 5


def test_quoted_integer_stays_a_string(typer: SchemaTyper) -> None:
    assert arguments("block_resize node-name=n size='12'", typer)["size"] == "12"


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("on", True), ("yes", True), ("off", False), ("no", False), ("false", False)],
)
def test_booleans(typer: SchemaTyper, text: str, value: bool) -> None:
    assert arguments(f"blockdev-add driver=null-co node-name=n read-only={text}", typer)["read-only"] is value


def test_bad_boolean(typer: SchemaTyper) -> None:
    with pytest.raises(ParseError, match="read-only: expected true/false/on/off/yes/no, got 'maybe'"):
        parse_statement("blockdev-add driver=null-co read-only=maybe", typer=typer)


def test_numbers() -> None:
    """QEMU 7.2 takes no ``number`` argument (only replies have them), so a small schema it is."""
    typer = SchemaTyper(
        SchemaIndex.from_entries(
            [
                {"name": "set-rate", "meta-type": "command", "arg-type": "1", "ret-type": "0"},
                {"name": "1", "meta-type": "object", "members": [{"name": "rate", "type": "number"}]},
                {"name": "number", "meta-type": "builtin", "json-type": "number"},
            ]
        )
    )
    assert arguments("set-rate rate=0.5", typer) == {"rate": 0.5}
    assert arguments("set-rate rate=2", typer) == {"rate": 2}
    assert arguments("set-rate rate=-1e3", typer) == {"rate": -1000.0}
    with pytest.raises(ParseError, match="rate: expected a number, got 'soon'"):
        parse_statement("set-rate rate=soon", typer=typer)
    with pytest.raises(ParseError, match="rate: expected a finite number"):
        parse_statement("set-rate rate=nan", typer=typer)


def test_enums_are_checked(typer: SchemaTyper) -> None:
    assert arguments("set-action shutdown=pause", typer) == {"shutdown": "pause"}
    with pytest.raises(ParseError, match=r"did you mean null-co\?"):
        parse_statement("blockdev-add driver=nul-co", typer=typer)
    with pytest.raises(ParseError, match="expected one of: poweroff, pause"):
        parse_statement("set-action shutdown=zzz", typer=typer)


def test_union_variants_and_nested_objects(typer: SchemaTyper) -> None:
    line = "blockdev-add driver=qcow2 node-name=q file.driver=file file.filename=/tmp/x cache.direct=on"
    assert arguments(line, typer) == {
        "driver": "qcow2",
        "node-name": "q",
        "file": {"driver": "file", "filename": "/tmp/x"},
        "cache": {"direct": True},
    }
    assert arguments("blockdev-add driver=null-co node-name=n0 size=1M", typer)["size"] == 1 << 20
    assert arguments("object-add qom-type=memory-backend-ram id=m size=1G share=on", typer) == {
        "qom-type": "memory-backend-ram",
        "id": "m",
        "size": 1 << 30,
        "share": True,
    }


def test_alternates_try_branches_in_order(typer: SchemaTyper) -> None:
    # BlockdevRefOrNull: BlockdevOptions | str | null
    assert arguments("blockdev-add driver=qcow2 node-name=q file=n0 backing=null", typer) == {
        "driver": "qcow2",
        "node-name": "q",
        "file": "n0",
        "backing": None,
    }
    assert (
        arguments("blockdev-add driver=qcow2 node-name=q file=n0 backing='null'", typer)["backing"] == "null"
    )
    assert arguments("blockdev-add driver=qcow2 node-name=q file=123", typer)["file"] == "123"


def test_json_values_and_numbered_arrays(typer: SchemaTyper) -> None:
    line = 'migrate-set-capabilities capabilities=[{"capability": "xbzrle", "state": true}]'
    assert arguments(line, typer) == {"capabilities": [{"capability": "xbzrle", "state": True}]}
    line = (
        "migrate-set-capabilities capabilities.1.capability=events capabilities.1.state=on "
        "capabilities.0.capability=xbzrle capabilities.0.state=off"
    )
    assert arguments(line, typer) == {
        "capabilities": [{"capability": "xbzrle", "state": False}, {"capability": "events", "state": True}]
    }


def test_transaction_actions_are_typed(typer: SchemaTyper) -> None:
    request = parse_statement(
        "transaction(\n abort\n block-dirty-bitmap-add node=n name=7 granularity=64K\n)", typer=typer
    )
    assert isinstance(request, QmpRequest)
    assert request.message["arguments"]["actions"] == [
        {"type": "abort", "data": {}},
        {"type": "block-dirty-bitmap-add", "data": {"node": "n", "name": "7", "granularity": 65536}},
    ]


def test_unknown_command_and_action(typer: SchemaTyper) -> None:
    with pytest.raises(UsageError) as caught:
        parse_statement("quer-status", typer=typer)
    assert str(caught.value) == "unknown command 'quer-status'; did you mean query-status?"
    with pytest.raises(UsageError, match="^unknown command 'zzzzzz'$"):
        parse_statement("zzzzzz", typer=typer)
    with pytest.raises(UsageError, match="unknown transaction action 'abrt'; did you mean abort"):
        parse_statement("transaction(\n abrt\n)", typer=typer)


def test_raw_json_is_not_typed(typer: SchemaTyper) -> None:
    request = parse_statement('{"execute": "quer-status"}', typer=typer)
    assert isinstance(request, QmpRequest) and request.command == "quer-status"
