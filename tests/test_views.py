"""The views people read, on real replies captured from QEMU 7.2 (tests/data/qemu-7.2-replies.json).

The capture comes from ``tests/data/capture_replies.py`` (a q35 with a few devices and
a qcow2 backing chain).  The central check is *nothing hidden*: every leaf value
of a reply appears in its rendered text, as often as it occurs in the reply,
except the few each view is allowed to show through another value (listed in
``IMPLIED`` with the reason).
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from qmpshell.output import block, views
from qmpshell.output.events import event_line, render_event
from qmpshell.output.rows import Rendering
from qmpshell.output.text import coloured, plain
from qmpshell.output.views import render_reply
from qmpshell.schema.index import SchemaIndex

DATA = Path(__file__).parent / "data"
CAPTURE = json.loads((DATA / "qemu-7.2-replies.json").read_text())
REPLIES = {entry["name"]: entry for entry in CAPTURE["replies"]}
# The same machine on QEMU 10.0 (from Debian backports), rendered without a schema.
REPLIES_10 = {e["name"]: e for e in json.loads((DATA / "qemu-10.0-replies.json").read_text())["replies"]}
INDEX = SchemaIndex.from_entries(json.loads((DATA / "qemu-7.2-schema.json").read_text()))

# Leaves a view may show through another value: view -> {glob over the leaf path: why}.
IMPLIED: dict[str, dict[str, str]] = {
    "status": {
        "running": "said by the status word (running / paused)",
        "singlestep": "said only when true (', single-stepping')",
    },
    "pci": {
        "*.regions.*.prefetch": "shown as the word prefetchable / non-prefetchable",
        "*.regions.*.mem_type_64": "shown as 64-bit / 32-bit",
    },
    "block-nodes": {
        "*.image.backing-image.*": "repeats the backing node's own image, shown under it (the note says so)",
    },
    "migrate": {"ram.mbps": "shown rounded to 0.1, in Mbit/s"},
}
DEFAULTS_HIDDEN = ("block", "block-nodes")  # views that leave out members at defaults, behind a note


def hidden_default(view: str, path: str, leaf: Any, text: str) -> bool:
    """A node's member at its default, left out by a block view that says so in its note."""
    if view not in DEFAULTS_HIDDEN or block.DEFAULTS_NOTE not in text:
        return False
    member = re.sub(r"^\d+\.(inserted\.)?", "", path)
    return block.at_default(member, leaf)


def leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every scalar of a JSON value with its dotted path (list items by index)."""
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in leaves(item, f"{path}{key}.")]
    if isinstance(value, list):
        return [leaf for i, item in enumerate(value) for leaf in leaves(item, f"{path}{i}.")]
    return [(path[:-1], value)]


def spellings(value: Any) -> set[str]:
    """How a view may write a leaf: JSON's words, decimal, or the hex forms of ids and addresses."""
    if isinstance(value, bool) or value is None:
        return {json.dumps(value)}
    if isinstance(value, str):
        return {value.replace("\r\n", "\n").rstrip("\n") or '""'}  # text views drop the last line end
    if isinstance(value, float):
        return {json.dumps(value)}
    forms = {str(value)}
    if value >= 0:
        forms |= {f"0x{value:x}", f"{value:04x}", f"0x{value:04x}", f"{value:02x}", f"{value:x}"}
    return forms


def occurrences(text: str, form: str) -> int:
    edge = r"[\w-]" if re.match(r"[A-Za-z]", form) else r"\w"
    return len(re.findall(rf"(?<!{edge}){re.escape(form)}(?!{edge})", text))


def assert_nothing_hidden(value: Any, rendering: Rendering) -> None:
    """Each leaf value appears in the text at least as many times as the reply holds it."""
    implied = IMPLIED.get(rendering.view, {})
    text = rendering.text()
    wanted = Counter(
        (type(leaf).__name__, json.dumps(leaf))
        for path, leaf in leaves(value)
        if not any(fnmatch.fnmatchcase(path, pattern) for pattern in implied)
        and not hidden_default(rendering.view, path, leaf, text)
    )
    for (kind, spelled), count in wanted.items():
        leaf = json.loads(spelled)
        found = sum(occurrences(text, form) for form in spellings(leaf))
        assert found >= count, f"{rendering.view}: {kind} {spelled} shown {found} times, held {count} times"


