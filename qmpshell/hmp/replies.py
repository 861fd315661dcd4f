"""QMP replies as the text HMP users read.

Where HMP's own output is short and well known (``info status``, ``info
version``, ``info cpus``, ``info chardev``...) the same facts are printed in
the same shape; structured replies without such a shape go through the shell's
views (``qmpshell.output``); ``HumanReadableText`` replies are their text.
"""

from __future__ import annotations

import json

from qmpshell.hmp.plan import Show

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def view(command: str, width: int = 100) -> Show:
    """The shell's view of the reply of ``command`` (tables, trees), as plain text."""

    def show(returns: list[Any]) -> str:
        from qmpshell.output.generic import Context
        from qmpshell.output.text import plain
        from qmpshell.output.views import render_value

        return plain(render_value(returns[-1], Context(command, width)))

    return show


def human_text(returns: list[Any]) -> str:
    """``HumanReadableText`` (the ``x-query-*`` commands): the text itself."""
    value = returns[-1]
    return str(value.get("human-readable-text", "")) if isinstance(value, dict) else str(value)


def lines(*rows: str) -> str:
    return "\n".join(rows)


def status(returns: list[Any]) -> str:
    value = returns[-1]
    text = "VM status: " + ("running" if value.get("running") else "paused")
    if value.get("singlestep"):
        text += " (single step mode)"
    if not value.get("running") and value.get("status") != "paused":
        text += f" ({value.get('status')})"
    return text


def version(returns: list[Any]) -> str:
    qemu = returns[-1].get("qemu", {})
    return f"{qemu.get('major')}.{qemu.get('minor')}.{qemu.get('micro')}{returns[-1].get('package', '')}"


def name(returns: list[Any]) -> str:
    return str(returns[-1].get("name", ""))


def uuid(returns: list[Any]) -> str:
    return str(returns[-1].get("UUID", ""))


def kvm(returns: list[Any]) -> str:
    value = returns[-1]
    if not value.get("present"):
        return "kvm support: not compiled"
    return "kvm support: " + ("enabled" if value.get("enabled") else "disabled")


def cpus_for(cpu_index: int | None) -> Show:
    def show(returns: list[Any]) -> str:
        current = cpu_index if cpu_index is not None else 0
        return lines(
            *(
                f"{'*' if cpu.get('cpu-index') == current else ' '} CPU #{cpu.get('cpu-index')}:"
                f" thread_id={cpu.get('thread-id')}"
                for cpu in returns[-1]
            )
        )

    return show


def chardev(returns: list[Any]) -> str:
    return lines(*(f"{c.get('label')}: filename={c.get('filename')}" for c in returns[-1]))


def mice(returns: list[Any]) -> str:
    if not returns[-1]:
        return "No mouse devices connected"
    return lines(
        *(
            f"{'*' if m.get('current') else ' '} Mouse #{m.get('index')}: {m.get('name')}"
            + (" (absolute)" if m.get("absolute") else "")
            for m in returns[-1]
        )
    )


def block_jobs(returns: list[Any]) -> str:
    if not returns[-1]:
        return "No active jobs"
    out = []
    for job in returns[-1]:
        head = (
            f"Streaming device {job.get('device')}"
            if job.get("type") == "stream"
            else (f"Type {job.get('type')}, device {job.get('device')}")
        )
        out.append(
            f"{head}: Completed {job.get('offset')} of {job.get('len')} bytes,"
            f" speed limit {job.get('speed')} bytes/s"
        )
    return lines(*out)


def capabilities(returns: list[Any]) -> str:
    return lines(*(f"{c.get('capability')}: {'on' if c.get('state') else 'off'}" for c in returns[-1]))


def key_values(returns: list[Any]) -> str:
    """``name: value`` per member (nested members dotted), as HMP lists parameters."""
    from qmpshell.output.rows import flatten

    return lines(*(f"{key}: {_scalar(value)}" for key, value in flatten(returns[-1])))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if value == "":
        return "''"  # as HMP writes an empty string
    return value if isinstance(value, str) else json.dumps(value)


