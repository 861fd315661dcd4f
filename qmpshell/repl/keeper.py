"""Keeping the full-screen shell connected: a lost connection, reconnecting, a launched QEMU's life.

The event loop's ticker calls ``watch`` and ``show_qemu_output`` a few times a
second; ``/reconnect`` and ``/relaunch`` call ``try_reconnect`` and ``relaunch``.
Work that blocks (connecting, waiting for a relaunched QEMU's socket) runs on a
worker through ``in_background``; everything here else runs on the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from qmpshell.config import Settings
from qmpshell.errors import QmpShellError
from qmpshell.protocol.launch import LaunchedQemu
from qmpshell.repl import show
from qmpshell.repl.connection import Connection
from qmpshell.repl.launched import LaunchWatch
from qmpshell.repl.panes import EventFeed, OutputLog

Background = Callable[[Callable[[], Any], Callable[[Any], None]], None]


class ConnectionKeeper:
    """Notes a lost connection once, reconnects when asked (or once a second), follows ``--launch``."""

    def __init__(
        self,
        connection: Connection,
        settings: Settings,
        *,
        log: OutputLog,
        feed: EventFeed,
        launched: LaunchedQemu | None,
        redraw: Callable[[], None],
        in_background: Background,
        leave: Callable[[], None],
        on_reconnected: Callable[[], None],
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.launched = LaunchWatch(launched) if launched is not None else None  # None: not --launch
        self.farewell = ""  # said on stderr after the screen is gone (why the shell left)
        self._log = log
        self._feed = feed
        self._redraw = redraw
        self._in_background = in_background
        self._leave = leave
        self._on_reconnected = on_reconnected
        self._was_lost = False
        self._reconnecting = False

    @property
    def qemu_exited(self) -> bool:
        """A launched QEMU is gone: nothing is retried until ``/relaunch``."""
        return self.launched is not None and self.launched.state != "running"

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
            again = "; retrying every second (/reconnect tries now)" if self.settings.reconnect else ""
            self._log.add(show.error(f"connection lost: {lost}{again}"))
            self._redraw()
        return bool(lost) and self.settings.reconnect

    def show_qemu_output(self) -> None:
        """What a launched QEMU writes on stderr while it runs (warnings) shows as notices."""
        if self.launched is None or self.launched.state != "running":
            return
        lines = self.launched.qemu.new_output()
        for line in lines:
            self._log.add(show.notice(line))
        if lines:
            self._redraw()

    def _say_qemu_exited(self, qemu: LaunchedQemu) -> None:
        """Say that the launched QEMU exited and what it said; after a clean exit (``quit``), leave."""
        qemu.new_output()  # shown below, in the exit message's tail
        message = qemu.exit_message()
        if qemu.returncode == 0:
            self.farewell = message
            self._leave()
            return
        self._log.add(show.error(message))
        self._log.add(show.info("/relaunch starts QEMU again with the same arguments; Ctrl-D leaves"))
        self._redraw()

    # -- /relaunch -----------------------------------------------------------------------

    def relaunch(self) -> None:
        """``/relaunch``: start the launched QEMU again (here, on the event loop's thread, which QEMU's
        parent-death signal follows), then wait for its socket and reconnect on a worker."""
        watch = self.launched
        if watch is None:
            self._log.add(show.error("/relaunch: QEMU was not started by this shell (--launch)"))
            return
        if watch.state != "exited":
            self._log.add(show.error("/relaunch: QEMU is still running"))
            return
        try:
            watch.qemu.spawn()
        except QmpShellError as err:
            self._log.add(show.failure(err))
            return
        watch.state = "relaunching"
        self._log.add(show.info(f"relaunching {' '.join(watch.qemu.argv)}"))
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
            self._log.add(show.failure(error))
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
        status = self.connection.status()
        server = f"{status.server or 'QEMU'} {status.version or 'unknown version'}"
        self._log.add(
            show.info(
                f"reconnected to {self.connection.address} ({server}); "
                "events sent while disconnected were not received"
            )
        )
        self._on_reconnected()
