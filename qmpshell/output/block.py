"""Block devices, the node graph with its backing chains, and jobs.

``query-named-block-nodes`` lists nodes without saying which is whose child, so
the tree is rebuilt from what each node does say: a format node's ``file`` child
is the protocol node with the same file name, and its ``backing`` child is the
format node opened on its ``backing_file``.  A node that matches nothing is a
root; every node is shown exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable

from qmpshell.output.generic import Context, flat_rows
from qmpshell.output.rows import BREAK, Line, cell, flatten, shown, size_text
from qmpshell.output.table import Column, table
from qmpshell.output.tree import Node, render_tree
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PROTOCOL_DRIVERS = frozenset(
    "file host_device host_cdrom nbd iscsi rbd ssh http https ftp ftps gluster nfs nvme "
    "null-co null-aio vvfat".split()
)
NODE_HEAD = ("node-name", "drv", "file")
# Members whose value here is QEMU's default: hidden from a node's details, and one note says so.
DEFAULTS: dict[str, Any] = {
    "write_threshold": 0,
    "cache.no-flush": False,
    "cache.direct": False,
    "cache.writeback": True,
    "detect_zeroes": "off",
    "encrypted": False,
}
THROTTLE_PREFIXES = ("bps", "iops")  # every throttle limit (bps_rd, iops_max...): 0 means none
DEFAULTS_NOTE = (
    "note: members at their default values are not shown (throttles bps*/iops* 0, write_threshold 0, "
    "cache writeback true, direct and no-flush false, detect_zeroes off, encrypted false); "
    "/json shows every member"
)
REPEATS_NOTE = (
    "note: image.backing-image of each node repeats the image of its backing node, shown under that "
    "node; /json shows the reply as sent"
)


def nodes_view(value: Any, ctx: Context) -> list[Line] | None:
    """The node graph: format nodes with their ``file`` and ``backing`` children."""
    if not isinstance(value, list) or not all(_is_node(node) for node in value):
        return None
    if not value:
        return [[("dim", "(no block nodes)")]]
    children, roots = _graph(value)
    by_index = [Node(_node_line(node), _details(node, ctx, skip_backing_image=True)) for node in value]
    for parent, kids in children.items():
        by_index[parent].children = [_labelled(by_index[kid], label) for label, kid in kids]
    lines = render_tree([by_index[i] for i in roots], ctx.width)
    if any(_hides_defaults(node) for node in value):
        lines.append([("dim", DEFAULTS_NOTE)])
    if any(isinstance(node.get("image"), dict) and "backing-image" in node["image"] for node in value):
        lines.append([("dim", REPEATS_NOTE)])
    return lines


def _is_node(node: Any) -> bool:
    return (
        isinstance(node, dict) and isinstance(node.get("node-name"), str) and isinstance(node.get("drv"), str)
    )


def _graph(nodes: list[Message]) -> tuple[dict[int, list[tuple[str, int]]], list[int]]:
    """Children of each node (label, index) and the roots, each node placed once."""
    placed: set[int] = set()
    children: dict[int, list[tuple[str, int]]] = {}
    for parent, node in enumerate(nodes):
        if node["drv"] in PROTOCOL_DRIVERS:
            continue
        for label, wanted in (("file", node.get("file")), ("backing", node.get("backing_file"))):
            kid = _find(nodes, wanted, protocol=label == "file", exclude=placed | {parent})
            if kid is not None:
                placed.add(kid)
                children.setdefault(parent, []).append((label, kid))
    roots = [i for i in range(len(nodes)) if i not in placed]
    return children, roots or [0]


def _find(nodes: list[Message], filename: Any, *, protocol: bool, exclude: set[int]) -> int | None:
    if not isinstance(filename, str) or not filename:
        return None
    for index, node in enumerate(nodes):
        if (
            index not in exclude
            and node.get("file") == filename
            and (node["drv"] in PROTOCOL_DRIVERS) == protocol
        ):
            return index
    return None


def _labelled(node: Node, label: str) -> Node:
    node.line = [("dim", f"{label}: "), *node.line]
    return node


def _node_line(node: Message) -> Line:
    """``name  driver  file  64 MiB  read-only``."""
    line: Line = [("name", node["node-name"]), ("", "  "), ("key", node["drv"])]
    if "file" in node:
        line += [("", "  "), ("string", shown(node["file"]))]
    image = node.get("image")
    if isinstance(image, dict) and "virtual-size" in image:
        line.append(("dim", f"  {size_text(image['virtual-size'])}"))
    if node.get("ro"):
        line.append(("warn", "  read-only"))
    return line


def at_default(path: str, value: Any) -> bool:
    """Whether a node's member ``path`` holds QEMU's default (a zero throttle, the usual cache flags)."""
    if path.startswith(THROTTLE_PREFIXES):
        return value == 0 and not isinstance(value, bool)
    return path in DEFAULTS and value == DEFAULTS[path] and type(value) is type(DEFAULTS[path])


def _hides_defaults(node: Any) -> bool:
    return isinstance(node, dict) and any(at_default(path, leaf) for path, leaf in flatten(node))


def _details(
    node: Message,
    ctx: Context,
    *,
    skip_backing_image: bool,
    skip: Iterable[str] = NODE_HEAD,
    hide_defaults: bool = True,
) -> Line:
    """Every other leaf as ``key value``, in schema order, with short names for the image's.

    Members at their defaults are left out (the view adds one note saying so), and
    each dirty bitmap gets a line of its own instead of ``dirty-bitmaps.0.name`` pairs.
    """
    skipped = set(skip) | {"dirty-bitmaps"}
    shown_part = {k: v for k, v in node.items() if k not in skipped}
    image = shown_part.get("image")
    if skip_backing_image and isinstance(image, dict) and "backing-image" in image:
        shown_part["image"] = {k: v for k, v in image.items() if k != "backing-image"}
    leaves = {k: v for k, v in flatten(shown_part) if not (hide_defaults and at_default(k, v))}
    line: Line = []
    for key in ctx.order(list(leaves)):
        line += [("", "  "), ("dim", f"{_short(key)} "), cell(leaves[key])]
    return line + _bitmaps(node.get("dirty-bitmaps"))


def _bitmaps(bitmaps: Any) -> Line:
    """``bitmap bm0  granularity 65536  count 0  recording true ...``: one line per dirty bitmap."""
    if not isinstance(bitmaps, list):
        return [] if bitmaps is None else [("", "  "), ("dim", "dirty-bitmaps "), cell(bitmaps)]
    line: Line = []
    for bitmap in bitmaps:
        pairs = dict(flatten(bitmap)) if isinstance(bitmap, dict) else {"": bitmap}
        line += [BREAK, ("dim", "bitmap "), ("name", shown(pairs.pop("name", "(no name)")))]
        for key, item in pairs.items():
            line += [("dim", f"  {key} "), cell(item)]
    return line


def _short(path: str) -> str:
    """``image.format-specific.data.compat`` -> ``compat``; ``image.actual-size`` -> ``actual-size``."""
    for prefix in ("inserted.", "image.", "format-specific.data."):
        path = path.removeprefix(prefix)
    return path


def block_view(value: Any, ctx: Context) -> list[Line] | None:
    """Each device, its inserted node, and the node's backing chain indented under it."""
    if not isinstance(value, list) or not all(isinstance(d, dict) for d in value):
        return None
    if not value:
        return [[("dim", "(no block devices)")]]
    node_ctx = Context(ctx.command, ctx.width, ctx.index, _inserted_type(ctx))
    roots = [_device(device, ctx, node_ctx) for device in value]
    lines = render_tree(roots, ctx.width)
    if any(_hides_defaults(device.get("inserted")) for device in value):
        lines.append([("dim", DEFAULTS_NOTE)])
    return lines