def render(name: str, width: int = 100) -> Rendering:
    entry = REPLIES[name]
    return render_reply(entry["response"], command=entry["execute"], width=width, index=INDEX)


@pytest.mark.parametrize("name", sorted(REPLIES))
@pytest.mark.parametrize("width", [60, 100])
def test_every_leaf_of_every_captured_reply_is_shown(name: str, width: int) -> None:
    response = REPLIES[name]["response"]
    rendering = render(name, width)
    assert_nothing_hidden(response.get("return", response.get("error")), rendering)


@pytest.mark.parametrize("name", sorted(REPLIES_10))
def test_every_leaf_of_qemu_10_replies_is_shown_without_a_schema(name: str) -> None:
    entry = REPLIES_10[name]
    response = entry["response"]
    rendering = render_reply(response, command=entry["execute"], width=100)
    assert rendering.view == EXPECTED_VIEWS.get(name, rendering.view)
    assert_nothing_hidden(response.get("return", response.get("error")), rendering)


EXPECTED_VIEWS = {
    "query-status": "status",
    "query-version": "version",
    "query-name": "name",
    "query-kvm": "object",
    "query-block": "block",
    "query-named-block-nodes": "block-nodes",
    "query-cpus-fast": "cpus",
    "query-pci": "pci",
    "qom-list": "qom-list",
    "query-commands": "names",
    "query-events": "error",  # QEMU 7.2 has no query-events any more; its events are in the schema
    "query-machines": "table",
    "query-hotpluggable-cpus": "table",
    "query-iothreads": "empty",
    "query-migrate": "migrate",
    "query-migrate-none": "migrate",
    "query-jobs": "jobs",
    "query-block-jobs": "jobs",
    "x-query-irq": "text",
    "device_del-error": "error",
    "qom-get": "scalar",
    "query-tpm-types": "scalars",
    "query-blockstats": "json",  # nested deeper than a table: indented JSON, as before
    "human-monitor-command": "scalar",
}


@pytest.mark.parametrize(("name", "view"), sorted(EXPECTED_VIEWS.items()))
def test_each_reply_gets_its_view(name: str, view: str) -> None:
    assert render(name).view == view


def test_implied_leaves_are_only_those_of_views_that_exist() -> None:
    views = {render(name).view for name in REPLIES}
    assert set(IMPLIED) <= views


def test_every_generic_view_has_a_captured_reply() -> None:
    """Each view, the generic ones and the JSON fallback included, is tested on a real reply."""
    shown = {render(name).view for name in REPLIES}
    assert {"ok", "error", "text", "scalar", "empty", "scalars", "table", "object", "json"} <= shown


def test_the_json_fallback_is_the_reply_itself() -> None:
    value = REPLIES["query-blockstats"]["response"]["return"]
    assert json.loads(render("query-blockstats").text()) == value


def test_status_is_one_line() -> None:
    assert render("query-status-running").text() == "running"
    assert render("query-status").text() == "paused (prelaunch)"
    assert render("query-status-paused").text() == "paused"
    single = render_reply(
        {"return": {"status": "running", "singlestep": True, "running": True}}, command="query-status"
    )
    assert "single-stepping" in single.text()


def test_version_is_one_line() -> None:
    assert render("query-version").text() == "QEMU 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)"


def test_ok_and_error_are_one_line_each() -> None:
    assert render_reply({"return": {}}, command="stop").lines == [[("dim", "ok")]]
    error = render_reply(REPLIES["device_del-error"]["response"], command="device_del", hint="try query-pci")
    assert error.text() == "error: DeviceNotFound: Device 'nosuch' not found\ntry query-pci"
    assert error.lines[0][0][0] == "error" and error.lines[1][0][0] == "hint"


def test_human_readable_text_is_the_text_itself() -> None:
    text = render("x-query-ramblock").text()
    assert text == REPLIES["x-query-ramblock"]["response"]["return"]["human-readable-text"].rstrip("\n")
    assert "\\n" not in text


def test_text_with_hmp_line_ends_shows_no_carriage_returns() -> None:
    """``human-monitor-command`` answers in ``\\r\\n`` lines; a kept ``\\r`` would show as ``^M``."""
    for value in ("VM status: running\r\n", {"human-readable-text": "a: 1\r\nb: 2\r\n"}):
        text = render_reply({"return": value}, command="human-monitor-command").text()
        assert "^M" not in text and "\r" not in text
    assert render_reply({"return": "VM status: running\r\n"}).text() == "VM status: running"
    assert render_reply({"return": {"human-readable-text": "a\r\nb\r\n"}}).text() == "a\nb"


