"""``qmpshell --hmp-coverage [ADDRESS]``: which HMP commands run over QMP, one tab-separated line each.

``NAME<TAB>qmp<TAB>QMP-COMMANDS`` (``-`` for what qmpshell answers itself),
``NAME<TAB>passthrough`` (only through the server's own HMP) or
``NAME<TAB>unavailable``; ``info`` subcommands are written ``info NAME``; the
last line sums it up.  The command list is the server's own ``help`` when it
has HMP, else qmpshell's table.  Without a server: what qmpshell can translate
at all (the rest is ``passthrough``: it needs a QEMU's own HMP).
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.hmp import commands, info
from qmpshell.hmp.plan import Translation
from qmpshell.hmp.table import COMMANDS, INFO, QEMU_72_COMMANDS, QEMU_72_INFO

PASSTHROUGH = "human-monitor-command"


def table_names() -> tuple[list[str], list[str]]:
    """The commands and info subcommands of qmpshell's table (QEMU 7.2 and the newer ones)."""
    top = list(dict.fromkeys([*QEMU_72_COMMANDS, *(s.name for s in COMMANDS.values())]))
    subs = list(dict.fromkeys([*QEMU_72_INFO, *(s.name for s in INFO.values())]))
    return sorted(top), sorted(subs)


def line(
    key: str, translation: Translation | None, shell: bool, server: frozenset[str] | None
) -> tuple[str, bool]:
    """One report line and whether it runs over QMP."""
    if shell:
        return f"{key}\tqmp\t-", True
    if translation is not None and (server is None or translation.qmp[0] in server):
        used = [name for name in translation.qmp if server is None or name in server]
        return f"{key}\tqmp\t{','.join(used)}", True
    if server is None or PASSTHROUGH in server:
        return f"{key}\tpassthrough", False
    return f"{key}\tunavailable", False


def report(server: frozenset[str] | None, names: tuple[list[str], list[str]] | None = None) -> list[str]:
    """The report's lines for ``server``'s commands (None: no server), the summary last."""
    top, subs = names or table_names()
    out: list[str] = []
    over_qmp = [0, 0]
    for name in top:
        text, ok = line(name, commands.COMMANDS.get(name), name in commands.SHELL_ANSWERED, server)
        out.append(text)
        over_qmp[0] += ok
    for name in subs:
        text, ok = line(f"info {name}", info.INFO.get(name), name in info.SHELL_ANSWERED, server)
        out.append(text)
        over_qmp[1] += ok
    out.append(
        f"hmp coverage: {over_qmp[0]} of {len(top)} commands and {over_qmp[1]} of {len(subs)}"
        " info subcommands run over QMP"
    )
    return out


def server_names(help_text: str, info_text: str) -> tuple[list[str], list[str]]:
    """The names in a server's ``help`` and ``info`` output (first name of ``cont|c``)."""
    top: list[str] = []
    for row in help_text.replace("\r\n", "\n").split("\n"):
        is_sub = row.startswith("info ") and not row.startswith("info [")
        if row and not row[0].isspace() and not is_sub and not row.startswith("["):
            name = row.split()[0].split("|")[0]
            if name and name[0].isalpha() and name not in top:
                top.append(name)
    subs = []
    for row in info_text.replace("\r\n", "\n").split("\n"):
        if row.startswith("info ") and not row.startswith("info [") and row.split()[1] not in subs:
            subs.append(row.split()[1])
    return sorted(top), sorted(subs)


def server_report(server: frozenset[str], ask_hmp: Callable[[str], str]) -> list[str]:
    """The report for a connected server; ``ask_hmp`` runs an HMP line (only if the server has HMP)."""
    names = None
    if PASSTHROUGH in server:
        help_text, info_text = ask_hmp("help"), ask_hmp("info")
        if help_text and info_text:
            names = server_names(help_text, info_text)
    return report(server, names)
