"""``chardev-add`` and ``chardev-change``: HMP's QemuOpts (``socket,id=s0,path=/x,server=on``)
as QMP's ``ChardevBackend`` (``{"type": "socket", "data": {"addr": ...}}``), for the backends
people type; options qmpshell does not map are passed on and typed by the schema.
"""

from __future__ import annotations

from qmpshell.hmp.args import HmpArgError, opts
from qmpshell.hmp.plan import Call, Context, Plan, Raw, raw_tree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _chardev_backend(text: str) -> tuple[str, dict[str, Any]]:
    """``chardev-add`` options -> (id, ChardevBackend), for the backends people type."""
    options = opts(text, "backend")
    backend, cid = options.pop("backend", ""), options.pop("id", "")
    if not backend or not cid:
        raise HmpArgError("chardev-add: expected BACKEND,id=ID[,...]")
    data: dict[str, Any] = {}
    if backend == "socket":
        data["addr"] = _socket_address(options)
        for key in ("server", "wait", "telnet", "tn3270", "websocket"):
            if key in options:
                data[key] = Raw(options.pop(key))
        options.pop("path", None), options.pop("host", None), options.pop("port", None)
    elif backend == "file":
        data["out"] = options.pop("path", "")
    elif backend in ("ringbuf", "memory"):
        backend = "ringbuf"
    elif backend in ("pipe", "serial", "parallel"):
        data["device"] = options.pop("path", "")
    data.update(raw_tree(options))
    return cid, {"type": backend, "data": data}


def _socket_address(options: dict[str, Any]) -> dict[str, Any]:
    if "path" in options:
        return {"type": "unix", "data": {"path": options["path"]}}
    return {"type": "inet", "data": {"host": options.get("host", ""), "port": options.get("port", "")}}


def chardev_add(args: dict[str, Any], ctx: Context) -> Plan:
    cid, backend = _chardev_backend(args["args"])
    return Plan([Call("chardev-add", {"id": cid, "backend": backend})], _pty_path)


def chardev_change(args: dict[str, Any], ctx: Context) -> Plan:
    _, backend = _chardev_backend(f"{args['args']},id={args['id']}")
    return Plan([Call("chardev-change", {"id": args["id"], "backend": backend})], _pty_path)


def _pty_path(returns: list[Any]) -> str:
    value = returns[-1]
    return f"char device redirected to {value['pty']}" if isinstance(value, dict) and "pty" in value else ""
