"""Translations of HMP commands (not ``info``) into QMP, following what each HMP handler calls.

Each entry says which QMP command(s) it sends and how HMP's arguments map onto them; where HMP
reads a value its own way it is said (``balloon`` takes MiB, ``migrate_set_parameter max-bandwidth
100`` is 100 MiB/s, ``block_stream`` names the job after the device).
"""

from __future__ import annotations

from types import ModuleType

from qmpshell.hmp.args import HmpArgError, opts, parse_int, parse_size
from qmpshell.hmp.plan import Args, Build, Call, Context, Plan, Raw, Translation, one, raw_tree


def _device_or_node(ctx: Context, name: str) -> dict[str, str]:
    """HMP's ``device`` is a drive name; a name no drive has is taken as a node name (storage daemon)."""
    drives = ctx.ask("query-block") or []
    if any(name in (d.get("device"), d.get("qdev")) for d in drives if isinstance(d, dict)):
        return {"device": name}
    return {"node-name": name}


def _block_resize(args: Args, ctx: Context) -> Plan:
    return Plan([Call("block_resize", {**_device_or_node(ctx, args["device"]), "size": args["size"]})])


def _block_stream(args: Args, ctx: Context) -> Plan:
    arguments = {"job-id": args["device"], "device": args["device"]}  # HMP names the job after the device
    if "speed" in args:
        arguments["speed"] = args["speed"]
    if "base" in args:
        arguments["base"] = args["base"]
    return Plan([Call("block-stream", arguments)])


def _change(args: Args, ctx: Context) -> Plan:
    if args["device"] == "vnc":
        if args["target"] != "password" or "arg" not in args:
            raise HmpArgError("change vnc: only 'change vnc password PASSWORD' runs over QMP")
        return Plan([Call("change-vnc-password", {"password": args["arg"]})])
    arguments: Args = {"id": args["device"], "filename": args["target"]}
    if "arg" in args:
        arguments["format"] = args["arg"]
    if "read-only-mode" in args:
        arguments["read-only-mode"] = Raw(args["read-only-mode"])
    if args.get("force"):
        arguments["force"] = True
    return Plan([Call("blockdev-change-medium", arguments)])


def _with_id_or_device(command: str) -> Translation:
    """``eject``, ``block_set_io_throttle``: HMP's name is a drive or a qdev id (QMP's ``id``)."""

    def build(args: Args, ctx: Context) -> Plan:
        arguments = {k: v for k, v in args.items() if k != "device"}
        drives = ctx.ask("query-block") or []
        is_drive = any(d.get("device") == args["device"] for d in drives if isinstance(d, dict))
        arguments["device" if is_drive else "id"] = args["device"]
        return Plan([Call(command, arguments)])

    return Translation((command, "query-block"), build)


def _opts_command(command: str, implied: str) -> Translation:
    """``device_add``, ``netdev_add``, ``object_add``: QemuOpts typed by the schema as a QMP line would be."""

    def build(args: Args, ctx: Context) -> Plan:
        text = next(iter(args.values()))
        return Plan([Call(command, raw_tree(opts(text, implied)))])

    return Translation((command,), build)


def _drive_copy(command: str) -> Translation:
    """``drive_mirror``/``drive_backup``: ``-f`` copies the whole chain, ``-n`` reuses an existing target."""

    def build(args: Args, ctx: Context) -> Plan:
        arguments: Args = {
            "device": args["device"],
            "target": args["target"],
            "sync": "full" if args.get("full") else "top",
            "mode": "existing" if args.get("reuse") else "absolute-paths",
        }
        if "format" in args:
            arguments["format"] = args["format"]
        if args.get("compress"):
            arguments["compress"] = True
        return Plan([Call(command, arguments)])

    return Translation((command,), build)


def _dump(args: Args, ctx: Context) -> Plan:
    arguments: Args = {"paging": bool(args.get("paging")), "protocol": "file:" + args["filename"]}
    formats = {"zlib": "kdump-zlib", "lzo": "kdump-lzo", "snappy": "kdump-snappy", "windmp": "win-dmp"}
    chosen = [fmt for flag, fmt in formats.items() if args.get(flag)]
    if len(chosen) > 1:
        raise HmpArgError("dump-guest-memory: only one of -z, -l, -s and -w")
    if chosen:
        arguments["format"] = chosen[0]
    if args.get("detach"):
        arguments["detach"] = True
    if "begin" in args:
        if "length" not in args:
            raise HmpArgError("dump-guest-memory: begin needs a length")
        arguments.update(begin=args["begin"], length=args["length"])
    return Plan([Call("dump-guest-memory", arguments)])


