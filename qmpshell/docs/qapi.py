"""Reading a QEMU source tree's ``qapi/*.json``: the doc comments the manual is generated from.

A doc block is ``##`` lines around ``# @NAME:`` and its text, followed by the
definition (``{ 'command': 'NAME', 'data': {...} }``).  Member sections are
``@member: text``; tagged sections ``Returns:``, ``Errors:``, ``Since:``,
``Note:``/``Notes:``, ``Features:``; examples are ``Example:`` sections before
QEMU 9.1 and ``.. qmp-example::`` blocks after.  ``@name`` and ```name```
references read as the plain name.  The definitions are QAPI's JSON dialect
(single quotes): read as JSON once the quotes are swapped, never evaluated.
"""

from __future__ import annotations

import json
import os
import re

from qmpshell.docs.model import Definition, Include, Manual, MemberDoc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SECTION = re.compile(r"(Returns|Errors|Since|Notes?|Features|Example|Examples|TODO|Details)\s*:\s*(.*)")
_MEMBER = re.compile(r"@([\w-]+):\s*(.*)")
_REFERENCE = re.compile(r"@([\w-]+)|`([^`]+)`")
_KINDS = ("command", "event", "struct", "union", "enum", "alternate")


def qapi_folder(directory: str) -> str:
    """DIR may be the source tree's root or its ``qapi/`` folder."""
    inner = os.path.join(directory, "qapi")
    return inner if os.path.isdir(inner) else directory


def tree_version(directory: str) -> str:
    """The tree's ``VERSION`` file (``10.0.50``), '' when there is none."""
    root = os.path.dirname(qapi_folder(directory).rstrip("/"))
    try:
        with open(os.path.join(root, "VERSION"), encoding="utf-8") as file:
            return file.read().strip()
    except OSError:
        return ""


