"""The small formatted texts: the prompt (which language, continuation) and the status bar."""

from __future__ import annotations

from prompt_toolkit.formatted_text import StyleAndTextTuples

from qmpshell.repl.connection import Status

QMP_PROMPT = "qmp> "
HMP_PROMPT = "hmp> "
CONTINUATION = "...> "


def prompt_fragments(hmp: bool, continuing: bool) -> StyleAndTextTuples:
    """``qmp>`` or ``hmp>``, or ``...>`` while a statement is unfinished."""
    if continuing:
        return [("class:prompt.continuation", CONTINUATION)]
    if hmp:
        return [("class:prompt.hmp", HMP_PROMPT)]
    return [("class:prompt", QMP_PROMPT)]


def status_fragments(status: Status, *, busy: bool) -> StyleAndTextTuples:
    """address | QEMU version | run state | mode | events seen, and what is going on."""
    parts = [
        status.address,
        f"QEMU {status.version or '?'}",
        status.run_state,
        "HMP" if status.hmp else "QMP",
        f"events: {status.events}",
    ]
    fragments: StyleAndTextTuples = [("class:status", " " + " \u2502 ".join(parts) + " ")]
    if status.lost:
        fragments.append(("class:status.lost", f" DISCONNECTED: {status.lost} "))
    elif busy:
        fragments.append(("class:status.busy", " waiting for the reply (Ctrl-C stops waiting) "))
    return fragments