def _memsave(command: str) -> Translation:
    def build(args: Args, ctx: Context) -> Plan:
        arguments: Args = {"val": args["val"], "size": args["size"], "filename": args["filename"]}
        if command == "memsave" and ctx.cpu_index is not None:
            arguments["cpu-index"] = ctx.cpu_index
        return Plan([Call(command, arguments)])

    return Translation((command,), build)


def _migrate(args: Args, ctx: Context) -> Plan:
    arguments: Args = {"uri": args["uri"]}
    for flag, name in (("blk", "blk"), ("inc", "inc"), ("resume", "resume")):
        if args.get(flag):
            arguments[name] = True
    return Plan([Call("migrate", arguments)])


def _set_capability(args: Args, ctx: Context) -> Plan:
    item = {"capability": Raw(args["capability"]), "state": args["state"]}
    return Plan([Call("migrate-set-capabilities", {"capabilities": [item]})])


_MIB_PARAMETERS = ("max-bandwidth", "max-postcopy-bandwidth", "avail-switchover-bandwidth")


def _set_parameter(args: Args, ctx: Context) -> Plan:
    """HMP reads the bandwidths as sizes in MiB/s (``100`` is 100 MiB/s) and other sizes in bytes."""
    name, text = args["parameter"].replace("_", "-"), args["value"]
    value: Raw | int = Raw(text)
    try:
        if name in _MIB_PARAMETERS:
            value = parse_size(text)
        elif name in ("xbzrle-cache-size",):
            value = parse_size(text, default_suffix="B")
    except ValueError as err:
        raise HmpArgError(f"migrate_set_parameter {name}: {err}") from None
    return Plan([Call("migrate-set-parameters", {name: value})])


def _mouse_move(args: Args, ctx: Context) -> Plan:
    events = []
    for axis, key in (("x", "dx_str"), ("y", "dy_str")):
        events.append({"type": "rel", "data": {"axis": axis, "value": _int(args[key])}})
    if "dz_str" in args:  # HMP turns dz into wheel clicks
        button = "wheel-up" if _int(args["dz_str"]) < 0 else "wheel-down"
        events += [{"type": "btn", "data": {"button": button, "down": down}} for down in (True, False)]
    return Plan([Call("input-send-event", {"events": events})])


def _mouse_button(args: Args, ctx: Context) -> Plan:
    """HMP's state is a mask (1 left, 2 middle, 4 right): each button is set down or up by it."""
    state = args["button_state"]
    buttons = (("left", 1), ("middle", 2), ("right", 4))
    events = [{"type": "btn", "data": {"button": name, "down": bool(state & bit)}} for name, bit in buttons]
    return Plan([Call("input-send-event", {"events": events})])


def _chardev() -> ModuleType:
    """The chardev backends, imported when a chardev line runs (one module less per start)."""
    from qmpshell.hmp import chardev

    return chardev


_JOB = ("query-named-block-nodes", "query-jobs", "job-dismiss")
SNAPSHOT_JOBS = {
    "savevm": ("snapshot-save", *_JOB),
    "loadvm": ("snapshot-load", *_JOB),
    "delvm": ("snapshot-delete", *_JOB),
}


def _snapshot_job(name: str) -> Build:
    def build(args: Args, ctx: Context) -> Plan:
        from qmpshell.hmp.snapshots import BUILDERS  # here: only a snapshot line loads it

        return BUILDERS[name](args, ctx)

    return build


def _int(text: str) -> int:
    try:
        return parse_int(text)
    except ValueError as err:
        raise HmpArgError(str(err)) from None


def _nbd_start(args: Args, ctx: Context) -> Plan:
    if args.get("all"):
        raise HmpArgError("nbd_server_start -a: exporting every drive at once has no single QMP command")
    host, _, port = args["uri"].rpartition(":")
    address = {"type": "inet", "data": {"host": host or "0.0.0.0", "port": port}}
    return Plan([Call("nbd-server-start", {"addr": address})])


def _nbd_remove(args: Args, ctx: Context) -> Plan:
    arguments: Args = {"name": args["name"]}
    if args.get("force"):
        arguments["mode"] = "hard"
    return Plan([Call("nbd-server-remove", arguments)])