def test_empty_human_readable_text_is_not_a_blank_line() -> None:
    rendering = render_reply({"return": {"human-readable-text": ""}}, command="x-query-rdma")
    assert (rendering.view, rendering.text()) == ("text", '""')


def test_table_columns_follow_the_schema_not_the_reply() -> None:
    reply_order = list(REPLIES["query-memdev"]["response"]["return"][0])
    header = render("query-memdev", 200).lines[0][0][1].split()
    assert header == ["id", "size", "merge", "dump", "prealloc", "share", "reserve", "host-nodes", "policy"]
    assert header != reply_order


def test_table_leaves_absent_optional_members_blank() -> None:
    lines = render("qom-list-types-abstract", 200).text().splitlines()
    header = lines[0]
    abstract_at = header.index("abstract")
    concrete = next(line for line in lines if line.startswith("pcie-pci-bridge "))
    assert concrete[abstract_at : abstract_at + len("abstract")].strip() == ""
    assert "true" in next(line for line in lines if line.startswith("pci-device "))


def test_a_table_wider_than_the_screen_moves_the_last_columns_to_a_second_line() -> None:
    text = render("query-machines", 60).text()
    lines = text.splitlines()
    header = lines[0].split()
    assert header[0] == "name" and len(header) < 9
    assert all(len(line) <= 60 for line in lines if not line.startswith("    "))
    spilled = [line for line in lines if line.startswith("    ")]
    assert spilled and "default-cpu-type qemu64-x86_64-cpu" in "\n".join(spilled[:3])
    assert not any(column in spilled[0] for column in header)
    assert "…" not in text  # never cut: nothing hidden


def test_without_a_schema_the_naming_column_comes_first_and_the_rest_as_sent() -> None:
    reply = REPLIES["query-memdev"]["response"]
    header = render_reply(reply, command="query-memdev", width=200).lines[0][0][1].split()
    assert header == ["id"] + [key for key in reply["return"][0] if key != "id"]


@pytest.mark.parametrize(
    ("device_change", "what"),
    [
        ({"regions": 1.5}, "regions not a list"),
        ({"regions": [7]}, "a region not an object"),
        ({"id": "8086:29c0"}, "ids not an object"),
        ({"pci_bridge": {"bus": {}, "devices": [1]}}, "a device behind a bridge not an object"),
    ],
)
def test_a_pci_reply_of_another_shape_is_shown_whole_as_json(
    device_change: dict[str, Any], what: str
) -> None:
    reply = json.loads(json.dumps(REPLIES["query-pci"]["response"]))
    reply["return"][0]["devices"][1].update(device_change)
    rendering = render_reply(reply, command="query-pci", index=INDEX)
    assert rendering.view == "json", what
    assert json.loads(rendering.text()) == reply["return"]


def test_a_view_that_trips_over_a_reply_gives_way_to_json(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(value: Any, ctx: object) -> None:
        raise TypeError("not iterable")

    monkeypatch.setitem(views.SPECIFIC, "query-status", ("status", broken))
    reply = {"return": {"status": [{"state": "running"}], "running": True}}  # no generic view fits
    rendering = render_reply(reply, command="query-status")
    assert rendering.view == "json"
    assert json.loads(rendering.text()) == reply["return"]


def test_nested_replies_fall_back_to_json_that_loses_nothing() -> None:
    value = {"a": [{"b": {"c": [1, {"d": None}]}}]}
    rendering = render_reply({"return": value}, command="x")
    assert rendering.view == "json"
    assert json.loads(rendering.text()) == value


def test_scalar_lists_go_in_columns() -> None:
    rendering = render_reply({"return": [f"item{i}" for i in range(30)]}, width=40)
    assert rendering.view == "scalars"
    assert len(rendering.lines) < 30
    assert_nothing_hidden([f"item{i}" for i in range(30)], rendering)


def test_pci_is_a_tree_with_hex_ids_and_class_names() -> None:
    text = render("query-pci").text()
    assert "├─ 00:00.0  8086:29c0  Host bridge" in text
    assert "00:03.0  8086:100e  Ethernet controller  nic0" in text
    bridge = text.index("00:04.0  1b36:000c  PCI bridge  rp1")
    behind = text.index("│  └─ 01:00.0  1af4:1044  Unclassified device  rng0")
    assert bridge < behind
    assert "bar 0 io 0xc000  128 B" in text
    assert "bar 4 memory 0xfea00000  16384 (16 KiB)  64-bit prefetchable" in text
    assert "32902" not in text  # the vendor is written 8086, not in decimal


def test_named_block_nodes_show_the_backing_chain_indented() -> None:
    lines = render("query-named-block-nodes").text().splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("disk0  qcow2  ") and "top.qcow2" in line)
    mid = next(i for i, line in enumerate(lines) if "backing: " in line and "mid.qcow2" in line)
    base = next(i for i, line in enumerate(lines) if "backing: " in line and "base.qcow2" in line)
    assert top < mid < base
    assert lines[mid].index("backing:") < lines[base].index("backing:")
    assert "read-only" in lines[mid]
    assert any("file: disk0-file  file" in line for line in lines[top:mid])
    assert "repeats the image of its backing node" in lines[-1]