def _inserted_type(ctx: Context) -> str:
    """The schema type of ``inserted`` (BlockDeviceInfo), for its member order."""
    if ctx.index is None or not ctx.type_name:
        return ""
    element = ctx.index.type(ctx.type_name).element
    member = ctx.index.member(element, "inserted") if element else None
    return member.type if member is not None else ""


def _device(device: Message, ctx: Context, node_ctx: Context) -> Node:
    name = device.get("device") or device.get("qdev") or "?"
    line: Line = [("name", shown(name))]
    skip = ("inserted",) + (("qdev",) if name == device.get("qdev") and not device.get("device") else ())
    details = _details(device, ctx, skip_backing_image=False, skip=skip, hide_defaults=False)
    if skip[-1] == "qdev":
        line += [("dim", "  qdev")]
    node = Node(line, details)
    inserted = device.get("inserted")
    if isinstance(inserted, dict) and _is_node(inserted):
        node.children = [_inserted(inserted, node_ctx)]
    elif "inserted" in device:
        node.children = [
            Node(
                [("dim", "inserted: ")],
                _details({"inserted": inserted}, ctx, skip_backing_image=False, hide_defaults=False),
            )
        ]
    else:
        node.children = [Node([("dim", "(no medium)")])]
    return node


def _inserted(inserted: Message, ctx: Context) -> Node:
    """The inserted node, with its chain of backing images as children, one under the other."""
    node = Node(_node_line(inserted), _details(inserted, ctx, skip_backing_image=True))
    parent, image = node, inserted.get("image")
    while isinstance(image, dict) and isinstance(image.get("backing-image"), dict):
        image = image["backing-image"]
        child = Node(_image_line(image), _image_details(image))
        parent.children = [child]
        parent = child
    return node


