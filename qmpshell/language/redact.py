"""Keep secrets out of history, logs, transcripts, saved text and ``-v``: one rule, on the parsed request.

Every place that keeps or echoes what was sent asks the same two questions of
the QMP message (never of the text as typed, whose quotes and JSON escapes
hide words from a textual search):

- ``redact_message``: the message with every secret value replaced.  Secrets
  are the ``data`` of ``object-add qom-type=secret``; the value of ``qom-set``
  of a secret-bearing property (``data``, ``password``...: the shell cannot
  know a path's type, so any path); any member named ``password``, ``passwd``
  or ``*-secret``; everything given to the password commands; HMP lines that
  carry one (in ``human-monitor-command`` and in HMP mode); and credentials
  written into a URL in any string (``scheme://user:pass@``, and for http(s)
  ``user@`` alone).  A message carries a secret when redacting changes it.
- ``reveals_secret``: a request whose *reply* is a secret (``qom-get`` of
  such a property): logs and transcripts show that reply redacted.

Typed lines are parsed with the shell's own parser and asked the same; a line
that does not parse is judged by its words, JSON escapes decoded, erring on
the side of keeping it out.
"""

from __future__ import annotations

import functools
import json
import re

from qmpshell.errors import QmpShellError
from qmpshell.language.parse import parse_statement
from qmpshell.language.requests import HmpRequest, QmpRequest, ShellRequest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

REDACTED = "<redacted>"
PASSWORD_COMMANDS = frozenset({"set_password", "change-vnc-password", "expire_password"})
_HMP_PASSWORD_COMMANDS = frozenset({"set_password", "change_vnc_password", "expire_password", "change"})
_KEPT_IN_PASSWORD_COMMANDS = frozenset({"protocol", "connected", "display"})
SECRET_QOM_TYPES = frozenset({"secret"})
_HMP_QOM = frozenset({"qom-set", "qom_set", "qom-get", "qom_get"})


# scheme://userinfo@ -- the user-information part of a URL (RFC 3986, 3.2.1): secret when it holds a
# password, and for http(s) even a bare user name (a token often is one).
@functools.cache
def _url_userinfo() -> re.Pattern[str]:
    """Compiled by the first text that holds ``://`` and ``@`` (most never do)."""
    return re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@\s\"']*)@")


def _userinfo(found: re.Match[str]) -> str:
    scheme, userinfo = found.group(1), found.group(2)
    if userinfo == REDACTED or (":" not in userinfo and scheme.lower() not in ("http://", "https://")):
        return found.group(0)
    return f"{scheme}{REDACTED}@"


def redact_url_credentials(text: str) -> str:
    """``text`` with every ``scheme://user:password@`` (http(s): also ``user@``) made ``scheme://<redacted>@``."""
    if "://" not in text or "@" not in text:
        return text
    return _url_userinfo().sub(_userinfo, text)


def has_url_credentials(text: str) -> bool:
    return redact_url_credentials(text) != text


def is_secret_name(name: str) -> bool:
    """True for argument names whose values are secrets."""
    return name in ("password", "passwd") or name.endswith("-secret")


def is_secret_property(name: str) -> bool:
    """A QOM property that holds a secret: ``data`` (of a ``secret`` object) or a secret-named one."""
    return name == "data" or is_secret_name(name)


def redact_message(message: dict[str, Any]) -> dict[str, Any]:
    """A copy of a QMP message with every secret value replaced (the message itself if none)."""
    command = str(message.get("execute") or message.get("exec-oob") or "")
    arguments = message.get("arguments")
    if isinstance(arguments, dict):
        message = {**message, "arguments": redact_arguments(command, arguments)}
    return _redact_tree(message)


def message_has_secret(message: dict[str, Any]) -> bool:
    return redact_message(message) != message


def redact_arguments(command: str, arguments: dict[str, Any]) -> dict[str, Any]:
    if command in PASSWORD_COMMANDS:
        return {k: (v if k in _KEPT_IN_PASSWORD_COMMANDS else REDACTED) for k, v in arguments.items()}
    if command == "transaction" and isinstance(arguments.get("actions"), list):
        return {**arguments, "actions": [_redact_action(a) for a in arguments["actions"]]}
    if command == "object-add" and arguments.get("qom-type") in SECRET_QOM_TYPES:
        return {k: (REDACTED if k in ("data", "props") else v) for k, v in arguments.items()}
    if command == "qom-set" and is_secret_property(str(arguments.get("property", ""))):
        return {**arguments, "value": REDACTED} if "value" in arguments else arguments
    if command == "human-monitor-command" and isinstance(arguments.get("command-line"), str):
        return {**arguments, "command-line": redact_hmp_line(arguments["command-line"])}
    return arguments