def parse_file(text: str, manual: Manual) -> None:
    """Add every documented definition of one ``.json`` file to ``manual``."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() != "##":
            index += 1
            continue
        end = next((i for i in range(index + 1, len(lines)) if lines[i].strip() == "##"), len(lines))
        block = [re.sub(r"^#\s?", "", line) for line in lines[index + 1 : end]]
        expression, index = _expression(lines, end + 1)
        definition = _definition(block, expression)
        if definition is not None:
            manual.definitions.setdefault(definition.name, definition)


def _expression(lines: list[str], start: int) -> tuple[dict[str, Any] | None, int]:
    """The ``{...}`` after a doc block, and the line after it (comments and blank lines skipped)."""
    text, depth, index = "", 0, start
    while index < len(lines):
        line = lines[index]
        index += 1
        if not text and (not line.strip() or line.lstrip().startswith("#")):
            if line.strip() == "##":
                return None, index - 1
            continue
        line = re.sub(r"\s#.*$", "", line) if "'" not in line.split("#")[-1] else line
        text += line + "\n"
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            break
    try:
        value = json.loads(text.replace("'", '"'))
    except (ValueError, RecursionError):  # not QAPI's JSON, or nested past reason
        return None, index
    return (value if isinstance(value, dict) else None), index


def _definition(block: list[str], expression: dict[str, Any] | None) -> Definition | None:
    match = re.fullmatch(r"@([\w-]+):\s*", block[0]) if block else None
    if match is None or expression is None:
        return None
    kind = next((k for k in _KINDS if k in expression), "")
    if expression.get(kind) != match.group(1):
        return None
    definition = Definition(match.group(1), {"struct": "object", "union": "object"}.get(kind, kind))
    _read_body(definition, block[1:])
    _add_types(definition, expression)
    return definition


def _read_body(definition: Definition, block: list[str]) -> None:
    """Sort the doc lines into the body, members, features and tagged sections."""
    section, current, literal = "text", None, False
    for raw in block:
        line = raw.rstrip()
        tagged = _SECTION.fullmatch(line)
        member = _MEMBER.fullmatch(line)
        if line.startswith(".. qmp-example::") or (tagged and tagged.group(1).startswith("Example")):
            definition.examples.append("")
            section, literal = "example", True
        elif tagged and not line.startswith(" "):
            section = {
                "Returns": "returns",
                "Errors": "errors",
                "Since": "since",
                "Features": "features",
            }.get(tagged.group(1), "notes" if tagged.group(1).startswith("Note") else "skip")
            _append(definition, section, tagged.group(2))
        elif member and not line.startswith(" ") and section in ("text", "members", "features"):
            target = definition.features if section == "features" else definition.members
            section = "features" if section == "features" else "members"
            current = MemberDoc(member.group(1), text=_plain(member.group(2)))
            target.append(current)
        elif section in ("members", "features") and current is not None and line.startswith(" "):
            current.text = f"{current.text} {_plain(line.strip())}".strip()
        elif section == "example" and re.match(r"\d+\. ", line) and definition.examples[-1]:
            definition.examples.append("")  # "1. Read operation", "2. ...": one example each
        elif section == "example" and literal:
            if (
                line
                and not line.startswith(" ")
                and not line.startswith(("->", "<-"))
                and definition.examples[-1]
            ):
                section = "notes"
                _append(definition, section, line)
            elif line.strip().startswith(("->", "<-", "{", "}", '"')) or (
                line.startswith(" ") and definition.examples[-1]
            ):
                definition.examples[-1] += (
                    line.strip() + "\n" if line.strip().startswith(("->", "<-")) else line + "\n"
                )
        else:
            section = "text" if section in ("members", "features") and not line else section
            _append(definition, section, line)
    definition.examples = [e.strip("\n") for e in definition.examples if "->" in e]
    for key in ("text", "returns", "errors", "notes", "since"):
        setattr(definition, key, _tidy(getattr(definition, key)))


def _append(definition: Definition, section: str, line: str) -> None:
    if section in ("text", "returns", "errors", "notes", "since"):
        setattr(definition, section, getattr(definition, section) + _plain(line) + "\n")


def _add_types(definition: Definition, expression: dict[str, Any]) -> None:
    """Member types and optionality from the definition; ``base``/``data`` naming a type become includes."""
    data = expression.get("data")
    base = expression.get("base")
    for source in (base, data):
        if isinstance(source, str):
            definition.includes.append(Include(source))
    members = {m.name: m for m in definition.members}
    for source in (base, data):
        if isinstance(source, dict) and expression.get("enum") is None:
            for key, value in source.items():
                name, optional = key.lstrip("*"), key.startswith("*")
                type_name = value.get("type") if isinstance(value, dict) else value
                doc = members.get(name)
                if doc is None:
                    doc = MemberDoc(name, text="Not documented")
                    definition.members.append(doc)
                doc.type, doc.optional = _type_text(type_name), optional
    tag = expression.get("discriminator")
    variants = data if tag and isinstance(data, dict) else {}
    for case, variant in variants.items():
        variant_type = variant.get("type") if isinstance(variant, dict) else variant
        definition.includes.append(Include(str(variant_type), str(tag), str(case)))
        definition.members = [m for m in definition.members if m.name != case]


def _type_text(value: Any) -> str:
    if isinstance(value, list) and value:
        return f"[{value[0]}]"
    return str(value) if value is not None else ""


def _plain(text: str) -> str:
    """``@name`` and ```name``` as the plain name."""
    return _REFERENCE.sub(lambda m: m.group(1) or m.group(2), text)


def _tidy(text: str) -> str:
    paragraphs = [re.sub(r"\s*\n\s*", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def read_tree(directory: str) -> Manual:
    """Every ``*.json`` of the qapi folder, in name order; unreadable files are skipped."""
    folder = qapi_folder(directory)
    manual = Manual(folder, tree_version(directory))
    for name in sorted(os.listdir(folder)):
        if name.endswith(".json"):
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as file:
                    parse_file(file.read(), manual)
            except (OSError, UnicodeDecodeError):
                continue
    return manual
