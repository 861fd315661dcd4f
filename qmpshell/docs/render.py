"""``/help NAME``'s documentation part: description, arguments with their texts, sections, examples.

It comes under the schema's tree (``qmpshell.schema.help``), which stays the
authority on what the server accepts; the manual adds what each part means::

    Resize a block image while a guest is running.  (since 0.14)
    arguments:
      device  str, optional
          the name of the device to get the image resized
    ...
    examples (/example block_resize N puts one on the input line):
      1. block_resize device=scratch size=1073741824
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from qmpshell.docs.examples import example_line
from qmpshell.docs.join import branches, definition_for, gather, object_definition
from qmpshell.docs.model import Definition, Manual, MemberDoc
from qmpshell.schema.help import type_text, wrap_line
from qmpshell.schema.index import Member, SchemaIndex

_SINCE = re.compile(r"(?:\(|, |^|\. )[Ss]ince:? (?:QEMU )?(\d+\.\d+(?:\.\d+)?)")  # not "allowed since 2.7"
_DEFAULT = re.compile(r"[Dd]efaults?(?: to|:| is| value is)? ('[^']*'|\"[^\"]*\"|[\w.+-]+(?=[.,;)]|$))")
INDENT = "      "
_KEEP = "\x01"  # marks a line never cut (a path)
_SAME_INDENT = "\x00"  # marks a text line: wrapped lines continue at its indent, not deeper


def docs_lines(index: SchemaIndex, manual: Manual, name: str, narrow: Mapping[str, str]) -> list[str]:
    """The documentation of a command or event, or [] when the manual lacks it."""
    definition = definition_for(manual, index, name)
    entity = index.commands.get(name) or index.events.get(name)
    if definition is None or entity is None:
        return []
    lines = ["", f"from QEMU's documentation ({manual.source}):{_KEEP}"]
    since = f"  (since {definition.since})" if definition.since else ""
    lines.extend(_paragraphs(definition.text + since, ""))
    if "deprecated" in {f.name for f in definition.features}:
        lines.append(f"DEPRECATED: {_feature_text(definition, 'deprecated')}")
    heading = "arguments:" if name in index.commands else "data:"
    members = _member_lines(index, manual, definition, entity.arg_type, dict(narrow), "", 1)
    if members:
        lines.append(heading)
        lines.extend(members)
    lines.extend(_sections(definition))
    lines.extend(_example_lines(definition))
    return lines


def standalone_lines(manual: Manual, name: str) -> list[str]:
    """A definition as the manual gives it, for a server without a schema (the guest agent)."""
    definition = manual.definitions[name]
    lines = [f"{name:<44}{definition.kind}", f"from QEMU's documentation ({manual.source}):{_KEEP}"]
    since = f"  (since {definition.since})" if definition.since else ""
    lines.extend(_paragraphs(definition.text + since, ""))
    members = gather(manual, definition, {}, every_branch=True)
    if members:
        lines.append("arguments:" if definition.kind == "command" else "members:")
    for member in members:
        notes = ", ".join(part for part in (member.type, "optional" if member.optional else "") if part)
        lines.append(f"  {member.name}  {notes}".rstrip())
        lines.extend(_paragraphs(member.text or "(not in the documentation)", INDENT))
    lines.extend(_sections(definition))
    lines.extend(_example_lines(definition))
    return lines


def _sections(definition: Definition) -> list[str]:
    lines: list[str] = []
    for title, text in (
        ("returns", definition.returns),
        ("errors", definition.errors),
        ("notes", definition.notes),
    ):
        if text:
            lines.append(f"{title}:")
            lines.extend(_paragraphs(text, "  "))
    features = [f for f in definition.features if f.name != "deprecated"]
    if features:
        lines.append("features:")
        lines.extend(f"  {f.name}: {f.text}" for f in features)
    return lines


def _member_lines(
    index: SchemaIndex,
    manual: Manual,
    doc_name: str | Definition,
    live_type: str,
    narrow: dict[str, str],
    path: str,
    depth: int,
) -> list[str]:
    """Each live member with its documented text; nested objects under their member."""
    info = index.type(live_type)
    picks = {key[len(path) :]: value for key, value in narrow.items() if key.startswith(path)}
    picks = {key: value for key, value in picks.items() if "." not in key}
    docs = {m.name: m for m in gather(manual, doc_name, picks)}
    lines: list[str] = []
    for member in index.members(live_type, picks.get(info.tag)):
        doc = docs.get(member.name)
        lines.append(_member_head(index, member, doc, depth, path))
        lines.extend(
            _paragraphs(
                doc.text if doc is not None else "(not in the documentation)", INDENT + "  " * (depth - 1)
            )
        )
        nested = index.object_branch(member.type)
        nested_doc = object_definition(manual, doc.type) if doc is not None else ""
        if nested and nested_doc and _expand(index, nested, narrow, f"{path}{member.name}.") and depth < 4:
            lines.extend(
                _member_lines(index, manual, nested_doc, nested, narrow, f"{path}{member.name}.", depth + 1)
            )
    if info.tag and info.tag not in picks:
        values = branches(manual, doc_name).get(info.tag) or list(info.variants)
        if values:
            shown = ", ".join(values[:12]) + (", ..." if len(values) > 12 else "")
            lines.append(f"{'  ' * depth}more members for each {path}{info.tag} ({shown}):")
            lines.append(f"{INDENT}/help ... {path}{info.tag}=VALUE shows them")
    return lines


def _expand(index: SchemaIndex, type_name: str, narrow: Mapping[str, str], path: str) -> bool:
    """A nested object is shown when asked for (a key under it given) or when it is a plain object."""
    if any(key.startswith(path) for key in narrow):
        return True
    info = index.type(type_name)
    return not info.tag and index.type(type_name).meta == "object" and len(info.members) <= 12


def _member_head(index: SchemaIndex, member: Member, doc: MemberDoc | None, depth: int, path: str) -> str:
    notes = [type_text(index, member.type, enum_limit=6)]
    text = doc.text if doc is not None else ""
    if member.optional:
        notes.append("optional")
        default = _DEFAULT.search(text)
        if default:
            notes.append(f"default {default.group(1).strip()}")
    since = _SINCE.search(text)
    if since:
        notes.append(f"since {since.group(1)}")
    notes.extend(member.features)
    return f"{'  ' * depth}{path}{member.name}  {', '.join(notes)}"


def wrap(line: str, width: int) -> list[str]:
    """A line cut to ``width``: text lines continue at their indent, others deeper (as the tree)."""
    if line.endswith(_KEEP):
        return [line[:-1]]
    if not line.endswith(_SAME_INDENT):
        return wrap_line(line, width)
    line = line[:-1]
    if len(line) <= width or width < 20:
        return [line]
    import textwrap

    indent = " " * (len(line) - len(line.lstrip()))
    return textwrap.wrap(
        line,
        width,
        initial_indent="",
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def first_sentence(text: str) -> str:
    """The first sentence of a member's text (for the completion menu)."""
    match = re.match(r"(.+?)\.(\s|$)", text.split("\n")[0])
    return match.group(1) if match else text.split("\n")[0]


