"""What may come next: the text before the cursor and the schema index in, suggestions out.

A pure function in the manner of pgcli's ``suggest_type``: no UI library, no
I/O, so it is tested with plain strings.  It reuses the one tokenizer
(``qmpshell.language.syntax``) and answers with ``Suggestions``: the word being completed,
the candidates the schema knows, and a ``LiveQuery`` for what only the running
QEMU can tell (device types, node names, QOM paths), which the completer asks
``qmpshell.schema.live`` for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qmpshell.language.syntax import VALUE_KINDS, Kind, Token, tokenize, unquote
from qmpshell.schema.help import signature, type_text
from qmpshell.schema.index import Member, SchemaIndex
from qmpshell.schema.shellwords import shell_words
from qmpshell.schema.suggestions import NOTHING, Candidate, LiveQuery, Suggestions, matching

_NODE_ARGS = frozenset({"node-name", "node", "device", "base-node", "top-node", "target", "file", "backing"})
_NODE_ARGS |= {"overlay", "parent", "child", "filter-node-name", "replaces"}
_NEW_NAME_COMMANDS = frozenset({"blockdev-add", "blockdev-create", "x-blockdev-amend"})
# Arguments that take a host path, by their last name; ``target`` and ``path`` only where they are
# one (``blockdev-mirror target=`` is a node name, ``qom-get path=`` a QOM path); ``mem-path`` of
# a memory-backend-file, and ``out``/``in`` of a file chardev (``backend.data.out=``).
_FILE_ARGS = frozenset({"filename", "snapshot-file", "mem-path"})
_CHARDEV_FILE_KEYS = frozenset({"backend.data.out", "backend.data.in"})
_FILE_TARGET_COMMANDS = frozenset({"drive-mirror", "drive-backup"})


def suggest(text: str, index: SchemaIndex | None, *, shell_commands: Sequence[str] = ()) -> Suggestions:
    """Suggestions for the end of ``text`` (the text before the cursor)."""
    tokens = tokenize(text)
    words = [t for t in tokens if t.kind is not Kind.WS]
    if not words:
        return _commands(index, "")
    if words[0].kind is Kind.SHELL:
        return shell_words(tokens, index, shell_commands, event_fields=_event_fields)
    if words[0].kind in (Kind.COMMAND, Kind.ERROR, Kind.CLOSE) and index is not None:
        return _call(tokens, index)
    return NOTHING


def _commands(index: SchemaIndex | None, word: str) -> Suggestions:
    if index is None:
        return NOTHING
    candidates = tuple(
        Candidate(name, ", ".join(entity.features) or "command", name)
        for name, entity in sorted(index.commands.items())
        if name.startswith(word)
    )
    return Suggestions(word, "command", candidates)


# -- a command or transaction action and its arguments --------------------------------


@dataclass(frozen=True)
class _Call:
    name: str
    arg_type: str
    given: dict[str, str]  # dotted key -> value text, for the keys already written
    action: bool


def _call(tokens: list[Token], index: SchemaIndex) -> Suggestions:
    last = tokens[-1]
    starts = [i for i, t in enumerate(tokens) if t.kind in (Kind.COMMAND, Kind.OPEN, Kind.CLOSE)]
    head = starts[-1] if starts else -1
    in_transaction = any(t.kind is Kind.OPEN for t in tokens)
    if last.kind is Kind.COMMAND:
        return _actions(index, last.text) if in_transaction else _commands(index, last.text)
    if head < 0 or tokens[head].kind is Kind.CLOSE:
        return NOTHING
    if tokens[head].kind is Kind.OPEN or (in_transaction and last.kind is Kind.WS and "\n" in last.text):
        return _actions(index, "") if last.kind is Kind.WS else NOTHING
    call = _resolve(index, tokens, head, action=in_transaction)
    if call is None:
        return NOTHING
    if last.kind is Kind.WS:
        return _argument_names(index, call, "")
    if last.kind is Kind.ERROR:
        return _partial_key(index, call, last)
    if last.kind in VALUE_KINDS and tokens[-2].kind is Kind.EQUALS:
        return _values(index, call, tokens[-3].text, last)
    return NOTHING


def _actions(index: SchemaIndex, word: str) -> Suggestions:
    names = matching(word, index.action_names())
    return Suggestions(word, "action", tuple(Candidate(n, "action", n) for n in names))


def _resolve(index: SchemaIndex, tokens: list[Token], head: int, *, action: bool) -> _Call | None:
    name = tokens[head].text
    if action:
        arg_type = index.action_type(name)
    else:
        entity = index.commands.get(name)
        arg_type = entity.arg_type if entity is not None else None
    if arg_type is None:
        return None
    return _resolve_from(tokens, head, _Call(name, arg_type, {}, action))


def _resolve_from(tokens: list[Token], head: int, call: _Call) -> _Call:
    """``call`` with the keys already written after ``tokens[head]`` (not the one being typed)."""
    for i in range(head + 1, len(tokens) - 2):
        if tokens[i].kind is Kind.KEY and tokens[i + 2].kind in VALUE_KINDS:
            call.given[tokens[i].text] = _value_text(tokens[i + 2])
    return call


def _value_text(token: Token) -> str:
    return unquote(token.text) if token.text[:1] in ("'", '"') and len(token.text) > 1 else token.text


def _partial_key(index: SchemaIndex, call: _Call, error: Token) -> Suggestions:
    """``file.fi`` typed without its ``=``: the tokenizer calls it an error; it is a key so far."""
    word = error.text
    if not word or any(c in word for c in " \t\n=\"'{[") or error.incomplete:
        return NOTHING
    return _argument_names(index, call, word)


def _object_at(index: SchemaIndex, call: _Call, parents: list[str]) -> str:
    """The object type at a dotted path, choosing union variants (at any depth) by the tags given.

    A list of objects is written ``NAME.0.KEY``: the item number stands between
    the list and its element's members.
    """
    type_name = call.arg_type
    for depth, part in enumerate(parents):
        if _is_item(part) and depth and _is_list(index, call, parents[:depth]):
            continue
        member = _member(index, call, type_name, parents[:depth], part)
        if member is None:
            return ""
        type_name = index.object_branch(member.type) or index.object_branch(index.type(member.type).element)
        if not type_name:
            return ""
    return type_name


def _is_item(part: str) -> bool:
    return part.isascii() and part.isdigit()


def _is_list(index: SchemaIndex, call: _Call, path: list[str]) -> bool:
    """Whether the dotted ``path`` names a member whose type is a list."""
    *parents, name = path
    owner = _object_at(index, call, parents)
    member = _member(index, call, owner, parents, name) if owner else None
    return member is not None and index.type(member.type).meta == "array"


def _member(index: SchemaIndex, call: _Call, type_name: str, path: list[str], name: str) -> Member | None:
    return next((m for m in _members(index, call, type_name, path) if m.name == name), None)


def _members(index: SchemaIndex, call: _Call, type_name: str, path: list[str]) -> tuple[Member, ...]:
    """The members of the object at ``path``, with the variants its tags (as given) choose."""
    return index.members_chosen(type_name, lambda tag: call.given.get(".".join([*path, tag])))


def _argument_names(index: SchemaIndex, call: _Call, word: str) -> Suggestions:
    *parents, prefix = word.split(".")
    if parents and not _is_item(parents[-1]) and _is_list(index, call, parents):
        return Suggestions(
            prefix, "argument", (Candidate("0", "the first item", "0."),) if "0".startswith(prefix) else ()
        )
    type_name = _object_at(index, call, parents)
    if not type_name:
        return NOTHING
    members = _members(index, call, type_name, parents)
    used = _used_names(call.given, parents)
    ordered = sorted(members, key=lambda m: (m.optional, "deprecated" in m.features))
    candidates = tuple(
        _member_candidate(index, m) for m in ordered if m.name not in used and m.name.startswith(prefix)
    )
    return Suggestions(prefix, "argument", candidates, _live_names(call, parents), frozenset(used))


def _first_item(index: SchemaIndex, call: _Call, parents: list[str], prefix: str) -> Suggestions:
    """``capabilities.``: a list's items are numbered, so the next part is ``0.`` (``0=`` for a list of
    plain values), not one of the element's members."""
    objects = bool(_object_at(index, call, parents))
    candidate = Candidate("0", "the first item (then 1, 2, ...)", "0." if objects else "0=")
    return Suggestions(prefix, "argument", (candidate,) if "0".startswith(prefix) else ())


