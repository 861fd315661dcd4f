"""Translations of ``info`` subcommands into QMP queries, each with how its reply is shown.

The ``x-query-*`` commands return ``HumanReadableText`` (QEMU's own text for
the subcommands that have no structured QMP query); they are shown as is.
"""

from __future__ import annotations

from qmpshell.hmp import replies
from qmpshell.hmp.plan import Call, Context, Plan, Show, Translation

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def query(command: str, show: Show | None = None, **fixed: Any) -> Translation:
    """``info NAME`` -> one query without arguments, shown by ``show`` (default: the shell's view)."""

    def build(args: dict[str, Any], ctx: Context) -> Plan:
        return Plan([Call(command, dict(fixed))], show or replies.view(command))

    return Translation((command,), build)


def text(command: str) -> Translation:
    """An ``x-query-*`` command: its ``HumanReadableText`` is the output."""
    return query(command, replies.human_text)


def with_args(command: str, mapping: dict[str, str], show: Show | None = None) -> Translation:
    """A query whose arguments are the subcommand's, renamed by ``mapping``."""

    def build(args: dict[str, Any], ctx: Context) -> Plan:
        arguments = {mapping.get(k, k): v for k, v in args.items()}
        return Plan([Call(command, arguments)], show or replies.view(command))

    return Translation((command,), build)


def _block(args: dict[str, Any], ctx: Context) -> Plan:
    command = "query-named-block-nodes" if args.get("nodes") else "query-block"
    arguments = {"flat": True} if args.get("nodes") else {}
    show = replies.view(command)
    if not args.get("nodes") and "device" not in args:
        drives = ctx.ask("query-block") or []
        if drives:
            return Plan([], lambda returns: replies.view("query-block")([drives]))
        # no block devices (the storage daemon has only nodes): show those rather than nothing
        nodes = replies.or_else("(no block devices)", "query-named-block-nodes")
        return Plan([Call("query-named-block-nodes", {"flat": True})], nodes)
    if "device" in args and not args.get("nodes"):
        wanted = args["device"]

        def show(returns: list[Any]) -> str:
            chosen = [d for d in returns[-1] if wanted in (d.get("device"), d.get("qdev"), _node(d))]
            if not chosen:
                return f"Device '{wanted}' not found"
            return replies.view("query-block")([chosen])

    return Plan([Call(command, arguments)], show)


def _node(drive: dict[str, Any]) -> Any:
    inserted = drive.get("inserted")
    return inserted.get("node-name") if isinstance(inserted, dict) else None


def _cpus(args: dict[str, Any], ctx: Context) -> Plan:
    return Plan([Call("query-cpus-fast")], replies.cpus_for(ctx.cpu_index))


def _trace_events(args: dict[str, Any], ctx: Context) -> Plan:
    arguments: dict[str, Any] = {"name": args.get("name", "*")}
    if "vcpu" in args:
        arguments["vcpu"] = args["vcpu"]
    return Plan([Call("trace-event-get-state", arguments)], replies.trace_events)


def _qom_tree(args: dict[str, Any], ctx: Context) -> Plan:
    """``info qom-tree``: the composition tree, walked with ``qom-list`` along ``child<>`` properties."""
    root = args.get("path", "/machine")
    out: list[str] = []

    def walk(path: str, name: str, qom_type: str, depth: int) -> None:
        out.append(f"{'  ' * depth}/{name} ({qom_type})")
        children = []
        for prop in ctx.ask("qom-list", {"path": path}) or []:
            kind = str(prop.get("type", ""))
            if kind.startswith("child<"):
                children.append((str(prop.get("name")), kind[6:-1]))
        for child, child_type in sorted(children):
            walk(f"{path.rstrip('/')}/{child}", child, child_type, depth + 1)

    root_type = str(ctx.ask("qom-get", {"path": root, "property": "type"}))
    walk(root, root.rstrip("/").rpartition("/")[2], root_type, 0)
    return Plan([], lambda returns: "\n".join(out))


