"""Views for the storage daemon's block layer and the guest agent's replies.

The guest agent hands program output and file contents over as base64
(``out-data``/``err-data`` of ``guest-exec-status``, ``buf-b64`` of
``guest-file-read``); these views show them decoded: as text when the bytes
are UTF-8, else as a hexdump.  ``/json`` still shows the reply as sent.
"""

from __future__ import annotations

import base64
import binascii

from qmpshell.output.generic import Context
from qmpshell.output.rows import Line, key_values, shown
from qmpshell.output.table import Column, table
from qmpshell.output.tree import Node, render_tree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

HEXDUMP_BYTES = 16  # per line


def exports_view(value: Any, ctx: Context) -> list[Line] | None:
    """``query-block-exports``: id, type, node, and whether it is shutting down."""
    if not isinstance(value, list) or not all(isinstance(e, dict) and "id" in e for e in value):
        return None
    if not value:
        return [[("dim", "no block exports")]]
    columns = [Column("id", "id"), Column("type", "type"), Column("node-name", "node")]
    return table(value, [*columns, Column("shutting-down", "shutting down")], ctx.width)


def block_graph_view(value: Any, ctx: Context) -> list[Line] | None:
    """``x-debug-query-block-graph``: each root (a node no edge points to) and its children by edge."""
    nodes = {n["id"]: n for n in value["nodes"]}
    edges: dict[int, list[dict[str, Any]]] = {}
    for edge in value["edges"]:
        edges.setdefault(edge["parent"], []).append(edge)
    children = {edge["child"] for edge in value["edges"]}
    roots = [_graph_node(nodes, edges, ident, "", set()) for ident in nodes if ident not in children]
    return render_tree(roots, ctx.width) if roots else [[("dim", "an empty block graph")]]


def _graph_node(
    nodes: dict[int, Any], edges: dict[int, list[Any]], ident: int, via: str, seen: set[int]
) -> Node:
    node = nodes[ident]
    name = str(node.get("name") or "(unnamed)")
    line: Line = [("dim", f"{via}: ")] if via else []
    line += [("name", name), ("dim", f"  {node.get('type', '')}")]
    if ident in seen:  # a graph may share a node: shown once in full
        return Node([*line, ("dim", "  (shown above)")])
    seen.add(ident)
    kids = [_graph_node(nodes, edges, e["child"], str(e.get("name", "")), seen) for e in edges.get(ident, [])]
    return Node(line, children=kids)


# -- the guest agent ------------------------------------------------------------------------------


def guest_info_view(value: Any, ctx: Context) -> list[Line] | None:
    """``guest-info``: the version, then a table of commands: name, enabled, success-response."""
    commands = value["supported_commands"]
    if not all(isinstance(c, dict) and "name" in c for c in commands):
        return None
    rows = sorted(commands, key=lambda c: str(c["name"]))
    lines: list[Line] = [[("key", "version: "), ("name", shown(value.get("version", "?")))]]
    columns = [
        Column("name", "name"),
        Column("enabled", "enabled"),
        Column("success-response", "success-response"),
    ]
    return lines + table(rows, columns, ctx.width)


def guest_exec_status_view(value: Any, ctx: Context) -> list[Line] | None:
    """``guest-exec-status``: exited and the exit code (or signal), then stdout and stderr decoded."""
    if not isinstance(value, dict) or "exited" not in value:
        return None
    rest = {k: v for k, v in value.items() if k not in ("out-data", "err-data")}
    lines = key_values(rest.items())
    for key, title in (("out-data", "stdout"), ("err-data", "stderr")):
        if key in value:
            lines += _decoded(title, value[key], truncated=bool(value.get(f"{key[:3]}-truncated")))
    return lines


def guest_file_read_view(value: Any, ctx: Context) -> list[Line] | None:
    """``guest-file-read``: count and eof, then the bytes read, decoded."""
    if not isinstance(value, dict) or "buf-b64" not in value:
        return None
    lines = key_values((k, v) for k, v in value.items() if k != "buf-b64")
    return lines + _decoded("data", value["buf-b64"], truncated=False)


def _decoded(title: str, data: Any, *, truncated: bool) -> list[Line]:
    raw = decode_base64(data)
    if raw is None:
        return [[("key", f"{title}: "), ("error", "not base64: "), ("string", shown(data))]]
    note = " (truncated by the agent)" if truncated else ""
    text = bytes_text(raw)
    if text is not None:
        head: Line = [("key", f"{title}"), ("dim", f" ({len(raw)} bytes, text{note}):")]
        return [head, *([("text", line)] for line in text.splitlines())]
    head = [("key", f"{title}"), ("dim", f" ({len(raw)} bytes, not UTF-8{note}):")]
    return [head, *([("text", line)] for line in hexdump(raw))]


def decode_base64(data: Any) -> bytes | None:
    """The bytes of a base64 string; None when it is not one."""
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def bytes_text(raw: bytes) -> str | None:
    """The bytes as text when they are UTF-8 (and hold no NUL), else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\0" in text else text


def hexdump(raw: bytes) -> list[str]:
    """``00000000  68 65 6c 6c 6f ...  |hello|``, sixteen bytes a line."""
    lines = []
    for offset in range(0, len(raw), HEXDUMP_BYTES):
        chunk = raw[offset : offset + HEXDUMP_BYTES]
        hexes = " ".join(f"{byte:02x}" for byte in chunk).ljust(HEXDUMP_BYTES * 3 - 1)
        printable = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{offset:08x}  {hexes}  |{printable}|")
    return lines