def _qom_set(args: Args, ctx: Context) -> Plan:
    if args.get("json"):
        import json

        try:
            value = json.loads(args["value"])
        except ValueError as err:
            raise HmpArgError(f"qom-set -j: invalid JSON: {err}") from None
        return Plan([Call("qom-set", {"path": args["path"], "property": args["property"], "value": value})])
    return Plan([Call("qom-set", {k: Raw(args[k]) for k in ("path", "property", "value")})])


def _qom_get(args: Args, ctx: Context) -> Plan:
    from qmpshell.hmp.replies import qom_value

    return Plan([Call("qom-get", {"path": args["path"], "property": args["property"]})], qom_value)


def _qom_list(args: Args, ctx: Context) -> Plan:
    from qmpshell.hmp.replies import qom_properties

    return Plan([Call("qom-list", {"path": args.get("path", "/")})], qom_properties)


def _ringbuf_read(args: Args, ctx: Context) -> Plan:
    call = Call("ringbuf-read", {"device": args["device"], "size": args["size"], "format": "utf8"})
    return Plan([call], lambda returns: str(returns[0]))


def _sendkey(args: Args, ctx: Context) -> Plan:
    keys = []
    for name in args["keys"].split("-"):
        if name.startswith("#") or name.startswith("0x"):
            keys.append({"type": "number", "data": _int(name.lstrip("#"))})
        else:
            keys.append({"type": "qcode", "data": Raw(name)})
    arguments: Args = {"keys": keys}
    if "hold-time" in args:
        arguments["hold-time"] = args["hold-time"]
    return Plan([Call("send-key", arguments)])


def _dirty_rate(args: Args, ctx: Context) -> Plan:
    arguments: Args = {"calc-time": args["second"]}
    if "sample_pages_per_GB" in args:
        arguments["sample-pages"] = args["sample_pages_per_GB"]
    if args.get("dirty_ring") or args.get("dirty_bitmap"):
        arguments["mode"] = "dirty-ring" if args.get("dirty_ring") else "dirty-bitmap"
    return Plan([Call("calc-dirty-rate", arguments)])


def _screendump(args: Args, ctx: Context) -> Plan:
    arguments: Args = {"filename": args["filename"]}
    for key in ("device", "head"):
        if key in args:
            arguments[key] = args[key]
    if "format" in args:
        arguments["format"] = Raw(args["format"])
    return Plan([Call("screendump", arguments)])


def _set_password(args: Args, ctx: Context) -> Plan:
    arguments: Args = {"protocol": Raw(args["protocol"]), "password": args["password"]}
    if "display" in args:
        arguments["display"] = args["display"]
    if "connected" in args:
        arguments["connected"] = Raw(args["connected"])
    return Plan([Call("set_password", arguments)])


def _expire_password(args: Args, ctx: Context) -> Plan:
    arguments: Args = {"protocol": Raw(args["protocol"]), "time": args["time"]}
    if "display" in args:
        arguments["display"] = args["display"]
    return Plan([Call("expire_password", arguments)])


def _trace_event(args: Args, ctx: Context) -> Plan:
    arguments: Args = {"name": args["name"], "enable": args["option"]}
    if "vcpu" in args:
        arguments["vcpu"] = args["vcpu"]
    return Plan([Call("trace-event-set-state", arguments)])


def _announce(args: Args, ctx: Context) -> Plan:
    arguments: Args = {"initial": 50, "max": 550, "rounds": 5, "step": 100}  # HMP's defaults
    if "interfaces" in args:
        arguments["interfaces"] = args["interfaces"].split(":")
    if "id" in args:
        arguments["id"] = args["id"]
    return Plan([Call("announce-self", arguments)])


def _snapshot(args: Args, ctx: Context) -> Plan:
    if "snapshot-file" not in args:
        raise HmpArgError("snapshot_blkdev: a new image file is needed")
    arguments: Args = {"device": args["device"], "snapshot-file": args["snapshot-file"]}
    arguments["format"] = args.get("format", "qcow2")
    arguments["mode"] = "existing" if args.get("reuse") else "absolute-paths"
    return Plan([Call("blockdev-snapshot-sync", arguments)])


