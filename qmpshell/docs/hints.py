"""Documentation while typing: one sentence per argument for the completion menu and the toolbar.

Completion runs for every key typed, so a (command, parent path) pair is
looked up in the manual once and kept: later menus cost a dictionary lookup.
The manual itself is read on the completion thread the first time a menu
for arguments opens (never at start-up); the toolbar, drawn on the UI thread,
only uses a manual already read and never waits for one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from qmpshell.docs.library import ServerDocs
from qmpshell.docs.model import Manual
from qmpshell.docs.render import first_sentence, member_doc
from qmpshell.language.syntax import Kind, tokenize
from qmpshell.schema.index import SchemaIndex


class DocHints:
    """First sentences of argument docs for one server's schema and documentation."""

    def __init__(self, docs: ServerDocs, index: SchemaIndex) -> None:
        self.docs = docs
        self.index = index
        self._sentences: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()
        self._loading = False
        self.on_loaded: Callable[[], None] | None = None  # the toolbar redraws once the docs are read

    def manual(self, *, wait: bool) -> Manual | None:
        """The manual; without ``wait`` only one already read (a read is started in the background)."""
        if self.docs.read:
            return self.docs.manual(self.index)
        if wait:
            with self._lock:
                return self.docs.manual(self.index)
        with self._lock:
            if not self._loading:
                self._loading = True
                threading.Thread(target=self._load, daemon=True, name="qmpshell-docs").start()
        return None

    def _load(self) -> None:
        self.manual(wait=True)
        if self.on_loaded is not None:
            self.on_loaded()

    def sentence(self, command: str, parents: tuple[str, ...], name: str, *, wait: bool = True) -> str:
        """The first sentence of argument ``parents.name`` of ``command`` ('' when undocumented)."""
        key = (command, ".".join(parents), name)
        found = self._sentences.get(key)
        if found is not None:
            return found
        manual = self.manual(wait=wait)
        if manual is None:
            return ""
        doc = member_doc(self.index, manual, command, [*parents, name])
        text = first_sentence(doc.text) if doc is not None and doc.text else ""
        self._sentences[key] = text
        return text

    def meta(self, command: str, parents: tuple[str, ...], name: str, meta: str) -> str:
        """A menu entry's meta: its type, then its doc's first sentence."""
        sentence = self.sentence(command, parents, name)
        return f"{meta} - {sentence}" if sentence else meta

    def at_cursor(self, text: str) -> str:
        """``name: first sentence`` of the argument whose key or value the cursor is in ('' if none)."""
        if not text or text[-1].isspace():  # between arguments: the command's signature says more
            return ""
        tokens = tokenize(text)
        command = next((t.text for t in tokens if t.kind is Kind.COMMAND), "")
        keys = [t for t in tokens if t.kind is Kind.KEY]
        if not command or not keys or command not in self.index.commands:
            return ""
        *parents, name = keys[-1].text.split(".")
        sentence = self.sentence(command, tuple(parents), name, wait=False)
        return f"{keys[-1].text}: {sentence}" if sentence else ""