def balloon(returns: list[Any]) -> str:
    return f"balloon: actual={int(returns[-1].get('actual', 0)) >> 20}"


def iothreads(returns: list[Any]) -> str:
    out = []
    for thread in returns[-1]:
        out.append(f"{thread.get('id')}:")
        out.extend(f"  {k.replace('-', '_')}={_scalar(v)}" for k, v in thread.items() if k != "id")
    return lines(*out)


def trace_events(returns: list[Any]) -> str:
    return lines(*(f"{e.get('name')} : state {1 if e.get('state') == 'enabled' else 0}" for e in returns[-1]))


def dump(returns: list[Any]) -> str:
    value = returns[-1]
    text = f"Status: {value.get('status')}"
    if value.get("status") == "active" and value.get("total"):
        text += f"\nFinished: {100.0 * value.get('completed', 0) / value['total']:.2f} %"
    return text


def replay(returns: list[Any]) -> str:
    value = returns[-1]
    if value.get("mode") == "none":
        return "Record/replay is not active"
    mode, icount = value.get("mode"), value.get("icount")
    return f"{mode} mode:\n  file: {value.get('filename', '')}\n  instruction count: {icount}"


def memory_summary(returns: list[Any]) -> str:
    value = returns[-1]
    text = f"base memory: {value.get('base-memory')}"
    if "plugged-memory" in value:
        text += f"\nplugged memory: {value['plugged-memory']}"
    return text


def type_names(returns: list[Any]) -> str:
    return lines(*sorted(f'name "{t.get("name")}"' for t in returns[-1]))


def qom_value(returns: list[Any]) -> str:
    value = returns[-1]
    return value if isinstance(value, str) else json.dumps(value)


def qom_properties(returns: list[Any]) -> str:
    return lines(*(f"{p.get('name')} ({p.get('type')})" for p in returns[-1]))


_BLOCKSTATS = (
    "rd_bytes wr_bytes rd_operations wr_operations flush_operations wr_total_time_ns"
    " rd_total_time_ns flush_total_time_ns rd_merged wr_merged idle_time_ns"
).split()


def blockstats(returns: list[Any]) -> str:
    """One line per device, the counters in HMP's order."""
    out = []
    for entry in returns[-1]:
        stats = entry.get("stats", {})
        counters = " ".join(f"{key}={stats.get(key, 0)}" for key in _BLOCKSTATS)
        out.append(f"{entry.get('device', '')}: {counters}")
    return lines(*out)


def or_else(empty: str, command: str, test: str = "") -> Show:
    """``empty`` when the reply is empty (or its ``test`` member is false), else the view."""

    def show(returns: list[Any]) -> str:
        value = returns[-1]
        if not value or (test and isinstance(value, dict) and not value.get(test)):
            return empty
        return view(command)(returns)

    return show


def virtio(returns: list[Any]) -> str:
    return lines(*(f"{d.get('path')} [{d.get('name')}]" for d in returns[-1]))


def dirty_limits(returns: list[Any]) -> str:
    if not returns[-1]:
        return "Dirty page limit not enabled!"
    return lines(
        *(
            f"vcpu[{d.get('cpu-index')}], limit rate {d.get('limit-rate')} (MB/s),"
            f" current rate {d.get('current-rate')} (MB/s)"
            for d in returns[-1]
        )
    )


def snapshots(returns: list[Any]) -> str:
    """Internal snapshots of the block nodes that have any, one table as HMP lists them."""
    rows = []
    for node in returns[-1]:
        for snap in (node.get("image") or {}).get("snapshots") or []:
            rows.append(
                f"{snap.get('id', ''):<10} {snap.get('name', ''):<20} {snap.get('vm-state-size', 0):>12}"
                f" {snap.get('date-sec', 0):>12} {snap.get('vm-clock-sec', 0):>10}  {node.get('node-name')}"
            )
    if not rows:
        return "There is no snapshot available."
    header = f"{'ID':<10} {'TAG':<20} {'VM SIZE':>12} {'DATE (s)':>12} {'VM CLOCK':>10}  NODE"
    return lines(header, *rows)