COMMANDS: dict[str, Translation] = {
    "announce_self": Translation(("announce-self",), _announce),
    "balloon": one("balloon"),
    "block_job_cancel": one("block-job-cancel"),
    "block_job_complete": one("block-job-complete"),
    "block_job_pause": one("block-job-pause"),
    "block_job_resume": one("block-job-resume"),
    "block_job_set_speed": one("block-job-set-speed"),
    "block_resize": Translation(("block_resize", "query-block"), _block_resize),
    "block_set_io_throttle": _with_id_or_device("block_set_io_throttle"),
    "block_stream": Translation(("block-stream",), _block_stream),
    "calc_dirty_rate": Translation(("calc-dirty-rate",), _dirty_rate),
    "cancel_vcpu_dirty_limit": one("cancel-vcpu-dirty-limit", {"cpu_index": "cpu-index"}),
    "change": Translation(("blockdev-change-medium",), _change),
    "chardev-add": Translation(("chardev-add",), lambda a, c: _chardev().chardev_add(a, c)),
    "chardev-change": Translation(("chardev-change",), lambda a, c: _chardev().chardev_change(a, c)),
    "chardev-remove": one("chardev-remove"),
    "chardev-send-break": one("chardev-send-break"),
    "client_migrate_info": one("client_migrate_info"),
    "closefd": one("closefd"),
    "cont": one("cont"),
    "device_add": _opts_command("device_add", "driver"),
    "device_del": one("device_del"),
    "drive_backup": _drive_copy("drive-backup"),
    "drive_mirror": _drive_copy("drive-mirror"),
    "dump-guest-memory": Translation(("dump-guest-memory",), _dump),
    "dumpdtb": one("dumpdtb"),
    "eject": _with_id_or_device("eject"),
    "exit_preconfig": one("x-exit-preconfig"),
    "expire_password": Translation(("expire_password",), _expire_password),
    "memsave": _memsave("memsave"),
    "migrate": Translation(("migrate",), _migrate),
    "migrate_cancel": one("migrate_cancel"),
    "migrate_continue": one("migrate-continue"),
    "migrate_incoming": one("migrate-incoming"),
    "migrate_pause": one("migrate-pause"),
    "migrate_recover": one("migrate-recover"),
    "migrate_set_capability": Translation(("migrate-set-capabilities",), _set_capability),
    "migrate_set_parameter": Translation(("migrate-set-parameters",), _set_parameter),
    "migrate_start_postcopy": one("migrate-start-postcopy"),
    "mouse_button": Translation(("input-send-event",), _mouse_button),
    "mouse_move": Translation(("input-send-event",), _mouse_move),
    "nbd_server_add": one("nbd-server-add"),
    "nbd_server_remove": Translation(("nbd-server-remove",), _nbd_remove),
    "nbd_server_start": Translation(("nbd-server-start",), _nbd_start),
    "nbd_server_stop": one("nbd-server-stop"),
    "netdev_add": _opts_command("netdev_add", "type"),
    "netdev_del": one("netdev_del"),
    "nmi": one("inject-nmi"),
    "object_add": _opts_command("object-add", "qom-type"),
    "object_del": one("object-del"),
    "pmemsave": _memsave("pmemsave"),
    "qom-get": Translation(("qom-get",), _qom_get),
    "qom-list": Translation(("qom-list",), _qom_list),
    "qom-set": Translation(("qom-set",), _qom_set),
    "quit": one("quit"),
    "replay_break": one("replay-break"),
    "replay_delete_break": one("replay-delete-break"),
    "replay_seek": one("replay-seek"),
    "ringbuf_read": Translation(("ringbuf-read",), _ringbuf_read),
    "ringbuf_write": one("ringbuf-write"),
    "screendump": Translation(("screendump",), _screendump),
    "sendkey": Translation(("send-key",), _sendkey),
    "set_link": one("set_link"),
    "set_password": Translation(("set_password",), _set_password),
    "set_vcpu_dirty_limit": one(
        "set-vcpu-dirty-limit", {"dirty_rate": "dirty-rate", "cpu_index": "cpu-index"}
    ),
    "snapshot_blkdev": Translation(("blockdev-snapshot-sync",), _snapshot),
    "snapshot_blkdev_internal": one("blockdev-snapshot-internal-sync"),
    "snapshot_delete_blkdev_internal": one("blockdev-snapshot-delete-internal-sync"),
    "stop": one("stop"),
    "system_powerdown": one("system_powerdown"),
    "system_reset": one("system_reset"),
    "system_wakeup": one("system_wakeup"),
    "trace-event": Translation(("trace-event-set-state",), _trace_event),
    "watchdog_action": one("watchdog-set-action"),
    "x_colo_lost_heartbeat": one("x-colo-lost-heartbeat"),
    **{name: Translation(qmp, _snapshot_job(name)) for name, qmp in SNAPSHOT_JOBS.items()},
}

SHELL_ANSWERED = ("cpu", "help", "info")  # run by qmpshell itself: ``NAME<TAB>qmp<TAB>-``
