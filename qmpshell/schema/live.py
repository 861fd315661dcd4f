"""Values only the running QEMU knows, fetched on a worker thread and kept for the session.

``LiveValues.lookup`` never waits: it answers from what has been fetched, and
when it has nothing yet it queues a fetch and returns ``None``; ``on_ready`` is
called (on the worker thread) when the answer arrives, so a front-end can
redraw.  Values that change while the shell runs (node names, job ids, QOM
children) are refetched in the background once older than ``ttl`` seconds;
the old answer is served meanwhile.  Device types and properties never change
for a QEMU process and are fetched once.

A statement may change the volatile values, so the front-end brackets each one
with ``hold`` and ``expire``.  An answer asked before a statement ended (or
while it ran) is not final: a Tab typed ahead behind ``blockdev-add`` waits for
the one asked after it, and a front-end that showed what was known meanwhile
(a long statement) completes again when the final one comes.  An answer whose
fetch a statement's end overlapped is asked again rather than kept.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from qmpshell.errors import QmpShellError
from qmpshell.protocol.pending import QmpError
from qmpshell.records import NamedTuple
from qmpshell.schema.index import SchemaIndex, index_of
from qmpshell.schema.suggestions import LiveQuery

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Execute: TypeAlias = "Callable[..., Any]"  # Client.execute(command, arguments, timeout=...)
KINDS = (
    "device-types",
    "device-props",
    "object-props",
    "node-names",
    "job-ids",
    "qom-paths",
    "qom-props",
    "device-ids",
    "buses",
)
_VOLATILE = frozenset({"node-names", "job-ids", "qom-paths", "qom-props", "device-ids", "buses"})
# Walking the QOM tree for buses: objects with many children that never hold a bus are skipped,
# and the walk stops after this many qom-list calls (a q35 machine needs about 50).
_NO_BUSES_BELOW = frozenset({"memory-region", "irq"})
_WALK_BUDGET = 400
_SLASH_CHECK_LIMIT = 200  # children looked into to mark those with children of their own


@dataclass(frozen=True)
class LiveItem:
    """One live value and a word about it (a property's type, a QOM child's class)."""

    text: str
    meta: str = ""


class Answer(NamedTuple):
    """What ``LiveValues.answer`` knows of one question."""

    items: list[LiveItem] | None  # None: nothing known yet
    final: bool  # False: from before (or while) a statement ran, or old: a newer one is coming


class _Kept(NamedTuple):
    moment: float  # time.monotonic() when it came
    generation: int  # LiveValues' generation when it was asked
    items: list[LiveItem]


class LiveValues:
    """A per-session cache of live answers, filled by one worker thread."""

    def __init__(
        self,
        execute: Execute,
        *,
        on_ready: Callable[[], None] | None = None,
        ttl: float = 2.0,
        timeout: float = 5.0,
    ) -> None:
        self._execute = execute
        self._on_ready = on_ready
        self._ttl = ttl
        self._timeout = timeout
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._answers: dict[LiveQuery, _Kept] = {}
        self._queued: set[LiveQuery] = set()
        self._queue: queue.Queue[LiveQuery | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._holding = False  # a statement runs (``hold`` .. ``expire``)
        self._wanted: set[LiveQuery] = set()  # volatile queries asked meanwhile: asked again after it
        self._generation = 0  # counts statements' starts and ends

    def lookup(self, query: LiveQuery, *, wait: float = 0.0) -> list[LiveItem] | None:
        """The answer if known (perhaps a little old); None while it is being fetched (``answer``)."""
        return self.answer(query, wait=wait).items

    def answer(self, query: LiveQuery, *, wait: float = 0.0) -> Answer:
        """What is known, and whether it is final (else a newer answer is on its way, and
        ``on_ready`` will say when it came).

        With ``wait`` (Tab, on a completion thread; the UI thread never waits),
        an answer not final is waited for that long, so one Tab right after
        ``blockdev-add`` offers the new node, and one typed ahead while it runs
        too (it ends within the moment); the answer known is served if the
        final one is late.  After a statement that is nothing: what came before
        it may lack what it made.  Nothing either once closed: a reconnect or a
        replaced schema made a new source, and a Tab waiting here completes
        again from that one.
        """
        with self._arrived:
            if self._holds(query):
                self._wanted.add(query)
            kept = self._answers.get(query)
            since = kept.moment if kept is not None and self._due(query) else float("-inf")  # newer, then
            deadline = time.monotonic() + wait
            while not self._final(query, since) and not self._closed:
                if self._due(query) and query not in self._queued:
                    self._ask(query)  # again, too, when a statement's end dropped what came meanwhile
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            kept = self._answers.get(query)
            if self._closed or kept is None:
                return Answer(None, final=False)
            return Answer(kept.items, final=self._final(query, since))

    def _ask(self, query: LiveQuery) -> None:
        self._queued.add(query)
        self._queue.put(query)
        self._start_worker()

    def _holds(self, query: LiveQuery) -> bool:
        """A statement runs and may change what ``query`` asks."""
        return self._holding and query.kind in _VOLATILE

    def _due(self, query: LiveQuery) -> bool:
        """To be asked: not known, or volatile and asked before a statement's start or end, or old."""
        kept = self._answers.get(query)
        if kept is None:
            return True
        return query.kind in _VOLATILE and (
            kept.generation != self._generation or time.monotonic() - kept.moment > self._ttl
        )

    def _final(self, query: LiveQuery, since: float) -> bool:
        """Known, asked after ``since`` and after the last statement's start or end, which has ended."""
        kept = self._answers.get(query)
        if kept is None or kept.moment <= since or self._holds(query):
            return False
        return query.kind not in _VOLATILE or kept.generation == self._generation

    def hold(self) -> None:
        """A statement starts: what it may change (nodes, jobs, devices) is not final until ``expire``.

        A Tab typed ahead behind ``blockdev-add`` (or pressed while it runs) could otherwise fetch
        the nodes before the command reached QEMU and offer that list as the last word.
        """
        with self._lock:
            self._holding = True
            self._generation += 1

    def expire(self) -> None:
        """A statement ended and may have changed what QEMU has: the volatile answers are dropped
        (asked again on Tab), and those asked for while it ran are asked again now."""
        with self._arrived:
            self._holding = False
            self._generation += 1
            for query in [query for query in self._answers if query.kind in _VOLATILE]:
                del self._answers[query]
            wanted, self._wanted = self._wanted - self._queued, set()
            for query in wanted:
                if not self._closed:
                    self._ask(query)
            self._arrived.notify_all()  # a Tab waiting asks again too

    def close(self) -> None:
        """Stop the worker (after the fetch in progress, if any)."""
        with self._arrived:
            self._closed = True
            self._arrived.notify_all()
        self._queue.put(None)

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="qmpshell-live", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while (query := self._queue.get()) is not None:
            with self._lock:
                generation = self._generation
            try:
                items = fetch(self._execute, query, timeout=self._timeout)
            except QmpShellError:
                items = []  # an answer all the same, so a failing query is not repeated at every key
            if self._keep(query, items, generation) and self._on_ready is not None:
                self._on_ready()

    def _keep(self, query: LiveQuery, items: list[LiveItem], generation: int) -> bool:
        """Store an answer, unless a statement ended while it was fetched: a volatile one may then
        predate what the statement did, so it is asked again instead."""
        with self._arrived:
            if query.kind in _VOLATILE and generation != self._generation and not self._holding:
                if not self._closed:
                    self._queue.put(query)
                return False
            self._answers[query] = _Kept(time.monotonic(), generation, items)
            self._queued.discard(query)
            self._arrived.notify_all()
            return True


