"""``help`` in HMP mode: what this server can run, and how (over QMP, or passed to HMP).

The descriptions are not QEMU's: a command's line says its usage and what it
runs; QEMU's own help text is shown by passing ``help NAME`` through when the
server has HMP.
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.hmp import commands, info
from qmpshell.hmp.table import COMMANDS, INFO, usage

PASSTHROUGH = "human-monitor-command"


def how(key: str, server: frozenset[str]) -> str:
    """``qmp: query-status``, ``qmpshell``, ``passthrough`` or ``unavailable`` for ``NAME``/``info NAME``."""
    sub = key[5:] if key.startswith("info ") else None
    if (sub in info.SHELL_ANSWERED) if sub is not None else (key in commands.SHELL_ANSWERED):
        return "qmpshell"
    translation = info.INFO.get(sub) if sub is not None else commands.COMMANDS.get(key)
    if translation is not None and translation.qmp[0] in server:
        return "qmp: " + ", ".join(name for name in translation.qmp if name in server)
    return "passthrough" if PASSTHROUGH in server else "unavailable"


def help_text(name: str, server: frozenset[str]) -> str:
    """The list (no name, or ``info``) or one command's usage and what it runs."""
    if not name or name == "info":
        keys = sorted({s.name for s in COMMANDS.values()}) if not name else []
        keys += [f"info {s}" for s in sorted({s.name for s in INFO.values()})]
        rows = [(usage(k), how(k, server)) for k in keys]
        rows = [(u, h) for u, h in rows if h != "unavailable"]
        width = min(48, max((len(u) for u, _ in rows), default=0))
        return "\n".join(f"{u:<{width}}  [{h}]" for u, h in rows)
    key = name if name in COMMANDS or name.startswith("info ") else ""
    if not key:
        return f"unknown HMP command '{name}'"
    spec = COMMANDS[key] if not key.startswith("info ") else INFO.get(key[5:])
    if spec is None:
        return f"unknown HMP command '{name}'"
    key = spec.name if not key.startswith("info ") else f"info {spec.name}"
    return f"usage: {usage(key)}\nruns: {how(key, server)}"


def qmp_commands(name: str, server: frozenset[str]) -> list[str]:
    """The QMP commands ``NAME`` (or ``info NAME``) runs on this server."""
    sub = name[5:].strip() if name.startswith("info ") else None
    spec = COMMANDS.get(name) if sub is None else INFO.get(sub)
    if spec is None:
        return []
    translation = commands.COMMANDS.get(spec.name) if sub is None else info.INFO.get(spec.name)
    return [c for c in translation.qmp if c in server] if translation else []


def hmp_help(name: str, server: frozenset[str], *, shell: str, qmp_help: Callable[[str], str | None]) -> str:
    """``/help`` in HMP mode: the shell's commands and this server's HMP commands, or one of them
    with the help of the first QMP command it runs."""
    text = help_text(name, server)
    if not name:
        return f"{shell}\n\nHMP commands on this server:\n{text}"
    for command in qmp_commands(name, server)[:1]:
        described = qmp_help(command)
        text += f"\n\n{described}" if described else ""
    return text