def _stats(args: dict[str, Any], ctx: Context) -> Plan:
    arguments: dict[str, Any] = {"target": args["target"]}
    if "provider" in args:
        providers: dict[str, Any] = {"provider": args["provider"]}
        if "names" in args and args["names"] != "*":
            providers["names"] = args["names"].split(",")
        arguments["providers"] = [providers]
    return Plan([Call("query-stats", arguments)], replies.or_else("", "query-stats"))


INFO: dict[str, Translation] = {
    "balloon": query("query-balloon", replies.balloon),
    "block": Translation(("query-block", "query-named-block-nodes"), _block),
    "block-jobs": query("query-block-jobs", replies.block_jobs),
    "blockstats": query("query-blockstats", replies.blockstats),
    "chardev": query("query-chardev", replies.chardev),
    "cpus": Translation(("query-cpus-fast",), _cpus),
    "cryptodev": query("query-cryptodev", replies.or_else("", "query-cryptodev")),
    "dirty_rate": query("query-dirty-rate"),
    "dump": query("query-dump", replies.dump),
    "hotpluggable-cpus": query("query-hotpluggable-cpus"),
    "iothreads": query("query-iothreads", replies.iothreads),
    "irq": text("x-query-irq"),
    "jit": text("x-query-jit"),
    "kvm": query("query-kvm", replies.kvm),
    "memdev": query("query-memdev"),
    "memory-devices": query("query-memory-devices", replies.or_else("", "query-memory-devices")),
    "memory_size_summary": query("query-memory-size-summary", replies.memory_summary),
    "mice": query("query-mice", replies.mice),
    "migrate": query("query-migrate"),
    "migrate_capabilities": query("query-migrate-capabilities", replies.capabilities),
    "migrate_parameters": query("query-migrate-parameters", replies.key_values),
    "name": query("query-name", replies.name),
    "numa": text("x-query-numa"),
    "opcount": text("x-query-opcount"),
    "pci": query("query-pci"),
    "pic": text("x-query-interrupt-controllers"),  # QEMU 8.2 and later
    "profile": text("x-query-profile"),
    "qdm": query("qom-list-types", replies.type_names, implements="device", abstract=False),
    "qom-tree": Translation(("qom-list", "qom-get"), _qom_tree),
    "ramblock": text("x-query-ramblock"),
    "rdma": text("x-query-rdma"),
    "replay": query("query-replay", replies.replay),
    "rocker": with_args("query-rocker", {}),
    "rocker-of-dpa-flows": with_args("query-rocker-of-dpa-flows", {"tbl_id": "tbl-id"}),
    "rocker-of-dpa-groups": with_args("query-rocker-of-dpa-groups", {}),
    "rocker-ports": with_args("query-rocker-ports", {}),
    "roms": text("x-query-roms"),
    "sev": query("query-sev", replies.or_else("SEV is not enabled", "query-sev", "enabled")),
    "sgx": query("query-sgx"),
    "snapshots": query("query-named-block-nodes", replies.snapshots),
    "spice": query("query-spice", replies.or_else("Server: disabled", "query-spice", "enabled")),
    "stats": Translation(("query-stats",), _stats),
    "status": query("query-status", replies.status),
    "tpm": query("query-tpm", replies.or_else("", "query-tpm")),
    "trace-events": Translation(("trace-event-get-state",), _trace_events),
    "usb": text("x-query-usb"),
    "uuid": query("query-uuid", replies.uuid),
    "vcpu_dirty_limit": query("query-vcpu-dirty-limit", replies.dirty_limits),
    "version": query("query-version", replies.version),
    "virtio": query("x-query-virtio", replies.virtio),
    "virtio-queue-element": with_args("x-query-virtio-queue-element", {}),
    "virtio-queue-status": with_args("x-query-virtio-queue-status", {}),
    "virtio-status": with_args("x-query-virtio-status", {}),
    "virtio-vhost-queue-status": with_args("x-query-virtio-vhost-queue-status", {}),
    "vm-generation-id": query("query-vm-generation-id", lambda returns: str(returns[-1].get("guid", ""))),
    "vnc": query("query-vnc-servers", replies.or_else("None", "query-vnc-servers")),
}

SHELL_ANSWERED = ("history",)  # ``info history``: the HMP lines of this session
