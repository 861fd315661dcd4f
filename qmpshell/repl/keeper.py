"""Keeping the shell connected, for both front-ends: a lost connection, reconnecting, a launched QEMU's life.

Written once for the full screen and the line mode, which differ only in how
they show what the keeper says.  Each front-end calls ``tick`` a few times a
second (the full screen's ticker, the line mode's events thread); ``/reconnect``
and ``/relaunch`` call ``try_reconnect`` and ``relaunch``.  What the keeper has
to say goes through ``say``; work that blocks (connecting, waiting for a
relaunched QEMU's socket) runs through ``in_background``, whose ``then`` the
front-end runs where its output may be touched (the event loop; the line
mode's output lock).  The keeper's own state is touched only there too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prompt_toolkit.formatted_text import StyleAndTextTuples

from qmpshell.config import Settings
from qmpshell.errors import QmpShellError
from qmpshell.protocol.launch import EXIT_GRACE, LaunchedQemu
from qmpshell.qmptypes import Message
from qmpshell.repl import styled
from qmpshell.repl.choice import Where
from qmpshell.repl.connection import EventRelay, Link, lost_text, reconnected_text
from qmpshell.repl.fleet import open_link
from qmpshell.repl.launched import LaunchWatch, say
from qmpshell.repl.panes import EventFeed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from qmpshell.protocol.logfile import MessageLog  # a type: datetime and redaction load only with -l

Background: TypeAlias = "Callable[[Callable[[], Any], Callable[[Any], None]], None]"
Say = Callable[[list[StyleAndTextTuples]], None]

RECONNECT_INTERVAL = 1.0  # seconds between reconnect attempts while the connection is lost


def open_session(
    address: Where,
    settings: Settings,
    *,
    log: MessageLog | None,
    on_event: Callable[[Message], None] | None = None,
) -> tuple[Link, EventFeed]:
    """The link an interactive session keeps, and the feed its events go to (each target in a colour).

    ``on_event``: called after the feed has the event (the line mode prints it)."""
    relay = EventRelay()
    connection = open_link(address, settings, log=log, on_event=relay)
    return connection, session_feed(connection, relay, settings, on_event=on_event)


def session_feed(
    link: Link, relay: EventRelay, settings: Settings, *, on_event: Callable[[Message], None] | None = None
) -> EventFeed:
    """The events pane's feed of an open ``link``, which gives its events to ``relay``: the events
    that came before it first."""
    feed = EventFeed.for_settings(settings)
    feed.colours = {name: number for number, name in enumerate(link.members())}

    def arrived(event: Message) -> None:
        feed.add(event)
        if on_event is not None:
            on_event(event)

    relay.attach(arrived)
    return feed


class ConnectionKeeper:
    """Notes a lost connection once, reconnects when asked (or once a second), follows ``--launch``."""

    def __init__(
        self,
        connection: Link,
        settings: Settings,
        *,
        feed: EventFeed,
        launched: LaunchedQemu | None,
        say: Say,
        in_background: Background,
        leave: Callable[[], None],
        on_reconnected: Callable[[], None],
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.launched = LaunchWatch(launched) if launched is not None else None  # None: not --launch
        self.farewell = ""  # said on stderr once the front-end is gone (why the shell left)
        self._feed = feed
        self._say = say
        self._in_background = in_background
        self._leave = leave
        self._on_reconnected = on_reconnected
        self._was_lost = False
        self._reconnecting = False
        self._tried_at = 0.0  # time.monotonic() of the last reconnect attempt

    @property
    def qemu_exited(self) -> bool:
        """A launched QEMU is gone: nothing is retried until ``/relaunch``."""
        return self.launched is not None and self.launched.state != "running"

    def tick(self) -> None:
        """A few times a second: QEMU's stderr lines, a lost connection noted once, and (unless
        ``--no-reconnect``) a reconnect tried once a second."""
        self.show_qemu_output()
        if self.watch() and time.monotonic() - self._tried_at >= RECONNECT_INTERVAL:
            self._tried_at = time.monotonic()
            self.try_reconnect()

    def watch(self) -> bool:
        """Note a lost connection once; True while it is lost and reconnecting is on."""
        lost = self.connection.lost
        if self.launched is not None and not lost:
            self.launched.connected()
        elif self.launched is not None and self.launched.holds_back():
            if self.launched.gone():
                self._say_qemu_exited(self.launched.qemu)
            return False  # the socket of a QEMU that exited never comes back by itself
        if lost and not self._was_lost:
            self._was_lost = True
            self._say([styled.error(lost_text(lost, retrying=self.settings.reconnect))])
        return bool(lost) and self.settings.reconnect

    def after_statement(self) -> None:
        """A statement that ends a launched QEMU (``quit``): wait up to ``EXIT_GRACE`` for it to go,
        so that a clean exit leaves before the next prompt (the line mode cannot take one back)."""
        watch = self.launched
        if watch is None or watch.state != "running":
            return
        # The reply to quit comes a moment before the connection ends; its SHUTDOWN event before both.
        ending = self.connection.lost or self.connection.client.shutdown_reason == "host-qmp-quit"
        if ending and watch.qemu.exited(wait=EXIT_GRACE) and watch.gone():
            self._say_qemu_exited(watch.qemu)

    def show_qemu_output(self) -> None:
        """What a launched QEMU writes on stderr while it runs (warnings) shows as notices."""
        if self.launched is None or self.launched.state != "running":
            return
        lines = self.launched.qemu.new_output()
        if lines:
            self._say([styled.notice(line) for line in lines])

    def _say_qemu_exited(self, qemu: LaunchedQemu) -> None:
        """Say that the launched QEMU exited and what it said; after a clean exit (``quit``), leave."""
        qemu.new_output()  # shown below, in the exit message's tail
        message = qemu.exit_message()
        if qemu.returncode == 0:
            self.farewell = message
            self._leave()
            return
        self._say([styled.error(f"{message}; /relaunch starts it again, Ctrl-D leaves")])

    def goodbye(self) -> None:
        """Once the front-end is gone: why the shell left, if a launched QEMU's clean exit made it."""
        if self.farewell:
            say(self.farewell)

    # -- /relaunch -----------------------------------------------------------------------

    def relaunch(self) -> None:
        """``/relaunch``: start the launched QEMU again (here, on the front-end's long-lived thread,
        which QEMU's parent-death signal follows), then wait for its socket and reconnect on a worker."""
        watch = self.launched
        if watch is None:
            self._say([styled.error("/relaunch: QEMU was not started by this shell (--launch)")])
            return
        if watch.state != "exited":
            self._say([styled.error("/relaunch: QEMU is still running")])
            return
        try:
            watch.qemu.spawn()
        except QmpShellError as err:
            self._say([styled.failure(err)])
            return
        watch.state = "relaunching"
        self._say([styled.info(f"relaunching {' '.join(watch.qemu.argv)}")])
        self._in_background(self._relaunch_connect, self._relaunched)

    def _relaunch_connect(self) -> QmpShellError | None:
        assert self.launched is not None
        try:
            self.launched.qemu.wait_ready()
        except QmpShellError as err:
            return err
        return None if self.connection.reconnect() else QmpShellError("cannot connect to the new QEMU")

    def _relaunched(self, error: QmpShellError | None) -> None:
        assert self.launched is not None
        if error is not None:
            self.launched.state = "exited"
            self._say([styled.failure(error)])
            return
        self.launched.state = "running"
        self._reconnected(True)

    # -- reconnecting --------------------------------------------------------------------

    def try_reconnect(self) -> None:
        if self._reconnecting or not self.connection.lost:
            return
        self._reconnecting = True
        self._in_background(self.connection.reconnect, self._reconnected)

    def _reconnected(self, ok: bool) -> None:
        self._reconnecting = False
        if not ok:
            return
        self._was_lost = False
        self._feed.add_separator(f"reconnected {time.strftime('%H:%M:%S')}")
        self._say([styled.info(reconnected_text(self.connection))])
        self._on_reconnected()