def _used_names(given: dict[str, str], parents: list[str]) -> set[str]:
    depth = len(parents)
    return {
        parts[depth]
        for parts in (key.split(".") for key in given)
        if len(parts) == depth + 1 and parts[:depth] == parents
    }


def _member_candidate(index: SchemaIndex, member: Member) -> Candidate:
    meta = type_text(index, member.type, enum_limit=3)
    meta = f"{meta}, optional" if member.optional else meta
    meta = f"{meta}, deprecated" if "deprecated" in member.features else meta
    nested_only = index.type(member.type).meta == "object"
    return Candidate(member.name, meta, member.name + ("." if nested_only else "="))


def _live_names(call: _Call, parents: list[str]) -> LiveQuery | None:
    if parents or call.action:
        return None
    if call.name == "device_add" and call.given.get("driver"):
        return LiveQuery("device-props", call.given["driver"])
    if call.name == "object-add" and call.given.get("qom-type"):
        return LiveQuery("object-props", call.given["qom-type"])
    return None


# -- values ---------------------------------------------------------------------------


def _values(index: SchemaIndex, call: _Call, key: str, token: Token) -> Suggestions:
    if token.text[:1] in ("'", '"'):
        return NOTHING
    word = token.text
    *parents, name = key.split(".")
    type_name = _object_at(index, call, parents)
    member = _member(index, call, type_name, parents, name) if type_name else None
    names = _type_values(index, member.type) if member is not None else []
    candidates = tuple(Candidate(v, meta, v) for v, meta in names if v.startswith(word))
    if not candidates and _takes_a_file(call, key):
        return Suggestions(word, "file")
    return Suggestions(word, "value", candidates, _live_value(call, key, word))