def reveals_secret(message: dict[str, Any]) -> bool:
    """Whether the reply to ``message`` is a secret (``qom-get`` of ``data``, in QMP or HMP)."""
    arguments = message.get("arguments")
    if not isinstance(arguments, dict):
        return False
    command = message.get("execute") or message.get("exec-oob")
    if command == "qom-get":
        return is_secret_property(str(arguments.get("property", "")))
    if command == "human-monitor-command":
        words = str(arguments.get("command-line", "")).split()
        return len(words) >= 3 and words[0] in ("qom-get", "qom_get") and is_secret_property(words[2])
    return False


def redact_reply(reply: dict[str, Any]) -> dict[str, Any]:
    """The reply to a request that ``reveals_secret``, its value replaced."""
    return {**reply, "return": REDACTED} if "return" in reply else reply


def _redact_action(action: Any) -> Any:
    if isinstance(action, dict) and isinstance(action.get("data"), dict):
        return {**action, "data": redact_arguments(str(action.get("type")), action["data"])}
    return action


def _redact_tree(tree: dict[str, Any]) -> dict[str, Any]:
    """Secret-named members and URL credentials at any depth (iteratively: input may nest deeply).

    Containers are copied only where something changes, so an unchanged message compares equal.
    """
    changed = False

    def value_of(key: str | None, value: Any) -> Any:
        nonlocal changed
        if key is not None and is_secret_name(key) and value != REDACTED:
            changed = True
            return REDACTED
        if isinstance(value, str) and "://" in value:
            public = redact_url_credentials(value)
            changed = changed or public != value
            return public
        return value

    root = dict(tree)
    stack: list[dict[str, Any] | list[Any]] = [root]
    while stack:
        node = stack.pop()
        pairs = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, value in pairs:
            new = value_of(key if isinstance(key, str) else None, value)
            if isinstance(new, (dict, list)):
                new = dict(new) if isinstance(new, dict) else list(new)
                stack.append(new)
            node[key] = new  # type: ignore[index]
    return root if changed or root != tree else tree


def redact_hmp_line(line: str) -> str:
    """An HMP command line with its secret hidden: ``COMMAND <redacted>``, or its URLs' credentials."""
    if hmp_line_has_secret(line):
        words = line.split()
        return f"{words[0]} {REDACTED}"
    return redact_url_credentials(line)


def hmp_line_has_secret(line: str) -> bool:
    """A password command, ``object_add`` of a secret, ``qom-set`` of a secret property, a secret-named
    ``key=value``, or the word password anywhere."""
    words = line.split()
    if not words:
        return False
    command, lowered = words[0], line.lower()
    if command in _HMP_PASSWORD_COMMANDS or "password" in lowered or "passwd" in lowered:
        return True
    if command in ("object_add", "object-add") and "secret" in lowered:
        return True
    if command in ("qom-set", "qom_set") and len(words) >= 3 and is_secret_property(words[2]):
        return True
    keys = re.findall(r"(?:^|[\s,{])\"?([\w.-]+)\"?\s*[=:]", line)
    return any(is_secret_name(key.rsplit(".", 1)[-1]) for key in keys)


def line_has_secret(line: str, *, hmp: bool = False) -> bool:
    """True when a typed statement must not be kept as typed (history, transcript, saved text).

    Credentials in a URL count; callers that can keep the line with them
    redacted (the history) redact first with ``redact_url_credentials``.
    """
    try:
        request = parse_statement(line, hmp=hmp)
    except (QmpShellError, ValueError, RecursionError):
        return _mentions_secret(line)
    if request is None:
        return False
    if isinstance(request, ShellRequest):
        text = request.rest if request.name == "hmp" else ""
        return hmp_line_has_secret(text) or has_url_credentials(line)
    if isinstance(request, HmpRequest):
        return hmp_line_has_secret(request.command_line) or has_url_credentials(line)
    assert isinstance(request, QmpRequest)
    return message_has_secret(request.message) or has_url_credentials(line)


def public_statement(text: str) -> str:
    """A statement with a secret as shown outside the screen: its first word, then ``<redacted>``."""
    words = text.split()
    return f"{words[0]} {REDACTED}" if words and not words[0].startswith("{") else REDACTED


def _mentions_secret(line: str) -> bool:
    """A line that does not parse: any word of a secret, its JSON escapes decoded first."""
    lowered = _unescaped(line).lower()
    return has_url_credentials(line) or any(word in lowered for word in ("password", "secret", "passwd"))


def _unescaped(text: str) -> str:
    """``\\u0065`` and friends decoded, so ``"secr\\u0065t"`` reads as what QEMU will see."""
    if "\\" not in text:
        return text
    return re.sub(r"\\u[0-9A-Fa-f]{4}|\\.", lambda m: _decode_escape(m.group(0)), text)


def _decode_escape(escape: str) -> str:
    try:
        return str(json.loads(f'"{escape}"'))
    except ValueError:
        return escape
