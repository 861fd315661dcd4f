"""Reading QEMU's QMP reference manual: the troff Sphinx writes (``qemu-qmp-ref.7``).

Two layouts exist.  QEMU 7.x-9.x: each definition is a subsection
``.SS \\fBNAME\\fP (Command)`` with ``.SS Arguments``, ``.SS Returns``,
``.SS Since``, ``.SS Example`` subsections, members as ``.TP`` terms
``NAME: TYPE (optional)``.  QEMU 10.x: each definition is a ``.TP`` term
``.B Command  NAME  (Since: X)`` with ``.B Arguments`` / ``Errors`` / ``Return``
field lists whose bullets read ``NAME (TYPE, optional) -- text``, and
``.IP "Example:"`` before each example.  Both put examples in ``.nf``/``.fi``
blocks.  The page is parsed line by line; what is not understood is skipped.
"""

from __future__ import annotations

import re

from qmpshell.docs.model import Definition, Include, Manual, MemberDoc

_ESCAPE = re.compile(r"\\(\(..|\[[^\]]*\]|f\(..|f\[[^\]]*\]|f.|.)")
_NAMED = {
    "dq": '"',
    "aq": "'",
    "bu": "*",
    "em": "--",
    "en": "-",
    "ga": "`",
    "ti": "~",
    "ha": "^",
    "lq": '"',
    "rq": '"',
    "oq": "'",
    "cq": "'",
    "rs": "\\",
    "at": "@",
    "co": "(c)",
    "mi": "-",
}
_CHARS = {"-": "-", "e": "\\", "&": "", "%": "", " ": " ", "(": "", "|": "", "^": "", "\\": "\\", ".": "."}
_KINDS = {"Command", "Event", "Object", "Enum", "Alternate"}
_OLD_TITLE = re.compile(r"(\S+) \((Command|Event|Object|Enum|Alternate)\)")
_NEW_TITLE = re.compile(r"(Command|Event|Object|Enum|Alternate)\s+(\S+)(?:\s+\(Since: ([^)]*)\))?")
_OLD_TERM = re.compile(r"(\S+?): (.+?)( \(optional\))?(?: \(If: .*\))?")
_NEW_ITEM = re.compile(r"(\S+) \((.+?)(, optional)?\)(?: -- (.*))?", re.S)
_MEMBERS_OF = re.compile(
    r"(?:When (\S+) is (\S+): )?The members of (\S+?)(?: when (\S+) is \"?([^\"\s]+)\"?)?(?: \(If: .*\))?\.?",
    re.S,
)
_EMBEDDED = re.compile(r"(.*\S) (\.(?:INDENT|UNINDENT|sp|IP)\b.*)")
_TEXT_SECTIONS = {
    "Returns": "returns",
    "Return": "returns",
    "Errors": "errors",
    "Note": "notes",
    "Notes": "notes",
}
_ITEM_SECTIONS = {"Arguments": "members", "Members": "members", "Features": "features", "Values": "values"}


def unescape(text: str) -> str:
    """Troff's escapes as plain text: fonts dropped, named characters written out."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("("):
            return _NAMED.get(code[1:], "")
        if code.startswith("f") or code.startswith("["):
            return ""
        return _CHARS.get(code, code)

    return _ESCAPE.sub(one, text)


def version_of(lines: list[str]) -> str:
    """The QEMU version in the ``.TH`` line (``.TH "QEMU-QMP-REF" "7" "date" "7.2.22" "QEMU"``)."""
    for line in lines[:80]:
        if line.startswith(".TH "):
            fields = re.findall(r'"([^"]*)"', line)
            return fields[3] if len(fields) > 3 else ""
    return ""


def parse_manual(text: str, source: str) -> Manual:
    """Every definition of the page, whichever layout it has (``pages.lazy_manual`` reads on demand)."""
    lines = text.splitlines()
    manual = Manual(source, version_of(lines))
    reader = Reader(manual, new_layout=is_new_layout(text))
    for line in lines:
        reader.feed(line)
    reader.close()
    return manual


def is_new_layout(text: str) -> bool:
    """QEMU 10.x's layout: definitions are ``.B Command  NAME`` terms, not ``.SS`` subsections."""
    return re.search(r"^\.B (?:Command|Event|Object|Enum|Alternate)  \S", text, re.M) is not None