def _takes_a_file(call: _Call, key: str) -> bool:
    name = key.rsplit(".", 1)[-1]
    if name in _FILE_ARGS:
        return True
    if name == "target":
        return call.name in _FILE_TARGET_COMMANDS
    if key in _CHARDEV_FILE_KEYS:
        return call.name == "chardev-add" and call.given.get("backend.type") == "file"
    return name == "path" and not call.name.startswith("qom-")


def _type_values(
    index: SchemaIndex, type_name: str, outer: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    info = index.type(type_name)
    if info.meta == "enum":
        return [(v, "enum") for v in info.values]
    if info.meta == "builtin" and info.json_type == "boolean":
        return [("true", "bool"), ("false", "bool")]
    if info.meta == "builtin" and info.json_type == "null":
        return [("null", "null")]
    if info.meta == "alternate":
        inner = outer | {type_name}  # an alternate may list itself as a branch: each is read once
        return [
            pair
            for branch in info.branches
            if branch not in inner
            for pair in _type_values(index, branch, inner)
        ]
    return []


def _live_value(call: _Call, key: str, word: str) -> LiveQuery | None:
    command, name = call.name, key.rsplit(".", 1)[-1]
    if command == "device_add" and key == "driver":
        return LiveQuery("device-types")
    if command == "device_add" and key == "bus":
        return LiveQuery("buses", str(call.given.get("driver") or ""))  # the buses that device fits
    if command in ("qom-get", "qom-set", "qom-list") and key == "path":
        return LiveQuery("qom-paths", word[: word.rfind("/") + 1] or "/")
    if command in ("qom-get", "qom-set") and key == "property" and call.given.get("path"):
        return LiveQuery("qom-props", call.given["path"])
    if command == "device_del" and key == "id":
        return LiveQuery("device-ids")
    if (command.startswith(("block-job-", "job-"))) and name in ("device", "id"):
        return LiveQuery("job-ids")
    if name in _NODE_ARGS and not (command in _NEW_NAME_COMMANDS and key == "node-name"):
        return LiveQuery("node-names")
    return None


# -- shell commands -------------------------------------------------------------------


def signature_at(index: SchemaIndex, text: str) -> str:
    """The toolbar line for the statement being typed (``text`` before the cursor).

    The command's signature; while a dotted key is being written (``file.``),
    the members of the object it leads to, in the variant the tags given so
    far select, that variant's own members first (``file.driver=file``:
    ``filename``, ``locking``, ``aio``... before the members every driver has).
    """
    tokens = tokenize(text)
    starts = [i for i, t in enumerate(tokens) if t.kind is Kind.COMMAND]
    if not starts or tokens[0].kind is Kind.SHELL:
        return ""
    head = starts[-1]
    in_transaction = any(t.kind is Kind.OPEN for t in tokens)
    call = _resolve(index, tokens, head, action=in_transaction) if len(tokens) > head + 1 else None
    parents = _dotted_parents(tokens) if call is not None else []
    if call is None or not parents:
        return signature(index, tokens[head].text)
    type_name = _object_at(index, call, parents)
    if not type_name:
        return signature(index, tokens[head].text)
    members = _members(index, call, type_name, parents)
    common = {member.name for member in index.type(type_name).members}
    chosen = [member for member in members if member.name not in common]  # the branch the tag chose
    parts = [f"{call.name} {'.'.join(parents)}.:"]
    for member in chosen + [member for member in members if member.name in common]:
        text_ = f"{member.name}={type_text(index, member.type, enum_limit=4)}"
        parts.append(f"[{text_}]" if member.optional else text_)
    return " ".join(parts)


def _dotted_parents(tokens: list[Token]) -> list[str]:
    """The parents of the key at the cursor: ``file.fi`` or ``file.driver=fi`` give ``["file"]``."""
    last = tokens[-1]
    if len(tokens) > 2 and last.kind in VALUE_KINDS and tokens[-2].kind is Kind.EQUALS:
        return tokens[-3].text.split(".")[:-1]
    if last.kind is not Kind.ERROR or last.incomplete or any(c in last.text for c in " \t\n=\"'{["):
        return []
    return last.text.split(".")[:-1]


def _event_fields(tokens: list[Token], index: SchemaIndex, event: str) -> Suggestions:
    """After ``/wait EVENT ``: the event's data fields (dotted, as in arguments) and ``timeout=``."""
    entity = index.events.get(event)
    if entity is None:
        return NOTHING
    call = _resolve_from(tokens, 0, _Call(event, entity.arg_type, {}, action=False))
    last = tokens[-1]
    if last.kind is Kind.WS:
        found = _argument_names(index, call, "")
    elif last.kind is Kind.WORD:  # a field name typed without its "=" yet
        found = _argument_names(index, call, last.text)
    else:
        return NOTHING
    if "." in found.word or "timeout" in call.given or not "timeout".startswith(found.word):
        return found
    timeout = Candidate("timeout", "seconds", "timeout=")
    return Suggestions(found.word, found.what, (*found.candidates, timeout), found.live, found.used)
