"""Keep secrets out of history and logs.

A secret is the ``data`` of ``object-add qom-type=secret``, any argument named
``password`` or ending in ``-secret``, and everything given to the password
commands.  Messages are copied with those values replaced; lines that carry one
are kept out of the history file altogether.  Credentials written into a URL
(``https://user:pass@host/disk.img`` given to the curl block drivers, or
anywhere else) are secrets too: ``redact_url_credentials`` replaces the
``user:pass`` part wherever it appears in a log record.
"""

from __future__ import annotations

import re
from typing import Any

from qmpshell.language.syntax import Kind, significant, tokenize

REDACTED = "<redacted>"
PASSWORD_COMMANDS = frozenset({"set_password", "change-vnc-password", "expire_password"})
_HMP_PASSWORD_COMMANDS = frozenset({"set_password", "change_vnc_password", "expire_password", "change"})


# scheme://user:password@ -- the user-information part of a URL, when it holds a password (RFC 3986, 3.2.1)
_URL_CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s\"':]*:[^/?#@\s\"']*@")


def redact_url_credentials(text: str) -> str:
    """``text`` with every ``scheme://user:password@`` made ``scheme://<redacted>@``."""
    if "://" not in text or "@" not in text:
        return text
    return _URL_CREDENTIALS.sub(rf"\1{REDACTED}@", text)


def has_url_credentials(text: str) -> bool:
    return "://" in text and _URL_CREDENTIALS.search(text) is not None


def is_secret_name(name: str) -> bool:
    """True for argument names whose values are secrets."""
    return name == "password" or name.endswith("-secret") or name == "passwd"


def redact_message(message: dict[str, Any]) -> dict[str, Any]:
    """A copy of a QMP message with every secret value replaced."""
    command = message.get("execute") or message.get("exec-oob")
    arguments = message.get("arguments")
    if not isinstance(arguments, dict):
        return message
    if command == "human-monitor-command":
        return {**message, "arguments": _redact_hmp(arguments)}
    return {**message, "arguments": redact_arguments(str(command), arguments)}


def redact_arguments(command: str, arguments: dict[str, Any]) -> dict[str, Any]:
    if command in PASSWORD_COMMANDS:
        return {
            k: (REDACTED if k not in ("protocol", "connected", "display") else v)
            for k, v in arguments.items()
        }
    if command == "transaction" and isinstance(arguments.get("actions"), list):
        return {**arguments, "actions": [_redact_action(a) for a in arguments["actions"]]}
    if command == "object-add" and arguments.get("qom-type") == "secret":
        arguments = {k: (REDACTED if k in ("data", "props") else v) for k, v in arguments.items()}
    return _redact_tree(arguments)


def _redact_action(action: Any) -> Any:
    if isinstance(action, dict) and isinstance(action.get("data"), dict):
        return {**action, "data": redact_arguments(str(action.get("type")), action["data"])}
    return action


def _redact_tree(tree: dict[str, Any]) -> dict[str, Any]:
    """Replace secret-named members at any depth (iteratively: input may nest deeply)."""
    result = dict(tree)
    stack = [result]
    while stack:
        node = stack.pop()
        for key, value in node.items():
            if is_secret_name(key):
                node[key] = REDACTED
            elif isinstance(value, dict):
                node[key] = dict(value)
                stack.append(node[key])
    return result


def _redact_hmp(arguments: dict[str, Any]) -> dict[str, Any]:
    line = str(arguments.get("command-line", ""))
    if not hmp_line_has_secret(line):
        return arguments
    return {**arguments, "command-line": f"{line.split()[0]} {REDACTED}"}


def hmp_line_has_secret(line: str) -> bool:
    words = line.split()
    return bool(words) and (words[0] in _HMP_PASSWORD_COMMANDS or "secret" in line or "password" in line)


def line_has_secret(line: str, *, hmp: bool = False) -> bool:
    """True when a typed line must not reach the history file."""
    if has_url_credentials(line):
        return True
    tokens = significant(tokenize(line, hmp=hmp))
    if not tokens:
        return False
    head = tokens[0]
    if head.kind is Kind.TEXT:
        return hmp_line_has_secret(head.text)
    if head.kind is Kind.SHELL and head.text == "/hmp":
        return len(tokens) > 1 and hmp_line_has_secret(tokens[1].text)
    if head.kind is Kind.RAW_JSON or any(t.kind is Kind.ERROR for t in tokens):
        return _mentions_secret(line)
    if head.text in PASSWORD_COMMANDS:
        return True
    keys = [t.text.rsplit(".", 1)[-1] for t in tokens if t.kind is Kind.KEY]
    if any(is_secret_name(k) for k in keys):
        return True
    return "qom-type=secret" in line or _mentions_secret(line)


def _mentions_secret(line: str) -> bool:
    lowered = line.lower()
    return any(word in lowered for word in ("password", "-secret", '"secret"', "qom-type=secret", "passwd"))
