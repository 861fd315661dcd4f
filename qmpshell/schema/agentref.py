"""The guest agent's arguments, read from its reference manual (``qemu-ga-ref.7``) when installed.

qemu-ga has no ``query-qmp-schema``; the one machine-readable account of its
arguments on a user's machine is the manual page QEMU builds from the same
QAPI files (Debian's qemu-guest-agent installs it).  Each command's section
lists its arguments as ``name: type`` and ``(optional)``; each enum's section
its values.  This reads only those facts (never the prose) into
``query-qmp-schema``-shaped entries, so that typing and completion work as
with QEMU: ``path=123`` stays a string, ``capture-output=`` offers true and
false.  Without the manual, arguments are guessed.
"""

from __future__ import annotations

import gzip
import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MANUALS = (
    "/usr/share/man/man7/qemu-ga-ref.7.gz",
    "/usr/share/man/man7/qemu-ga-ref.7",
    "/usr/local/share/man/man7/qemu-ga-ref.7",
)
_ENTITY = re.compile(r"^\.SS \\fB(?P<name>[^\\]+)\\fP \((?P<kind>Command|Enum|Object|Event|Alternate)\)")
_ITEM = re.compile(
    r"^\.B \\fB(?P<name>[^\\]+)\\fP(?:: \\fB(?P<type>[^\\]+)\\fP)?(?P<optional> \(optional\))?"
)
_BUILTIN = {"int": "int", "str": "string", "string": "string", "boolean": "boolean", "bool": "boolean"}
_BUILTIN.update({"number": "number", "any": "value", "null": "null"})
_BUILTIN.update({f"{kind}int{bits}": "int" for kind in ("", "u") for bits in (8, 16, 32, 64)})
_BUILTIN["size"] = "int"
# query-qmp-schema's builtin type names and their JSON types
_SCHEMA_BUILTINS = {"int": "int", "str": "string", "bool": "boolean", "number": "number", "any": "value"}
_SCHEMA_BUILTINS["null"] = "null"


def installed_manual(paths: tuple[str, ...] = MANUALS) -> str:
    """The path of the first manual installed; '' when none is."""
    return next((path for path in paths if os.path.isfile(path)), "")


def read_manual(paths: tuple[str, ...] = MANUALS) -> str:
    """The first installed manual's groff source; '' when none is."""
    for path in paths:
        try:
            with open(path, "rb") as file:
                data = file.read(4 * 1024 * 1024)
        except OSError:
            continue
        try:
            return (gzip.decompress(data) if path.endswith(".gz") else data).decode("utf-8", "replace")
        except (OSError, EOFError):
            continue
    return ""


def argument_entries(manual: str, commands: list[str]) -> list[dict[str, Any]]:
    """Schema entries for ``commands``: each with its arguments' object, the enums they name and
    the builtin types; a command the manual does not list gets no arguments type (guessed)."""
    arguments, enums = _sections(manual.replace("\\-", "-"))
    entries: list[dict[str, Any]] = [
        {"name": name, "meta-type": "builtin", "json-type": json} for name, json in _SCHEMA_BUILTINS.items()
    ]
    named_enums: set[str] = set()
    for command in commands:
        members = arguments.get(command)
        if members is None:
            entries.append({"name": command, "meta-type": "command"})
            continue
        entries.append({"name": command, "meta-type": "command", "arg-type": f"{command}-arguments"})
        entries.append({"name": f"{command}-arguments", "meta-type": "object", "members": members})
        named_enums.update(m["type"] for m in members if m["type"] in enums)
    entries += [{"name": name, "meta-type": "enum", "values": enums[name]} for name in sorted(named_enums)]
    return entries


def _sections(text: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[str]]]:
    """Each command's arguments and each enum's values, from the manual's ``.SS`` sections."""
    arguments: dict[str, list[dict[str, Any]]] = {}
    enums: dict[str, list[str]] = {}
    entity = kind = part = ""
    for line in text.splitlines():
        if found := _ENTITY.match(line):
            entity, kind, part = found["name"], found["kind"], ""
        elif line.startswith(".SS "):
            part = line[4:].strip()
        elif (found := _ITEM.match(line)) and entity:
            if kind == "Command" and part == "Arguments" and found["type"]:
                arguments.setdefault(entity, []).append(_member(found))
            elif kind == "Enum" and part == "Values":
                enums.setdefault(entity, []).append(found["name"])
    return arguments, enums


def _member(found: re.Match[str]) -> dict[str, Any]:
    member: dict[str, Any] = {"name": found["name"], "type": _type(found["type"].strip())}
    if found["optional"]:
        member["default"] = None
    return member


def _type(text: str) -> str:
    """``int`` -> ``int``, ``string`` -> ``str``, ``array of string`` -> ``[str]``, a name as it is."""
    if text.startswith("array of "):
        return f"[{_type(text[len('array of ') :])}]"
    json = _BUILTIN.get(text)
    if json is None:
        return text
    return {"string": "str", "boolean": "bool", "value": "any"}.get(json, json)
