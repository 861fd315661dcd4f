"""The toolbar's signature line: what the command on the input line takes (in HMP, its usage line), or
the doc of the argument being typed (once QEMU's documentation has been read)."""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.repl.completion import doc_hints
from qmpshell.shell import Shell


def signature_line(shell: Shell, text: str, *, redraw: Callable[[], None]) -> str:
    """For ``text`` before the cursor: the argument's doc while a value is typed, else the signature."""
    if shell.hmp or text.lstrip().startswith("/hmp "):
        from qmpshell.hmp.complete import usage_at  # the HMP usage line of the command typed

        return usage_at(text if shell.hmp else text.lstrip()[5:])
    if shell.knowledge is None:
        return ""  # the first prompt: drawn before the schema modules are imported (on the worker)
    from qmpshell.schema.index import index_of
    from qmpshell.schema.suggest import signature_at

    index = index_of(shell.knowledge)
    if index is None:
        return ""
    if "=" in text and not text.endswith("."):  # an argument (not a dotted key's members): its doc
        hints = doc_hints(shell, on_loaded=redraw)
        documented = hints.at_cursor(text) if hints is not None else ""
        if documented:
            return documented
    return signature_at(index, text)
