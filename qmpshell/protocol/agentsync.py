"""The guest agent's resynchronisation on the byte stream a client reads.

qemu-ga has no greeting; a client learns it is one, and lines replies up again
after giving up on one, with ``guest-sync-delimited``: the agent answers with a
``0xFF`` byte and then the id it was given, so everything before that byte is
skipped (the agent's documentation prescribes it).  The flags here are read by
the client's reader thread.
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.errors import CommandFailed, ConnectionLost
from qmpshell.protocol.framing import StreamDecoder
from qmpshell.protocol.pending import QmpError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Execute: TypeAlias = "Callable[..., Any]"


class AgentSync:
    """``probing``: no greeting came, the first message may still be a late one; ``skipping``:
    bytes are dropped up to the agent's next ``0xFF``."""

    def __init__(self) -> None:
        self.probing = False
        self.skipping = False

    def resync(self, execute: Execute, *, timeout: float) -> bool:
        """``guest-sync-delimited`` with a random id; True when the agent echoed it.

        Whatever arrives before the agent's ``0xFF`` (a late reply to a command
        given up on) is skipped, so the replies that follow line up again.
        """
        import random  # only for the guest agent

        token = random.randrange(1, 2**31)
        self.skipping = True
        try:
            answer = execute("guest-sync-delimited", {"id": token}, timeout=timeout)
        except QmpError:
            return False
        finally:
            self.skipping = False
        return bool(answer == token)

    def handshake(self, execute: Execute, *, timeout: float) -> bool:
        """No greeting came: True when a guest agent answers its handshake (``resync``).

        Nothing else is sent first (no ``0xFF`` of our own): should a busy QEMU
        accept us meanwhile, it answers the one command with our id, which is dropped.
        """
        self.probing = True
        try:
            return self.resync(execute, timeout=timeout)
        except (CommandFailed, ConnectionLost):
            return False
        finally:
            self.probing = False

    def after_sentinel(self, data: bytes, decoder: StreamDecoder) -> bytes:
        """The bytes after the guest agent's 0xFF (and none before it, nor any half message kept).

        While probing for an agent, a QMP greeting is no stale byte: a QEMU slow to
        greet (a loaded machine, a distant server) is still a QEMU, and it answers
        the probe with an error that ends it.
        """
        sentinel = data.find(b"\xff")
        if self.probing and b'"QMP"' in (data if sentinel < 0 else data[:sentinel]):
            self.skipping = False
            return data
        if sentinel < 0:
            return b""
        self.skipping = False
        decoder.reset()
        return data[sentinel + 1 :]