def test_block_shows_each_device_and_the_chain_of_its_medium() -> None:
    text = render("query-block").text()
    assert text.startswith("/machine/peripheral/vblk0/virtio-backend")
    assert "└─ disk0  qcow2" in text
    assert "backing: " in text and "base.qcow2  qcow2  64 MiB" in text
    assert "cd0  qdev" in text and "(no medium)" in text


def test_jobs_show_progress_as_offset_of_length_and_percent() -> None:
    jobs = render("query-jobs").text()
    assert "mirror1  mirror  running  16777216/67108864 25%" in jobs
    block_jobs = render("query-block-jobs").text().splitlines()
    assert block_jobs[0].startswith("device   type    status   progress (offset/len)")
    assert block_jobs[1].startswith("mirror1  mirror  running  16777216/67108864 25%")


def test_a_table_that_fits_keeps_every_column_on_its_line_however_wide_one_is() -> None:
    lines = render("query-jobs", 72).text().splitlines()
    assert lines[0].split() == ["id", "type", "status", "progress", "(current-progress/total-progress)"]
    assert lines[1] == "mirror1  mirror  running  16777216/67108864 25%"
    assert not any(line.startswith("    ") for line in lines)


def test_qom_list_is_name_and_type_sorted() -> None:
    lines = render("qom-list").text().splitlines()
    assert lines[0].split() == ["name", "type"]
    names = [line.split()[0] for line in lines[1:]]
    assert names == sorted(names)


def test_commands_are_names_in_columns() -> None:
    rendering = render("query-commands", 100)
    count = len(REPLIES["query-commands"]["response"]["return"])
    assert rendering.text().startswith(f"{count} names")
    assert len(rendering.lines) <= count // 2 + 2  # at least two columns at 100


def test_migrate_says_status_and_progress() -> None:
    text = render("query-migrate").text()
    assert text.startswith("completed  100.0% done, 1.3 MiB transferred of 256.8 MiB RAM\n")
    for figure in (
        "ram.transferred: 1353403 bytes (1.3 MiB)",
        "ram.remaining: 0 bytes",
        "ram.total: 269230080 bytes (256.8 MiB)",
        "ram.mbps: 23.5 Mbit/s",
        "total-time: 618 ms",
        "downtime: 3 ms",
        "ram.duplicate: 65544 zero pages",
    ):
        assert figure in re.sub(r":  +", ": ", text)
    assert "zero pages (ram.duplicate) count as migrated without their contents being sent" in text
    assert render("query-migrate-active").text().startswith("active  ")
    assert render("query-migrate-none").text() == "no migration has been started"
    setup = render_reply({"return": {"status": "setup"}}, command="query-migrate", index=INDEX)
    assert (setup.view, setup.text()) == ("migrate", "setup")  # just started: the status alone


