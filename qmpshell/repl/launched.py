"""The interactive shell's view of a QEMU it started with ``--launch``.

A lost connection to a launched QEMU means one of two things: QEMU is going
away (``quit``, a crash, a kill), and its socket will never come back, or the
connection alone broke, and reconnecting works as for any QEMU.  The socket
closes a moment before the process ends, so the shell waits ``EXIT_GRACE``
before it decides.
"""

from __future__ import annotations

import sys
import time

from qmpshell.output.safe import visible
from qmpshell.protocol.launch import EXIT_GRACE, LaunchedQemu


class LaunchWatch:
    """What the shell knows of the QEMU it launched: ``running``, ``exited`` or ``relaunching``."""

    def __init__(self, qemu: LaunchedQemu) -> None:
        self.qemu = qemu
        self.state = "running"
        self._lost_at: float | None = None

    def holds_back(self) -> bool:
        """While the connection is lost: True when reconnecting must wait (or never come, as QEMU
        exited); False when QEMU still runs after the grace period (then reconnect as usual)."""
        if self.state != "running":
            return True
        if self._lost_at is None:
            self._lost_at = time.monotonic()
        return self.qemu.exited() or time.monotonic() - self._lost_at < EXIT_GRACE

    def connected(self) -> None:
        self._lost_at = None

    def gone(self) -> bool:
        """True once, when QEMU is seen to have exited."""
        if self.state == "running" and self.qemu.exited():
            self.state = "exited"
            self._lost_at = None
            return True
        return False


def say(text: str) -> None:
    """``qmpshell: TEXT`` on stderr once the screen is gone; nothing if stderr is."""
    try:
        sys.stderr.write(visible(f"qmpshell: {text}") + "\n")  # QEMU's words: controls shown
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
