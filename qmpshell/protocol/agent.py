"""The guest agent's ways: commands it never answers, resynchronising, and ``/guest-exec``.

The agent starts the program (``guest-exec`` with ``capture-output``) and
returns at once with its pid; ``guest-exec-status`` then says whether it has
exited, and once it has, hands over its exit code and its output as base64
(``out-data``, ``err-data``).  So: start, poll until ``exited``, decode.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import dataclass

from qmpshell.errors import CommandFailed, CommandTimeout, QmpShellError, UsageError
from qmpshell.protocol.server import AGENT_NO_REPLY, ServerIdentity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from qmpshell.protocol.session import QmpSession

Ask: TypeAlias = "Callable[[str, dict[str, Any]], Any]"  # a command and its arguments -> its return value
FIRST_POLL = 0.005  # seconds between the first looks at a program's status (echo ends at once)
LAST_POLL = 0.25  # the longest wait between two looks (a long build needs no faster ones)


@dataclass(frozen=True)
class ProgramResult:
    """What a program run in the guest printed (decoded), and how it ended."""

    stdout: str
    stderr: str
    exitcode: int | None  # None when a signal ended it
    signal: int | None = None


def guest_exec(ask: Ask, command_line: str, *, timeout: float | None) -> ProgramResult:
    """``/guest-exec PROGRAM [ARG...]``: the words as a POSIX shell splits them, run in the guest."""
    import shlex  # only for /guest-exec

    try:
        argv = shlex.split(command_line)
    except ValueError as bad:
        raise UsageError(f"/guest-exec: {bad}") from None
    if not argv:
        raise UsageError("usage: /guest-exec PROGRAM [ARG...]")
    return run_program(ask, argv, timeout=timeout)


def run_program(
    ask: Ask, argv: list[str], *, timeout: float | None, clock: Callable[[], float] = time.monotonic
) -> ProgramResult:
    """Run ``argv`` in the guest and wait (up to ``timeout`` seconds, None: as long as it takes)."""
    arguments: dict[str, Any] = {"path": argv[0], "capture-output": True}
    if argv[1:]:
        arguments["arg"] = argv[1:]
    started = ask("guest-exec", arguments)
    if not isinstance(started, dict) or not isinstance(started.get("pid"), int):
        raise CommandFailed(f"guest-exec answered without a pid: {started!r}")
    deadline = None if timeout is None else clock() + timeout
    pause = FIRST_POLL
    while True:
        status = ask("guest-exec-status", {"pid": started["pid"]})
        if isinstance(status, dict) and status.get("exited"):
            return _result(status)
        if deadline is not None and clock() > deadline:
            raise CommandTimeout(f"{argv[0]} (pid {started['pid']}) still runs after {timeout:g} s")
        time.sleep(pause)  # the agent tells nothing when a program ends: it must be asked again
        pause = min(pause * 2, LAST_POLL)


def sends_no_reply(client: QmpSession, command: str) -> bool:
    """Whether a guest agent answers ``command`` with nothing (``success-response: false``).

    What ``guest-info`` said, once asked; else the agent's well-known ones
    (``guest-shutdown``, ``guest-suspend-*``).
    """
    if not getattr(client, "agent", False):
        return False
    server = client.server
    known = server.no_reply if isinstance(server, ServerIdentity) and server.commands else AGENT_NO_REPLY
    return command in known


def resync_agent(client: QmpSession, *, timeout: float) -> None:
    """After a timeout, line a guest agent's replies up again (``guest-sync-delimited``): a late
    reply must not be taken for the next command's."""
    resync = getattr(client, "resync", None)
    if getattr(client, "agent", False) and resync is not None:
        try:
            resync(timeout=timeout)
        except QmpShellError:
            pass


def _result(status: dict[str, Any]) -> ProgramResult:
    code, signal = status.get("exitcode"), status.get("signal")
    return ProgramResult(
        _text(status.get("out-data")),
        _text(status.get("err-data")),
        code if isinstance(code, int) else None,
        signal if isinstance(signal, int) else None,
    )


def _text(data: Any) -> str:
    """Base64 output as text (bytes that are not UTF-8 replaced: it is shown, not kept)."""
    if not isinstance(data, str):
        return ""
    try:
        return base64.b64decode(data, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        raise CommandFailed("guest-exec-status sent output that is not base64") from None