def _property_meta(prop: dict[str, Any]) -> str:
    """A property's type, default and QEMU's description: what HMP's ``TYPE,help`` lists."""
    meta = str(prop.get("type", ""))
    if "default-value" in prop:
        value = prop["default-value"]
        meta += f", default {value if isinstance(value, str) else json.dumps(value)}"
    return f"{meta} - {prop['description']}" if prop.get("description") else meta


def fetch(execute: Execute, query: LiveQuery, *, timeout: float) -> list[LiveItem]:
    """Ask QEMU one question (blocking: only ever called on the worker thread)."""
    kind, arg = query.kind, query.arg
    if kind == "device-types":
        found = execute("qom-list-types", {"implements": "device", "abstract": False}, timeout=timeout)
        return sorted(
            (LiveItem(t["name"], "device") for t in _dicts(found) if "name" in t), key=lambda i: i.text
        )
    if kind in ("device-props", "object-props"):
        command = "device-list-properties" if kind == "device-props" else "qom-list-properties"
        found = execute(command, {"typename": arg}, timeout=timeout)
        skip = {"type"} if kind == "object-props" else set()  # every object's read-only class name
        return [
            LiveItem(p["name"], _property_meta(p)) for p in _dicts(found) if p.get("name", "type") not in skip
        ]
    if kind == "node-names":
        found = execute("query-named-block-nodes", {"flat": True}, timeout=timeout)
        return [
            LiveItem(n["node-name"], str(n.get("drv", "node"))) for n in _dicts(found) if "node-name" in n
        ]
    if kind == "job-ids":
        return _job_ids(execute, timeout=timeout)
    if kind in ("qom-paths", "qom-props", "device-ids"):
        return _qom(execute, kind, arg, timeout=timeout)
    if kind == "buses":
        return _buses_for(execute, arg, timeout=timeout)
    return []