class Reader:
    """The state of one pass over the page: the definition, section and member being read."""

    def __init__(self, manual: Manual, *, new_layout: bool) -> None:
        self.manual = manual
        self.new = new_layout
        self.current: Definition | None = None
        self.section = (
            ""  # '' (the body), members, features, values, returns, errors, notes, since, example, skip
        )
        self.item: list[str] | None = None  # the text of the member being read
        self.item_depth = 0  # the .INDENT depth of the list the member is an item of
        self.depth = 0
        self.term_next = False  # the line after .TP is a term
        self.literal: list[str] | None = None
        self.example_next = False

    def feed(self, line: str) -> None:
        embedded = _EMBEDDED.match(line) if self.literal is None and not line.startswith(".") else None
        if embedded:  # 10.x writes a member's nested list right after its dash: "x -- .INDENT 2.0"
            self.feed(embedded.group(1))
            self.feed(embedded.group(2))
            return
        if self.literal is not None:
            self._literal_line(line)
        elif line.startswith('.\\"') or line.startswith("'\\\""):
            return
        elif line.startswith(".SH"):
            self._close_definition()
        elif line.startswith(".SS"):
            self._subsection(unescape(line[3:].strip()))
        elif self.current is not None or self.new:
            self._body_line(line)

    def close(self) -> None:
        self._close_definition()

    # -- structure ----------------------------------------------------------------

    def _subsection(self, title: str) -> None:
        match = _OLD_TITLE.fullmatch(title)
        if match and not self.new:
            self._start(match.group(1), match.group(2), "")
            return
        self._finish_item()
        if self.current is None:
            return
        if title in ("Example", "Examples"):
            self.section = "example"
        elif title == "Since":
            self.section = "since"
        elif title in _TEXT_SECTIONS or title in _ITEM_SECTIONS:
            self.section = _TEXT_SECTIONS.get(title) or _ITEM_SECTIONS[title]
        elif title in ("If", "TODO"):
            self.section = "skip"
        else:
            self._close_definition()

    def _start(self, name: str, kind: str, since: str) -> None:
        self._close_definition()
        self.current = Definition(name, kind.lower(), since=since)
        self.section = ""

    def _close_definition(self) -> None:
        self._finish_item()
        if self.current is not None:
            definition = self.current
            for key in ("text", "returns", "errors", "notes", "since"):
                setattr(definition, key, _tidy(getattr(definition, key)))
            self.manual.definitions.setdefault(definition.name, definition)
        self.current = None
        self.section = ""

    # -- lines --------------------------------------------------------------------

    def _body_line(self, line: str) -> None:
        if self.term_next and not line.startswith((".INDENT", ".UNINDENT")):
            self.term_next = False
            self._term(unescape(line[3:] if line.startswith(".B ") else line))
            return
        if not line.startswith("."):
            self._text(unescape(line))
        elif line.startswith(".TP"):
            self._finish_item()
            self.term_next = True
        elif line.startswith(".nf"):
            self.literal = []
        elif line.startswith(".IP \\(bu"):
            self._bullet()
        elif line.startswith(".IP ") and line[4:5].isdigit() and self.item is not None:
            self.item.append(line[4:].split()[0])  # a numbered list inside a member's text
        elif line.startswith('.IP "Example'):
            self.example_next = True
        elif line.startswith('.IP "Note'):
            self.section = "notes"
        elif line.startswith((".sp", ".PP")):
            self._text("\n\n")
        elif line.startswith(".INDENT"):
            self.depth += 1
        elif line.startswith(".UNINDENT"):
            self.depth -= 1
            if self.depth < self.item_depth:  # the list the member was an item of has ended
                self._finish_item()

    def _bullet(self) -> None:
        """A bullet: a member (10.x field lists), or a list inside a member's or a section's text."""
        if self.item is not None and self.depth > self.item_depth:
            self.item.append("-")
            return
        self._finish_item()
        if self.section in ("members", "features", "values") and self.new:
            self._open_item([])
        else:
            self._text("\n- ")

    def _open_item(self, parts: list[str]) -> None:
        self.item, self.item_depth = parts, self.depth

    def _term(self, term: str) -> None:
        """The line after ``.TP``: a definition (10.x), a section name (10.x) or a member (7.x)."""
        if self.new:
            match = _NEW_TITLE.fullmatch(term.strip())
            if match:
                self._start(match.group(2), match.group(1), match.group(3) or "")
            elif self.current is not None:
                name = term.strip()
                self.section = _TEXT_SECTIONS.get(name) or _ITEM_SECTIONS.get(name) or self.section
                if name == "Alternatives":
                    self.section = "members"
            return
        if self.current is not None and self.section in ("members", "features", "values"):
            self._open_item([term])
        elif self.current is not None:
            self._text(term + "\n")

    def _text(self, text: str) -> None:
        if self.current is None:
            return
        if self.item is None and text.startswith(("NOTE:", "Note:")):
            self.section = "notes"
            text = text.split(":", 1)[1]
        if self.item is not None:
            self.item.append(text)
            return
        if self.section in ("members", "features", "values"):
            self.section = "notes" if self.new else self.section
            if not self.new:
                return
        key = {"": "text", "example": "notes", "skip": ""}.get(self.section, self.section)
        if key:
            setattr(
                self.current, key, getattr(self.current, key) + text + ("" if text.endswith("\n") else "\n")
            )

    def _literal_line(self, line: str) -> None:
        if line.startswith(".fi"):
            block, self.literal = "\n".join(self.literal or []), None
            if self.current is not None and (self.example_next or self.section == "example"):
                self.current.examples.extend(_split_numbered(block))
            elif self.current is not None:
                self._text("\n" + block + "\n")
            self.example_next = False
        elif not line.startswith((".ft", '.\\"')):
            assert self.literal is not None
            self.literal.append(unescape(line))

    def _finish_item(self) -> None:
        if self.item is None or self.current is None:
            self.item = None
            return
        text = _tidy(" ".join(part.strip() for part in self.item if part.strip()))
        self.item = None
        definition = self.current
        included = (
            _MEMBERS_OF.fullmatch(text.split("\n")[0].strip())
            if text.startswith(("The members", "When"))
            else None
        )
        if included is not None:
            tag, value = (
                included.group(1) or included.group(4) or "",
                included.group(2) or included.group(5) or "",
            )
            definition.includes.append(Include(included.group(3), tag, value))
            return
        member = _member(text, new=self.new)
        if member is None:
            return
        if self.section == "features":
            definition.features.append(member)
        elif self.section == "members":
            definition.members.append(member)


