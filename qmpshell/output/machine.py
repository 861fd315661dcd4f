"""Views of the machine as a whole: run state, version, CPUs, QOM properties, names."""

from __future__ import annotations

from qmpshell.output.generic import Context, flat_rows
from qmpshell.output.rows import Line, cell
from qmpshell.output.table import Column, columns_of, table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def status_view(value: Any, ctx: Context) -> list[Line] | None:
    """``running``, or ``paused (REASON)``; ``running`` and a false ``singlestep`` go without saying."""
    if not isinstance(value, dict) or not isinstance(value.get("status"), str):
        return None
    status = value["status"]
    if value.get("running") or status == "running":
        line: Line = [("ok", status)]
    else:
        line = [("warn", "paused")] + (
            [] if status == "paused" else [("dim", " ("), ("", status), ("dim", ")")]
        )
    if value.get("singlestep"):
        line.append(("warn", ", single-stepping (singlestep: true)"))
    extra = [(k, v) for k, v in value.items() if k not in ("status", "running", "singlestep")]
    for key, item in extra:
        line += [("dim", f"  {key} "), cell(item)]
    return [line]


def version_view(value: Any, ctx: Context) -> list[Line] | None:
    """``QEMU 7.2.22 (package)`` on one line."""
    qemu = value.get("qemu") if isinstance(value, dict) else None
    if not isinstance(qemu, dict) or set(value) - {"qemu", "package"}:
        return None
    numbers = [qemu.get(part) for part in ("major", "minor", "micro")]
    if not all(isinstance(n, int) for n in numbers) or set(qemu) - {"major", "minor", "micro"}:
        return None
    package = str(value.get("package", "")).strip()
    line: Line = [("", "QEMU "), ("name", ".".join(map(str, numbers)))]
    if package:
        line += [("dim", " ("), ("string", package), ("dim", ")")]
    return [line]


CPU_COLUMNS = (
    ("cpu-index", "cpu"),
    ("props.node-id", "node"),
    ("props.socket-id", "socket"),
    ("props.die-id", "die"),
    ("props.cluster-id", "cluster"),
    ("props.core-id", "core"),
    ("props.thread-id", "thread"),
    ("thread-id", "host thread"),
    ("qom-path", "qom-path"),
    ("target", "target"),
)


def cpus_view(value: Any, ctx: Context) -> list[Line] | None:
    """One row per vCPU: index, topology, host thread, QOM path."""
    rows = flat_rows(value)
    if rows is None:
        return None
    keys = list(dict.fromkeys(key for row in rows for key in row))
    titles = dict(CPU_COLUMNS)
    known = [key for key, _ in CPU_COLUMNS if key in keys]
    columns = [Column(key, titles[key]) for key in known]
    columns += [Column(key, key) for key in ctx.order([k for k in keys if k not in titles])]
    return table(rows, columns, ctx.width)


def qom_list_view(value: Any, ctx: Context) -> list[Line] | None:
    """Properties by name, with their type beside."""
    rows = flat_rows(value)
    if rows is None or not all(isinstance(row.get("name"), str) for row in rows):
        return None
    rows.sort(key=lambda row: row["name"])
    keys = list(dict.fromkeys(key for row in rows for key in row))
    rest = [key for key in ctx.order(keys) if key not in ("name", "type")]
    columns = [Column("name", "name"), Column("type", "type"), *(Column(k, k) for k in rest)]
    return table(rows, [c for c in columns if c.key in keys], ctx.width)


def names_view(value: Any, ctx: Context) -> list[Line] | None:
    """``query-commands`` / ``query-events``: the names, sorted, in columns."""
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(item, dict) and list(item) == ["name"] for item in value):
        return None
    lines: list[Line] = [[("dim", f"{len(value)} names")]]
    return lines + columns_of(sorted(str(item["name"]) for item in value), ctx.width)


def name_view(value: Any, ctx: Context) -> list[Line] | None:
    """``query-name``: the name, or that the machine has none (QEMU then returns ``{}``)."""
    if value == {}:
        return [[("dim", "this machine has no name (it was started without -name)")]]
    if isinstance(value, dict) and list(value) == ["name"] and isinstance(value["name"], str):
        return [[("name", value["name"])]]
    return None