def test_block_trees_leave_defaults_out_behind_one_note() -> None:
    for name in ("query-named-block-nodes", "query-block"):
        text = render(name).text()
        assert text.count(block.DEFAULTS_NOTE) == 1
        shown = text.replace(block.DEFAULTS_NOTE, "")
        assert not re.search(r"\b(bps|iops_rd|write_threshold|no-flush|writeback)\b", shown)
    throttled = json.loads(json.dumps(REPLIES["query-named-block-nodes"]["response"]))
    throttled["return"][0]["bps_rd"] = 1048576
    text = render_reply(throttled, command="query-named-block-nodes", index=INDEX).text()
    assert "bps_rd 1048576" in text  # a throttle that is set is shown


def test_dirty_bitmaps_are_one_line_each() -> None:
    entry = REPLIES_10["query-named-block-nodes-jobs"]
    text = render_reply(entry["response"], command=entry["execute"], width=120).text()
    bitmaps = [line for line in text.splitlines() if "bitmap " in line]
    held = sum(len(node.get("dirty-bitmaps", [])) for node in entry["response"]["return"])
    assert held >= 2 and len(bitmaps) == held
    assert "dirty-bitmaps.0" not in text
    assert all(re.search(r"bitmap \S.*  granularity \d+.*  count \d+", line) for line in bitmaps)


def test_query_name_without_a_name_says_so() -> None:
    assert render("query-name").text() == "this machine has no name (it was started without -name)"
    named = render_reply({"return": {"name": "vm1"}}, command="query-name")
    assert (named.view, named.text()) == ("name", "vm1")


def test_table_headings_are_qemus_member_names() -> None:
    assert render("query-block-jobs").text().split()[0] == "device"
    assert render("query-jobs").text().split()[0] == "id"


def test_deep_backing_chain_fits_the_screen_and_hides_nothing() -> None:
    with gzip.open(DATA / "qemu-7.2-large.json.gz", "rt", encoding="utf-8") as file:
        large = json.load(file)
    reply = large["query-named-block-nodes-50"]["response"]
    rendering = render_reply(reply, command="query-named-block-nodes", width=100, index=INDEX)
    assert rendering.view == "block-nodes"
    assert_nothing_hidden(reply["return"], rendering)
    guides = [len(line) - len(line.lstrip("│├└─▸ ")) for line in rendering.text().splitlines()]
    assert max(guides) <= 30


def test_event_line_puts_identifying_fields_first() -> None:
    event = {
        "event": "BLOCK_JOB_CANCELLED",
        "data": {"type": "backup", "len": 5, "device": "j0"},
        "timestamp": {},
    }
    text = "".join(text for _, text in event_line(event))
    assert text.split(" ", 1)[1] == "BLOCK_JOB_CANCELLED device=j0 type=backup len=5"


def test_an_event_with_empty_data_is_its_time_and_name() -> None:
    text = "".join(text for _, text in event_line({"event": "RESUME", "data": {}, "timestamp": {}}))
    assert text.split(" ", 1)[1] == "RESUME"


def test_every_captured_event_keeps_its_data_in_the_compact_line() -> None:
    for event in CAPTURE["events"]:
        line = Rendering([event_line(event)], "event")
        assert_nothing_hidden(event.get("data", {}), line)


def test_event_show_uses_a_view() -> None:
    event = next(e for e in CAPTURE["events"] if e["event"] == "DEVICE_DELETED")
    text = render_event(event, index=INDEX).text().splitlines()
    assert text[0].endswith("DEVICE_DELETED")
    assert text[1:] == ["  device: tablet0", "  path:   /machine/peripheral/tablet0"]


def test_plain_text_has_no_escapes_and_colour_has_them() -> None:
    rendering = render("query-pci")
    assert "\x1b" not in plain(rendering)
    assert "\x1b[" in coloured(rendering)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured(rendering)) == plain(rendering)


def test_control_characters_from_the_server_are_shown_not_obeyed() -> None:
    nodes = json.loads(json.dumps(REPLIES["query-named-block-nodes"]["response"]))
    nodes["return"][0]["file"] = "/tmp/evil\x1b]0;pwned\x07\x9b2J.qcow2"
    text = render_reply(nodes, command="query-named-block-nodes").text()
    assert "/tmp/evil^[]0;pwned^G\\x9b2J.qcow2" in text
    assert not any(char in text for char in "\x1b\x07\x9b")
    event = {"event": "X\x1b", "data": {"id": "a\x1bb", "more": {"deep": ["\x9b"]}}}
    line = "".join(text for _, text in event_line(event))
    assert "\x1b" not in line and "\x9b" not in line and "a^[b" in line
