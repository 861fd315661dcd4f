"""The pure completion function against expected suggestion sets, on the QEMU 7.2 capture.

``tests/data/qemu-7.2-schema.json`` is ``query-qmp-schema`` of QEMU 7.2.22
(Debian qemu-system-x86 1:7.2+dfsg-7+deb12u18).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qmpshell import commands
from qmpshell.schema.index import SchemaIndex
from qmpshell.schema.suggest import suggest
from qmpshell.schema.suggestions import LiveQuery, Suggestions

CAPTURE = Path(__file__).parent / "data" / "qemu-7.2-schema.json"
BLOCKDEV_BASE = ["driver", "node-name", "discard", "cache", "read-only", "auto-read-only", "force-share"]
BLOCKDEV_BASE += ["detect-zeroes"]


@pytest.fixture(scope="module")
def index() -> SchemaIndex:
    return SchemaIndex.from_entries(json.loads(CAPTURE.read_text()))


def run(text: str, index: SchemaIndex) -> Suggestions:
    return suggest(text, index, shell_commands=commands.names())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("query-st", {"query-stats", "query-stats-schemas", "query-status"}),
        ("  qom-l", {"qom-list", "qom-list-properties", "qom-list-types"}),
        ("blockdev-add driver=n", {"nbd", "nfs", "null-aio", "null-co", "nvme"}),
        ("set-action shutdown=", {"pause", "poweroff"}),
        ("blockdev-add read-only=", {"true", "false"}),
        ("blockdev-add driver=qcow2 backing=", {"null"}),
        ("block_resize size=1 ", {"device", "node-name"}),
        ("blockdev-add driver=qcow2 file.driver=file file.f", {"filename", "force-share"}),
        ("blockdev-add driver=file a", {"aio", "aio-max-batch", "auto-read-only"}),
        ("transaction(\n  ab", {"abort"}),
        (
            "transaction(\n  block-dirty-bitmap-add ",
            {"node", "name", "granularity", "persistent", "disabled"},
        ),
        ("transaction(\n  block-dirty-bitmap-add node=n0 n", {"name"}),
        ("/wa", {"/wait"}),
        ("/wait BLOCK_JOB_C", {"BLOCK_JOB_CANCELLED", "BLOCK_JOB_COMPLETED"}),
        ("/help query-sta", {"query-stats", "query-stats-schemas", "query-status"}),
        ("/help SHUT", {"SHUTDOWN"}),
        ("/events ", {"on", "off", "clear", "filter"}),
        ("/events filter BLOCK_JOB_C", {"BLOCK_JOB_CANCELLED", "BLOCK_JOB_COMPLETED"}),
        ("/events filter STOP RES", {"RESET", "RESUME"}),
        ("/events filter STOP ST", set()),
        ("/wait DEVICE_DELETED ", {"device", "path", "timeout"}),
        ("/wait DEVICE_DELETED device=n0 ", {"path", "timeout"}),
        ("/wait BLOCK_JOB_COMPLETED t", {"type", "timeout"}),
        ("/wait STOP ", {"timeout"}),
    ],
)
def test_suggestion_sets(index: SchemaIndex, text: str, expected: set[str]) -> None:
    assert run(text, index).texts == expected


@pytest.mark.parametrize(
    "text",
    [
        "cont ",  # takes no arguments
        "query-status x",
        "human-monitor-command command-line=",  # a str: nothing to offer
        "human-monitor-command command-line='inf",
        "no-such-command ",
        '{"execute": "q',
        "# a comment",
        "qom-set value={",
        "transaction(\n  abort\n)",
        "blockdev-add nosuch.",
        "/wait NO_SUCH_EVENT ",
        "/quit ",
    ],
)
def test_nothing_to_suggest(index: SchemaIndex, text: str) -> None:
    assert run(text, index).candidates == ()


def test_required_members_come_first_and_used_ones_are_left_out(index: SchemaIndex) -> None:
    names = [c.text for c in run("blockdev-add ", index).candidates]
    assert names == BLOCKDEV_BASE
    names = [c.text for c in run("blockdev-add driver=file ", index).candidates]
    assert names[0] == "filename" and "driver" not in names
    assert "node-name" in names and "locking" in names  # the variant's members, once driver= is given
    names = [c.text for c in run("blockdev-add driver=file filename=/x read-only=on ", index).candidates]
    assert "filename" not in names and "read-only" not in names and "node-name" in names


def test_union_members_follow_the_discriminator_at_each_level(index: SchemaIndex) -> None:
    assert run("blockdev-add driver=qcow2 file.", index).texts == set(BLOCKDEV_BASE)
    nested = run("blockdev-add driver=qcow2 file.driver=file file.", index).texts
    assert "filename" in nested and "driver" not in nested
    assert "filename" not in run("blockdev-add driver=qcow2 ", index).texts


def test_what_is_inserted_and_shown(index: SchemaIndex) -> None:
    found = run("blockdev-add driver=null-co ", index)
    by_name = {c.text: c for c in found.candidates}
    assert by_name["size"].insert == "size=" and by_name["size"].meta == "int, optional"
    assert by_name["cache"].insert == "cache."
    assert (
        run("blockdev-add ", index).candidates[0].meta == "enum (blkdebug | blklogwrites | blkreplay | ...)"
    )
    assert run("drive-b", index).candidates[0].meta == "deprecated"


def test_the_word_being_completed(index: SchemaIndex) -> None:
    assert run("blockdev-add driver=qcow2 file.driver=file file.fi", index).word == "fi"
    assert run("query-s", index).word == "query-s"
    assert run("blockdev-add driver=nu", index).word == "nu"
    assert run("", index).what == "command" and len(run("", index).candidates) == 216


@pytest.mark.parametrize(
    ("text", "live"),
    [
        ("device_add driver=", LiveQuery("device-types")),
        ("device_add driver=virtio-blk-pci ", LiveQuery("device-props", "virtio-blk-pci")),
        ("object-add qom-type=memory-backend-ram ", LiveQuery("object-props", "memory-backend-ram")),
        ("block_resize node-name=", LiveQuery("node-names")),
        ("blockdev-add driver=qcow2 node-name=q file=", LiveQuery("node-names")),
        ("blockdev-del node-name=n", LiveQuery("node-names")),
        ("block-job-cancel device=", LiveQuery("job-ids")),
        ("qom-list path=/machine/un", LiveQuery("qom-paths", "/machine/")),
        ("qom-get path=", LiveQuery("qom-paths", "/")),
        ("qom-get path=/machine property=", LiveQuery("qom-props", "/machine")),
        ("device_del id=", LiveQuery("device-ids")),
        ("device_add driver=e1000 bus=", LiveQuery("buses", "e1000")),
    ],
)
def test_live_queries(index: SchemaIndex, text: str, live: LiveQuery) -> None:
    assert run(text, index).live == live


@pytest.mark.parametrize("text", ["blockdev-add driver=null-co node-name=", "device_add id=", "query-status"])
def test_no_live_query_where_names_are_new(index: SchemaIndex, text: str) -> None:
    assert run(text, index).live is None


def test_without_a_schema_only_shell_commands() -> None:
    assert suggest("/q", None, shell_commands=commands.names()).texts == {"/qmp", "/quit"}
    assert suggest("query", None).candidates == ()
    assert suggest("/events o", None).texts == {"on", "off"}


@pytest.mark.parametrize(
    "text",
    [
        "blockdev-add driver=file filename=",
        "blockdev-add driver=qcow2 file.driver=file file.filename=/tm",
        "blockdev-snapshot-sync node-name=n snapshot-file=",
        "drive-mirror device=d target=",
        "chardev-add id=c backend.type=socket backend.data.addr.type=unix backend.data.addr.data.path=",
        "chardev-add id=c backend.type=file backend.data.out=/tm",
        "object-add qom-type=memory-backend-file id=m size=1M mem-path=",
    ],
)
def test_host_paths_complete_as_file_names(index: SchemaIndex, text: str) -> None:
    found = run(text, index)
    assert found.what == "file"
    assert found.word == text.rsplit("=", 1)[1]


@pytest.mark.parametrize("text", ["blockdev-mirror target=", "qom-get path=/m", "blockdev-add driver="])
def test_node_names_and_qom_paths_are_not_file_names(index: SchemaIndex, text: str) -> None:
    assert run(text, index).what != "file"


def test_the_signature_follows_dotted_keys(index: SchemaIndex) -> None:
    from qmpshell.schema.help import signature
    from qmpshell.schema.suggest import signature_at

    assert signature_at(index, "block_resize si") == signature(index, "block_resize")
    branch = signature_at(index, "blockdev-add driver=qcow2 file.")
    assert branch.startswith("blockdev-add file.: driver=enum (") and "[node-name=str]" in branch
    assert "filename=str" not in branch
    variant = signature_at(index, "blockdev-add driver=qcow2 file.driver=file file.fi")
    assert variant.startswith("blockdev-add file.: filename=str ")  # the chosen branch's own first
    assert variant.index("[aio=") < variant.index("driver=enum") < variant.index("[node-name=")
    assert signature_at(index, "blockdev-add driver=qcow2 file.driver=file file.filename=/x") == variant
    assert signature_at(index, "/wait STOP") == "" and signature_at(index, "") == ""
