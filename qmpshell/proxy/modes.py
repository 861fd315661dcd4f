"""Running ``--proxy``: headless (no terminal), or with the shell the user types into at the same time.

Each client's traffic becomes one line, ``NAME → COMMAND`` in the shorthand
(``qmpshell.replay.toscript``) and ``NAME ← ok``, ``NAME ← error: ...`` or the
returned JSON.  Headless, the lines go to stdout and the run ends when the
upstream does (one line on stderr, exit status 3) or at a stop signal.  With
a terminal, the shell connects to the proxy through a private socket of its
own (its traffic is not shown) and the lines appear in its output as they happen.
"""

from __future__ import annotations

import contextlib
import functools
import json
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable

from qmpshell.config import Settings
from qmpshell.errors import ConnectionLost
from qmpshell.output.render import error_summary, json_text
from qmpshell.output.safe import visible
from qmpshell.protocol.address import parse_address
from qmpshell.proxy.peer import Traffic
from qmpshell.proxy.server import SHELL_CLIENT, Proxy
from qmpshell.replay.toscript import script_statement

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.protocol.logfile import MessageLog

Sink = Callable[[str, str], None]  # the line as people read it, and with its message as JSON
SHOWN_REPLY = 400  # characters of a returned value a traffic line shows
COALESCE = 0.05  # seconds a burst of traffic lines gathers before they are shown


def traffic_line(traffic: Traffic) -> str:
    """``harness → blockdev-add node-name=disk0 ...`` or ``harness ← ok``."""
    message = traffic.message
    if traffic.arrow == "→":
        command = {key: value for key, value in message.items() if key != "id"}
        what = _statement(json.dumps(command, ensure_ascii=False))
    elif "error" in message:
        what = f"error: {error_summary(message)}"
    elif message.get("return") == {}:
        what = "ok"
    else:
        text = json.dumps(message.get("return"), ensure_ascii=False)
        what = text if len(text) <= SHOWN_REPLY else text[: SHOWN_REPLY - 3] + "..."
    return visible(f"{traffic.client} {traffic.arrow} {what}")


@functools.lru_cache(maxsize=512)
def _statement(command: str) -> str:
    """A command's shorthand on one line; a client sends the same few commands again and again,
    and making the line (parsed back to check it) costs more than the command's round trip."""
    return " ".join(script_statement(json.loads(command)).split("\n"))


class Watchers:
    """The proxy's ``watch``: each traffic line goes to every sink subscribed (the shell's output).

    Lines are made and handed out on a thread of their own: the proxy's threads only queue
    the message, so that watching costs the clients' round trips nothing.
    """

    def __init__(self) -> None:
        self._sinks: list[Sink] = []
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Traffic | str | Callable[[], object]] = queue.SimpleQueue()
        threading.Thread(target=self._hand_out, name="proxy-watch", daemon=True).start()

    def subscribe(self, sink: Sink) -> None:
        with self._lock:
            self._sinks.append(sink)

    def say(self, text: str) -> None:
        self._queue.put(text)

    def __call__(self, traffic: Traffic) -> None:
        self._queue.put(traffic)

    def drain(self, timeout: float = 1.0) -> None:
        """Wait (a while at most) until every line queued so far is handed out."""
        done = threading.Event()
        self._queue.put(done.set)
        done.wait(timeout)

    def _hand_out(self) -> None:
        """Wake once for a burst of traffic, not once a message: a waking thread takes the
        interpreter from the ones relaying replies."""
        while True:
            batch = [self._queue.get()]  # blocks while all is quiet
            time.sleep(COALESCE)
            with contextlib.suppress(queue.Empty):
                while True:
                    batch.append(self._queue.get_nowait())
            for item in batch:
                self._one(item)

    def _one(self, item: Traffic | str | Callable[[], object]) -> None:
        if isinstance(item, Traffic):
            text = traffic_line(item)
            as_json = visible(f"{item.client} {item.arrow} {json_text(item.message)}")
        elif isinstance(item, str):
            text, as_json = item, ""
        else:
            item()  # drain(): everything before it is handed out
            return
        with self._lock:
            sinks = list(self._sinks)
        for sink in sinks:
            sink(text, as_json)


def run_headless(listen: str, upstream: str, settings: Settings, log: MessageLog | None) -> int:
    """Serve clients until the upstream goes (``ConnectionLost``: exit 3) or a stop signal."""
    watchers = Watchers()
    watchers.subscribe(_stdout_line)
    proxy = Proxy(
        parse_address(upstream, libvirt_uri=settings.libvirt_uri or ""),
        log=log,
        watch=watchers,
        connect_timeout=settings.connect_timeout,
    )
    try:
        proxy.listen(listen)
        while not proxy.ended.wait(0.5):  # a timed wait, so that signals are handled meanwhile
            pass
        watchers.drain()
        raise ConnectionLost(proxy.why)
    finally:
        proxy.close()


def _stdout_line(text: str, as_json: str) -> None:
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass  # stdout gone: the proxy still serves its clients


def run_interactive(
    listen: str,
    upstream: str,
    settings: Settings,
    log: MessageLog | None,
    front_end: Callable[[str, MessageLog | None, Any], int],
) -> int:
    """The shell over a private socket of the proxy; ``front_end(address, log, watchers)`` runs it."""
    watchers = Watchers()
    proxy = Proxy(
        parse_address(upstream, libvirt_uri=settings.libvirt_uri or ""),
        log=log,
        watch=watchers,
        on_end=lambda why: watchers.say(f"proxy: {why}"),
        connect_timeout=settings.connect_timeout,
    )
    private = tempfile.mkdtemp(prefix="qmpshell-proxy-")  # 0700: the shell's way in is its own
    try:
        proxy.listen(listen)
        proxy.listen(f"{private}/shell.sock", shown=False)
        shell_log = log.for_client(SHELL_CLIENT) if log is not None else None
        return front_end(f"{private}/shell.sock", shell_log, watchers)
    finally:
        proxy.close()
        shutil.rmtree(private, ignore_errors=True)