def _member(text: str, *, new: bool) -> MemberDoc | None:
    """A member item: ``NAME (TYPE, optional) -- text`` (10.x) or ``NAME: TYPE (optional)`` + text (7.x)."""
    if new:
        match = _NEW_ITEM.fullmatch(text)
        if match:
            return MemberDoc(
                match.group(1), match.group(2), bool(match.group(3)), _tidy(match.group(4) or "")
            )
        name, _, rest = text.partition(" -- ")
        return MemberDoc(name.strip(), "", False, _tidy(rest)) if name.strip() else None
    head, _, rest = text.partition(" ")
    term_end = _old_term_end(text)
    term, body = text[:term_end], text[term_end:]
    match = _OLD_TERM.fullmatch(term)
    if match:
        return MemberDoc(match.group(1), match.group(2), bool(match.group(3)), _tidy(body))
    return MemberDoc(head.rstrip(":"), "", False, _tidy(rest)) if head else None


def _old_term_end(text: str) -> int:
    """Where the 7.x term line ends inside the joined item (the term was its first part)."""
    match = re.match(r"\S+?: (?:array of )?\S+(?: \(optional\))?(?: \(If: [^)]*\))?", text)
    return match.end() if match else 0


def _split_numbered(block: str) -> list[str]:
    """A 7.x example block holding ``1.``, ``2.``...: one example each."""
    parts = re.split(r"(?m)^\s*\d+\.\s*$", block)
    return [part.strip("\n") for part in parts if "->" in part or "<-" in part] or [block]


def _tidy(text: str) -> str:
    """Paragraphs kept (blank lines), lines inside a paragraph joined, spaces collapsed."""
    paragraphs = [re.sub(r"[ \t]*\n[ \t]*", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(re.sub(r"  +", " ", p) for p in paragraphs if p)
