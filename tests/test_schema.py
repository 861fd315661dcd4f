"""The schema index, the on-disk cache, /help text, error hints and warnings.

The index is built from ``tests/data/qemu-7.2-schema.json``: ``query-qmp-schema``
of QEMU 7.2.22 (Debian qemu-system-x86 1:7.2+dfsg-7+deb12u18).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from qmpshell.protocol.server import ServerIdentity
from qmpshell.schema import help as helptext
from qmpshell.schema.cache import SchemaCache
from qmpshell.schema.deprecation import warning_for
from qmpshell.schema.index import SchemaIndex, decoded

CAPTURE = Path(__file__).parent / "data" / "qemu-7.2-schema.json"
GREETING = {"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 22}, "package": "Debian 1:7.2"}}}


@pytest.fixture(scope="module")
def entries() -> list[Any]:
    return json.loads(CAPTURE.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def index(entries: list[Any]) -> SchemaIndex:
    return SchemaIndex.from_entries(entries)


def test_index_counts_match_the_capture(index: SchemaIndex) -> None:
    assert len(index.commands) == 216
    assert len(index.events) == 52
    assert index.commands["drive-backup"].features == ("deprecated",)


def test_flat_union_members_depend_on_the_discriminator(index: SchemaIndex) -> None:
    arg_type = index.commands["blockdev-add"].arg_type
    info = index.type(arg_type)
    assert info.tag == "driver" and len(info.variants) == 42
    base = {m.name for m in index.members(arg_type)}
    with_file = {m.name for m in index.members(arg_type, "file")}
    assert "filename" not in base and "filename" in with_file
    assert base < with_file


def test_alternate_object_branch_and_arrays(index: SchemaIndex) -> None:
    qcow2 = index.members(index.commands["blockdev-add"].arg_type, "qcow2")
    file_type = next(m.type for m in qcow2 if m.name == "file")
    assert index.type(file_type).meta == "alternate"
    assert index.object_branch(file_type) == index.commands["blockdev-add"].arg_type
    assert index.type("[int]").meta == "array" and index.type("[int]").element == "int"


def test_transaction_actions(index: SchemaIndex) -> None:
    assert "abort" in index.action_names()
    data = index.action_type("block-dirty-bitmap-add")
    assert data is not None and index.member(data, "granularity") is not None
    assert index.action_type("no-such-action") is None


def test_unknown_and_malformed_parts_are_tolerated() -> None:
    index = SchemaIndex.from_entries(
        [
            {"name": "x", "meta-type": "command", "arg-type": "9"},
            {"name": "9", "meta-type": "object", "members": [{"name": "a", "type": "77"}, {"bad": 1}]},
            {"name": "e", "meta-type": "enum", "members": [{"name": "v1"}]},
            {"name": "w", "meta-type": "wormhole"},
            "not an entry",
            {"meta-type": "command"},
        ]
    )
    assert index.type("77").meta == "unknown"
    assert index.type("w").meta == "unknown"
    assert index.type("e").values == ("v1",)
    assert [m.name for m in index.members("9")] == ["a"]
    assert index.action_names() == []


KEY = ServerIdentity("emulator", "7.2.22", "Debian", ("quit",)).schema_key()


def test_cache_round_trip_with_private_modes(tmp_path: Path, entries: list[Any]) -> None:
    cache = SchemaCache(str(tmp_path / "qmpshell"))
    key = KEY
    warnings: list[str] = []
    assert cache.load(key, warn=warnings.append) is None
    cache.store(key, entries, warn=warnings.append)
    assert read_back(cache, key, warnings) == entries
    assert stat.S_IMODE(os.stat(cache.directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache.path(key)).st_mode) == 0o600
    assert os.listdir(cache.directory) == [os.path.basename(cache.path(key))]  # no temporary left
    assert warnings == []


def read_back(cache: SchemaCache, key: str, warnings: list[str]) -> list[Any]:
    """The entries ``cache`` has for ``key``, each parsed (the cache keeps them text)."""
    named = cache.load(key, warn=warnings.append)
    assert named is not None
    assert all(
        meta == decoded(entry)["meta-type"] and name == decoded(entry)["name"] for meta, name, entry in named
    )
    return [decoded(entry) for _, _, entry in named]


def test_the_cache_file_is_one_json_document_of_one_entry_a_line(tmp_path: Path, entries: list[Any]) -> None:
    cache = SchemaCache(str(tmp_path))
    cache.store(KEY, entries, warn=pytest.fail)
    text = Path(cache.path(KEY)).read_text()
    assert json.loads(text)["schema"] == entries
    assert len(text.splitlines()) == len(entries) + 2
    named = cache.load(KEY, warn=pytest.fail)
    assert named is not None and all(isinstance(entry, str) for _, _, entry in named)  # not parsed yet


def test_an_older_layout_is_read_whole_and_written_again(tmp_path: Path, entries: list[Any]) -> None:
    """A cache file from before the line layout (one line) still serves, and is rewritten once."""
    cache = SchemaCache(str(tmp_path))
    Path(cache.path(KEY)).write_text(json.dumps({"format": 1, "key": KEY, "schema": entries}))
    warnings: list[str] = []
    assert read_back(cache, KEY, warnings) == entries
    assert len(Path(cache.path(KEY)).read_text().splitlines()) == len(entries) + 2
    assert read_back(cache, KEY, warnings) == entries
    assert warnings == []


def test_a_damaged_entry_is_caught_by_the_checksum(tmp_path: Path, entries: list[Any]) -> None:
    """An entry is parsed only when asked for, so the checksum sends a changed file to the whole
    parse: one that no longer parses is set aside."""
    cache = SchemaCache(str(tmp_path))
    cache.store(KEY, entries, warn=pytest.fail)
    path = Path(cache.path(KEY))
    damaged = path.read_text().replace(
        '"meta-type":"command","ret-type":', '"meta-type":"command","ret-type:', 1
    )
    path.write_text(damaged)
    warnings: list[str] = []
    assert cache.load(KEY, warn=warnings.append) is None
    assert len(warnings) == 1 and "unreadable" in warnings[0] and "moved to" in warnings[0]
    assert Path(cache.path(KEY) + ".corrupt").read_text() == damaged


def test_an_edited_file_that_still_parses_is_used_as_written(tmp_path: Path, entries: list[Any]) -> None:
    """As before the line layout: a schema file that parses is the cache's (the interactive shell
    then checks it against the server); its checksum is made right again."""
    cache = SchemaCache(str(tmp_path))
    cache.store(KEY, entries, warn=pytest.fail)
    path = Path(cache.path(KEY))
    path.write_text(path.read_text().replace('"query-status"', '"query-gone"'))
    warnings: list[str] = []
    names = [entry["name"] for entry in read_back(cache, KEY, warnings)]
    assert "query-gone" in names and "query-status" not in names
    named = cache.load(KEY, warn=warnings.append)
    assert named is not None and all(isinstance(entry, str) for _, _, entry in named)  # rewritten
    assert warnings == []


def test_cache_key_depends_on_version_package_commands_and_binary() -> None:
    base = ServerIdentity(
        "emulator", "7.2.22", "Debian", ("query-status", "quit"), binary="/q", binary_stamp="1 2"
    )
    assert base.schema_key().startswith("7.2.22-")
    others = [
        base.__class__("emulator", "7.2.22", "v7.2.0-dirty", base.commands, binary="/q", binary_stamp="1 2"),
        base.__class__("emulator", "7.2.22", "Debian", ("quit",), binary="/q", binary_stamp="1 2"),
        base.__class__("emulator", "7.2.22", "Debian", base.commands, binary="/q", binary_stamp="1 3"),
        base.__class__("emulator", "7.2.22", "Debian", base.commands),
    ]
    assert len({base.schema_key(), *(other.schema_key() for other in others)}) == 5
    assert ServerIdentity("qmp").schema_key() == ""


@pytest.mark.parametrize("content", ["{not json", '{"format": 1, "key": "other", "schema": []}', "[1, 2]"])
def test_corrupt_cache_is_reported_once_and_set_aside(tmp_path: Path, content: str) -> None:
    cache = SchemaCache(str(tmp_path))
    key = KEY
    Path(cache.path(key)).write_text(content)
    warnings: list[str] = []
    assert cache.load(key, warn=warnings.append) is None
    assert cache.load(key, warn=warnings.append) is None
    assert len(warnings) == 1 and "moved to" in warnings[0]
    assert Path(cache.path(key) + ".corrupt").read_text() == content


def test_help_for_a_command(index: SchemaIndex) -> None:
    text = helptext.describe(index, "block_resize")
    assert text is not None
    assert "    node-name: str, optional" in text.splitlines()
    assert "    size: int" in text.splitlines()
    assert "  returns: nothing ({})" in text.splitlines()


def test_help_lists_enums_variants_returns_and_features(index: SchemaIndex) -> None:
    blockdev = helptext.describe(index, "blockdev-add") or ""
    assert "    driver: enum (blkdebug | blklogwrites" in blockdev
    assert "when driver is file, host_cdrom, host_device:" in blockdev
    assert "(as above)" in blockdev  # the recursive BlockdevRef is not expanded again
    status = helptext.describe(index, "query-status") or ""
    assert "  returns: object" in status and "running: bool" in status
    assert "features: deprecated" in (helptext.describe(index, "drive-backup") or "")


def test_help_for_an_event_and_unknown_names(index: SchemaIndex) -> None:
    text = helptext.describe(index, "BLOCK_JOB_COMPLETED") or ""
    assert text.startswith("BLOCK_JOB_COMPLETED") and "event" in text.splitlines()[0]
    assert "    error: str, optional" in text.splitlines()
    assert helptext.describe(index, "no-such-thing") is None


def test_signature(index: SchemaIndex) -> None:
    assert helptext.signature(index, "block_resize") == "block_resize [device=str] [node-name=str] size=int"
    assert helptext.signature(index, "nope") == ""
    assert helptext.signature_at(index, "  block_resize size=1") == helptext.signature(index, "block_resize")
    assert helptext.signature_at(index, "/help block_resize") == ""
    assert helptext.signature_at(index, "") == ""


@pytest.mark.parametrize(
    ("command", "desc", "hint"),
    [
        ("block_resize", "Parameter 'sise' is unexpected", "did you mean size?"),
        ("block_resize", "Parameter 'size' is missing", "required: size"),
        ("blockdev-add", "Parameter 'file' is missing", "required: driver, file"),
        ("blockdev-add", "Parameter 'file.filenme' is unexpected", "did you mean filename or file?"),
        ("query-status", "Parameter 'x' is unexpected", "query-status takes no arguments"),
        ("block_resize", "Could not find node", ""),
        ("no-such", "Parameter 'x' is missing", ""),
    ],
)
def test_hints_for_parameter_errors(index: SchemaIndex, command: str, desc: str, hint: str) -> None:
    response = {"error": {"class": "GenericError", "desc": desc}}
    assert helptext.hint_for_error(index, command, response) == hint


def test_warnings_for_deprecated_and_unstable(index: SchemaIndex) -> None:
    assert "deprecated" in warning_for(index, "drive-backup")
    assert "unstable" in warning_for(index, "x-query-jit")
    assert warning_for(index, "query-status") == ""


def test_the_cache_keeps_only_the_newest_files(tmp_path: Path, entries: list[Any]) -> None:
    """A file per build: a day of rebuilds must not fill the directory."""
    from qmpshell.schema.cache import KEPT_FILES

    cache = SchemaCache(str(tmp_path / "qmpshell"))
    keys = [f"7.2.22-build{n}" for n in range(KEPT_FILES + 3)]
    for number, key in enumerate(keys):
        cache.store(key, entries[:1], warn=pytest.fail)
        os.utime(cache.path(key), ns=(number * 10**9, number * 10**9))
    kept = sorted(os.listdir(cache.directory))
    assert kept == sorted(os.path.basename(cache.path(key)) for key in keys[-KEPT_FILES:])