def _job_ids(execute: Execute, *, timeout: float) -> list[LiveItem]:
    """Every job: ``query-jobs`` (blockdev-create, snapshot-* jobs too), then block jobs it lacks.

    ``query-block-jobs`` alone missed the jobs that are not block jobs; a QEMU older than
    ``query-jobs`` (3.0) answers only the second.
    """
    items: dict[str, LiveItem] = {}
    for command, key in (("query-jobs", "id"), ("query-block-jobs", "device")):
        try:
            found = execute(command, timeout=timeout)
        except QmpError:
            continue
        for job in _dicts(found):
            if isinstance(job.get(key), str) and job[key] not in items:
                meta = f"{job.get('type', 'job')} {job.get('status', '')}".strip()
                items[job[key]] = LiveItem(job[key], meta)
    return list(items.values())


def _qom(execute: Execute, kind: str, path: str, *, timeout: float) -> list[LiveItem]:
    """One level of the QOM tree: children as full paths, or a path's properties, or qdev ids."""
    if kind == "device-ids":
        path = "/machine/peripheral"
    found = [
        p
        for p in _dicts(execute("qom-list", {"path": path.rstrip("/") or "/"}, timeout=timeout))
        if "name" in p
    ]
    if kind == "qom-props":
        return [LiveItem(p["name"], str(p.get("type", ""))) for p in found]
    children = [p for p in found if str(p.get("type", "")).startswith("child<")]
    if kind == "device-ids":
        return [LiveItem(c["name"], str(c["type"])[6:-1]) for c in children]
    base = path if path.endswith("/") else path + "/"
    paths = [LiveItem(base + c["name"], str(c["type"])[6:-1]) for c in children]
    return [
        _with_slash(execute, item, timeout) if n < _SLASH_CHECK_LIMIT else item
        for n, item in enumerate(paths)
    ]


def _with_slash(execute: Execute, item: LiveItem, timeout: float) -> LiveItem:
    """A QOM path that has children completes with its trailing ``/``, ready for the next level."""
    if _children(execute, item.text, timeout):
        return LiveItem(item.text + "/", item.meta)
    return item


def _children(execute: Execute, path: str, timeout: float) -> list[dict[str, Any]]:
    try:
        found = execute("qom-list", {"path": path}, timeout=timeout)
    except QmpError:
        return []
    return [p for p in _dicts(found) if "name" in p and str(p.get("type", "")).startswith("child<")]


# A device of the kind on the left plugs into a bus of the type on the right (and its subtypes).
_DEVICE_BUSES = (
    ("pci-device", "PCI"),
    ("usb-device", "usb-bus"),
    ("virtio-device", "virtio-bus"),
    ("scsi-device", "SCSI"),
    ("ide-device", "IDE"),
    ("isa-device", "ISA"),
)


def _buses_for(execute: Execute, driver: str, *, timeout: float) -> list[LiveItem]:
    """The buses a ``device_add driver=DRIVER`` can go on (a PCI device: PCI and PCIe buses), else all."""
    buses = _buses(execute, timeout=timeout)
    if not driver:
        return buses
    for kind, bus in _DEVICE_BUSES:
        devices = _dicts(execute("qom-list-types", {"implements": kind}, timeout=timeout))
        if driver in {t.get("name") for t in devices}:
            found = execute("qom-list-types", {"implements": bus}, timeout=timeout)
            fitting = {t["name"] for t in _dicts(found)} | {bus}
            return [item for item in buses if item.meta in fitting]
    return buses


def _buses(execute: Execute, *, timeout: float) -> list[LiveItem]:
    """The buses ``device_add bus=`` can name: children of the QOM tree whose type is a bus type."""
    types = {t["name"] for t in _dicts(execute("qom-list-types", {"implements": "bus"}, timeout=timeout))}
    found: dict[str, LiveItem] = {}
    queue_, calls = ["/machine"], 0
    while queue_ and calls < _WALK_BUDGET:
        path = queue_.pop(0)
        calls += 1
        for child in _children(execute, path, timeout):
            child_type = str(child["type"])[6:-1]
            if child_type in types and child_type != "System":
                found.setdefault(child["name"], LiveItem(child["name"], child_type))
            elif child_type not in _NO_BUSES_BELOW:
                queue_.append(f"{path}/{child['name']}")
    return sorted(found.values(), key=lambda item: item.text)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


@dataclass(frozen=True)
class CompletionSource:
    """What completion draws on for one connection: the schema index and the live values."""

    index: SchemaIndex | None
    live: LiveValues | None = None
    unplugging: Callable[[], set[str]] = set  # device ids whose unplug is pending


def source_for(
    knowledge: object,
    execute: Execute,
    *,
    on_ready: Callable[[], None] | None = None,
    live: bool = True,
    unplugging: Callable[[], set[str]] = set,
) -> CompletionSource:
    """The completion source for a connection: its shell's schema index and fresh live values
    (``live`` False, ``--quiet-monitor``: the schema only, nothing asked of QEMU)."""
    values = LiveValues(execute, on_ready=on_ready) if live else None
    return CompletionSource(index_of(knowledge), values, unplugging)