def _image_line(image: Message) -> Line:
    line: Line = [("dim", "backing: "), ("string", shown(image.get("filename", "?")))]
    if "format" in image:
        line += [("", "  "), ("key", shown(image["format"]))]
    if "virtual-size" in image:
        line.append(("dim", f"  {size_text(image['virtual-size'])}"))
    return line


def _image_details(image: Message) -> Line:
    leaves = dict(flatten({k: v for k, v in image.items() if k not in ("backing-image", "filename")}))
    line: Line = []
    for key, item in leaves.items():
        line += [("", "  "), ("dim", f"{_short(key)} "), cell(item)]
    return line


JOB_HEAD = ("id", "type", "status", "progress")


def jobs_view(value: Any, ctx: Context) -> list[Line] | None:
    """``query-jobs``: id, type, status, progress as ``current/total`` and %, then the rest."""
    return _jobs(value, ctx, ident="id", done="current-progress", total="total-progress")


def block_jobs_view(value: Any, ctx: Context) -> list[Line] | None:
    """``query-block-jobs``: the same under QEMU's member names (``device`` is the job id), ``offset/len``."""
    return _jobs(value, ctx, ident="device", done="offset", total="len")


def _jobs(value: Any, ctx: Context, *, ident: str, done: str, total: str) -> list[Line] | None:
    rows = flat_rows(value)
    if rows is None or not all(ident in row for row in rows):
        return None
    for row in rows:
        if done in row or total in row:
            row["progress"] = _progress(row.pop(done, None), row.pop(total, None))
    keys = list(dict.fromkeys(key for row in rows for key in row))
    rest = [key for key in ctx.order(keys) if key not in (ident, "type", "status", "progress")]
    columns = [Column(ident, ident), Column("type", "type"), Column("status", "status")]
    columns += [Column("progress", f"progress ({done}/{total})"), *(Column(k, k) for k in rest)]
    return table(rows, [c for c in columns if any(c.key in row for row in rows)], ctx.width)


def _progress(done: Any, total: Any) -> str:
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        return f"{done}/{total} {100 * done / total:.0f}%"
    return f"{shown(done)}/{shown(total)}"