def member_doc(index: SchemaIndex, manual: Manual, command: str, path: list[str]) -> MemberDoc | None:
    """The documentation of one argument (``file.filename`` as ['file', 'filename'])."""
    definition = definition_for(manual, index, command)
    if definition is None:
        return None
    doc_name: str | Definition = definition
    doc = None
    for part in path:
        if not doc_name:
            return None
        doc = next((m for m in _all_branches(manual, doc_name) if m.name == part), None)
        if doc is None:
            return None
        doc_name = object_definition(manual, doc.type)
    return doc


def _all_branches(manual: Manual, name: str | Definition) -> list[MemberDoc]:
    """Members of every branch (completion does not know the tag value yet)."""
    return gather(manual, name, {}, every_branch=True)


def _feature_text(definition: Definition, name: str) -> str:
    return next((f.text for f in definition.features if f.name == name), "")


def _paragraphs(text: str, indent: str) -> list[str]:
    """Paragraphs of text at ``indent``, wrapped to the width later (continued at the same indent)."""
    lines: list[str] = []
    for number, paragraph in enumerate(text.split("\n\n")):
        if number and paragraph.strip():
            lines.append("")
        lines.extend(f"{indent}{line}{_SAME_INDENT}" for line in paragraph.split("\n") if line.strip())
    return lines


def _example_lines(definition: Definition) -> list[str]:
    if not definition.examples:
        return []
    command = definition.kind == "command"
    lines = [
        f"examples (/example {definition.name} N puts one on the input line):" if command else "examples:"
    ]
    for number, example in enumerate(definition.examples, start=1):
        line = example_line(example)
        lines.append(
            f"  {number}. {line}" if line else f"  {number}. {'(as written:)' if command else ''}".rstrip()
        )
        if not line:
            lines.extend(f"{INDENT}{text}" for text in example.split("\n")[:6])
    return lines
