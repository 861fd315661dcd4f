"""What may come next on an HMP line: command names, ``info`` subcommands, and arguments by kind.

Pure (no terminal library): ``suggest`` reads the text before the cursor and
says which word is being typed and what kind of value fits there, from the
command's ``args_type`` spec; ``values`` lists a kind's values from the
server through a query function (the REPL's completer calls it off the UI
thread).  ``usage_at`` is the toolbar's line: the HMP usage of the command typed.
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.hmp.args import parse_spec
from qmpshell.hmp.table import COMMANDS, INFO, Spec, usage
from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias


class Suggestion(NamedTuple):
    word: str  # the text being completed (replaced by a candidate)
    kind: str  # command | info | device-id | device-type | block | ... | static
    static: tuple[str, ...] = ()  # candidates known without asking (on/off, enum values)
    context: str = ""  # what the kind needs besides the word (a QOM path for its properties)


_BY_NAME = {
    ("device_del", "id"): "device-id",
    ("set_link", "name"): "device-id",
    ("device_add", "device"): "device-type",
    ("object_del", "id"): "object-id",
    ("chardev-remove", "id"): "chardev",
    ("chardev-send-break", "id"): "chardev",
    ("chardev-change", "id"): "chardev",
    ("ringbuf_read", "device"): "chardev",
    ("ringbuf_write", "device"): "chardev",
    ("migrate_set_capability", "capability"): "capability",
    ("migrate_set_parameter", "parameter"): "parameter",
    ("migrate_set_parameter", "value"): "parameter-value",
    ("trace-event", "name"): "trace-event",
    ("info trace-events", "name"): "trace-event",
    ("qom-list", "path"): "qom-path",
    ("qom-get", "path"): "qom-path",
    ("qom-set", "path"): "qom-path",
    ("info qom-tree", "path"): "qom-path",
    ("qom-get", "property"): "qom-property",
    ("qom-set", "property"): "qom-property",
    ("nbd_server_remove", "name"): "nbd-export",
    ("loadvm", "name"): "snapshot",
    ("delvm", "name"): "snapshot",
    ("savevm", "name"): "snapshot",
}
_JOBS = (
    "block_job_cancel",
    "block_job_complete",
    "block_job_pause",
    "block_job_resume",
    "block_job_set_speed",
)
_STATIC = {
    ("watchdog_action", "action"): ("reset", "shutdown", "poweroff", "pause", "debug", "none", "inject-nmi"),
    ("migrate_continue", "state"): ("pre-switchover",),
    ("info stats", "target"): ("vm", "vcpu", "cryptodev"),
    ("netdev_add", "netdev"): tuple("user tap socket stream dgram vde bridge hubport l2tpv3".split()),
}


_OPTS = {"device_add": ("device-type", "device-prop"), "object_add": ("object-type", "object-prop")}


def _opts_item(word: str, type_kind: str, prop_kind: str) -> Suggestion:
    if "," not in word:
        return Suggestion(word, type_kind)
    item = word.rpartition(",")[2]
    if "=" in item:
        return Suggestion(item.partition("=")[2], "")
    return Suggestion(item, prop_kind, (), word.partition(",")[0].removeprefix("qom-type="))


def suggest(text: str) -> Suggestion:
    """The word at the end of ``text`` (an HMP line before the cursor) and what kind of value fits."""
    words = text.split()
    if not words or (len(words) == 1 and not text[-1:].isspace()):
        return Suggestion(words[0] if words else "", "command")
    spec = COMMANDS.get(words[0])
    key, done = (spec.name if spec else words[0]), words[1:]
    if key == "info":
        if len(done) == 0 or (len(done) == 1 and not text[-1:].isspace()):
            return Suggestion(done[0] if done else "", "info")
        spec, key, done = INFO.get(done[0]), f"info {done[0]}", done[1:]
    word = "" if text[-1:].isspace() else done.pop() if done else ""
    if spec is None:
        return Suggestion(word, "")
    return _argument(spec, key, done, word)


def _argument(spec: Spec, key: str, done: list[str], word: str) -> Suggestion:
    """The kind of the argument ``word`` is, counting the positional words before it."""
    args = parse_spec(spec.args_type)
    flags = {a.flag: a for a in args if a.kind == "-"}
    positional = [a for a in args if a.kind not in "-."]
    count, after_flag = 0, False
    for item in done:
        if after_flag:
            after_flag = False
        elif item.startswith("-") and item[1:2] in flags:
            after_flag = flags[item[1:2]].takes_value
        else:
            count += 1
    if word.startswith("-") and not after_flag:
        return Suggestion(word, "static", tuple(f"-{f}" for f in flags))
    if after_flag or count >= len(positional):
        return Suggestion(word, "")
    arg = positional[count]
    kind = _BY_NAME.get((key, arg.name)) or ("job" if key in _JOBS else "")
    if not kind and arg.kind == "B":
        kind = "block"
    if (key, arg.name) in _STATIC:
        if "," in word:  # netdev_add user,id=...: past the type
            return Suggestion("", "")
        return Suggestion(word, "static", _STATIC[(key, arg.name)])
    if arg.kind == "b" or (key == "migrate_set_capability" and arg.name == "state"):
        return Suggestion(word, "static", ("on", "off"))
    if key in _OPTS:  # QemuOpts: the type first, then its properties after each comma
        return _opts_item(word, *_OPTS[key])
    context = done[count - 1] if kind in ("qom-property", "parameter-value") and count else ""
    return Suggestion(word, kind, (), context)


Query: TypeAlias = "Callable[[str, dict[str, Any]], Any]"


def values(kind: str, context: str, word: str, query: Query) -> list[str]:
    """The server's values of ``kind`` (device ids, node names, ...); [] for kinds it cannot list."""
    fetch = _FETCHERS.get(kind)
    return sorted(set(fetch(query, context, word))) if fetch else []


def _children(query: Query, path: str) -> list[str]:
    return [
        p["name"]
        for p in query("qom-list", {"path": path}) or []
        if str(p.get("type", "")).startswith("child<")
    ]


def _qom_paths(query: Query, context: str, word: str) -> list[str]:
    parent = word.rpartition("/")[0] or "/"
    found = [p["name"] for p in query("qom-list", {"path": parent}) or [] if "<" in str(p.get("type", ""))]
    return [f"{parent.rstrip('/')}/{name}" for name in found]


def _parameter_values(query: Query, name: str) -> list[str]:
    """A migration parameter's current value (``on``/``off`` for a switch): what to type next to it."""
    current = (query("query-migrate-parameters", {}) or {}).get(name.replace("_", "-"))
    if isinstance(current, bool):
        return ["on", "off"]
    bandwidths = ("max-bandwidth", "max-postcopy-bandwidth", "avail-switchover-bandwidth")
    if name in bandwidths and isinstance(current, int):
        return [f"{current >> 20}M" if current % (1 << 20) == 0 else f"{current}B"]  # HMP reads MiB/s
    return [] if current is None or isinstance(current, dict) else [str(current)]


def _block(query: Query, context: str, word: str) -> list[str]:
    drives = [d.get("device") or d.get("qdev", "") for d in query("query-block", {}) or []]
    nodes = [n.get("node-name", "") for n in query("query-named-block-nodes", {}) or []]
    return [name for name in drives + nodes if name and not name.startswith("#")]


_FETCHERS: dict[str, Callable[[Query, str, str], list[str]]] = {
    "device-id": lambda q, c, w: _children(q, "/machine/peripheral"),
    "object-id": lambda q, c, w: _children(q, "/objects"),
    "device-type": lambda q, c, w: [
        t["name"] for t in q("qom-list-types", {"implements": "device", "abstract": False}) or []
    ],
    "chardev": lambda q, c, w: [d["label"] for d in q("query-chardev", {}) or []],
    "job": lambda q, c, w: [j.get("device", "") for j in q("query-block-jobs", {}) or []],
    "block": _block,
    "capability": lambda q, c, w: [d["capability"] for d in q("query-migrate-capabilities", {}) or []],
    "parameter": lambda q, c, w: list(q("query-migrate-parameters", {}) or {}),
    "trace-event": lambda q, c, w: [
        e["name"] for e in q("trace-event-get-state", {"name": (w or "") + "*"}) or []
    ],
    "parameter-value": lambda q, c, w: _parameter_values(q, c),
    "device-prop": lambda q, c, w: [
        p["name"] + "=" for p in q("device-list-properties", {"typename": c}) or []
    ],
    "object-type": lambda q, c, w: [
        t["name"] for t in q("qom-list-types", {"implements": "user-creatable", "abstract": False}) or []
    ],
    "object-prop": lambda q, c, w: [p["name"] + "=" for p in q("qom-list-properties", {"typename": c}) or []],
    "nbd-export": lambda q, c, w: [e.get("id", "") for e in q("query-block-exports", {}) or []],
    "snapshot": lambda q, c, w: [
        snap.get("name", "")
        for node in q("query-named-block-nodes", {}) or []
        for snap in (node.get("image") or {}).get("snapshots") or []
    ],
    "qom-path": _qom_paths,
    "qom-property": lambda q, c, w: [p["name"] for p in q("qom-list", {"path": c}) or []],
}


def usage_at(text: str) -> str:
    """The usage line of the HMP command on the line (``info NAME`` for a subcommand), or ''."""
    words = text.split()
    if not words:
        return ""
    if words[0] == "info" and len(words) > 1 and (len(words) > 2 or text[-1:].isspace()):
        return usage(f"info {words[1]}")
    spec = COMMANDS.get(words[0])
    if spec is None or (len(words) == 1 and not text[-1:].isspace()):
        return ""
    return usage(spec.name)


def offered_names(server: frozenset[str]) -> tuple[dict[str, str], dict[str, str]]:
    """HMP commands and ``info`` subcommands this server runs over QMP, with their usage lines."""
    from qmpshell.hmp.helptext import how

    top = {s.name for s in COMMANDS.values()}
    subs = {s.name for s in INFO.values()}
    commands = {n: usage(n) for n in top if how(n, server) not in ("passthrough", "unavailable")}
    infos = {
        n: usage(f"info {n}") for n in subs if how(f"info {n}", server) not in ("passthrough", "unavailable")
    }
    return commands, infos
