"""Runs one HMP line for the shell: translated to QMP where the server can, else passed through.

``--hmp-via`` (config ``hmp.via``) chooses: ``auto`` translates where it can
and passes the rest to ``human-monitor-command`` when the server has it;
``qmp`` never passes a line through (an untranslatable one is refused before
anything is sent); ``passthrough`` sends every line to HMP as before.  A
server without ``human-monitor-command`` (qemu-storage-daemon) makes ``auto``
behave as ``qmp``.
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.errors import CommandFailed, CommandTimeout, UsageError
from qmpshell.hmp import commands, info
from qmpshell.hmp.args import parse_args
from qmpshell.hmp.plan import Call, Plan, Raw, Translation
from qmpshell.hmp.table import COMMANDS, INFO, Spec
from qmpshell.language.syntax import Kind, Token
from qmpshell.language.untyped import ArgTree, ArgumentTyper, Value
from qmpshell.records import NamedTuple, Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PASSTHROUGH = "human-monitor-command"


class Resolved(NamedTuple):
    """An HMP line's command: ``key`` is ``NAME`` or ``info NAME``; ``rest`` its argument text."""

    key: str
    spec: Spec | None
    translation: Translation | None
    rest: str
    shell: bool = False  # answered by qmpshell itself (cpu, help, info, info history)


def resolve(line: str) -> Resolved:
    """Which command an HMP line names (aliases followed), and the text of its arguments."""
    word, _, rest = line.strip().partition(" ")
    spec = COMMANDS.get(word)
    name = spec.name if spec else word
    if name != "info":
        shell = name in commands.SHELL_ANSWERED
        return Resolved(name, spec, commands.COMMANDS.get(name), rest, shell)
    sub, _, sub_rest = rest.strip().partition(" ")
    if not sub:
        return Resolved("info", spec, None, "", True)
    sub_spec = INFO.get(sub)
    return Resolved(f"info {sub}", sub_spec, info.INFO.get(sub), sub_rest, sub in info.SHELL_ANSWERED)


def route(resolved: Resolved, via: str, server: frozenset[str]) -> str:
    """``qmp``, ``shell`` or ``passthrough`` for a line; UsageError when it cannot run as asked."""
    if resolved.shell and via != "passthrough":
        return "shell"
    can_pass = PASSTHROUGH in server
    if via == "passthrough":
        if not can_pass:
            raise UsageError("this server has no HMP (human-monitor-command); try --hmp-via auto")
        return "passthrough"
    translation = resolved.translation
    if translation is not None and all(name in server for name in translation.qmp[:1]):
        return "qmp"
    if via == "auto" and can_pass:
        return "passthrough"
    if resolved.spec is None:
        raise UsageError(f"unknown HMP command '{resolved.key}'")
    raise UsageError(f"HMP command '{resolved.key}' has no QMP equivalent on this server")


class Port(Protocol):
    """What the engine needs of the shell."""

    cpu_index: int | None

    def exchange(self, command: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Send one QMP command (announced for -v) and return its whole response."""

    def typer(self) -> ArgumentTyper | None:
        """The shell's schema typer (None without a schema: values are guessed)."""


class Result(NamedTuple):
    text: str
    error: bool
    sent: dict[str, Any]
    ok: bool = False  # every reply was {}: shown as a dim ok


class _Asker:
    """The context a translation is built in: queries go through the port."""

    def __init__(self, port: Port) -> None:
        self.port = port
        self.cpu_index = port.cpu_index

    def ask(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        response = self.port.exchange(command, arguments or {})
        if "error" in response:
            error = response["error"]
            raise CommandFailed(f"Error: {error.get('desc', error) if isinstance(error, dict) else error}")
        return response.get("return")


def translate(resolved: Resolved, port: Port) -> Plan:
    """The plan for a translated line (arguments parsed by the HMP spec; UsageError if bad)."""
    assert resolved.translation is not None and resolved.spec is not None
    prefix = "info " if resolved.key.startswith("info ") else ""
    args = parse_args(resolved.spec, resolved.rest, prefix=prefix)
    return resolved.translation.build(args, _Asker(port))


def run_plan(plan: Plan, port: Port, *, quiet: bool = False) -> Result:
    """Send the plan's calls in order, stop at the first error, and show the replies.

    A command whose replies are all ``{}`` is ``ok`` (shown dim); ``quiet`` (``info``) never is.
    """
    returns: list[Any] = []
    sent: dict[str, Any] = {}
    for call in plan.calls:
        arguments = typed_arguments(call, port.typer)  # the schema is loaded only if a value needs it
        sent = {"execute": call.command, **({"arguments": arguments} if arguments else {})}
        response = port.exchange(call.command, arguments)
        if "error" in response:
            error = response["error"]
            desc = error.get("desc", error) if isinstance(error, dict) else error
            return Result(f"Error: {desc}", True, sent)
        returns.append(response.get("return"))
    text = _shown(plan, returns)
    if text and not text.endswith("\n"):
        text += "\n"  # as HMP's text ends (several targets print it in JSON)
    done = plan.show is None or all(value == {} for value in returns)  # HMP prints nothing for these
    return Result(text, False, sent, ok=not text and done and not quiet)


_SHAPES = (KeyError, TypeError, AttributeError, ValueError, IndexError)  # a reply of an unexpected shape


def _shown(plan: Plan, returns: list[Any]) -> str:
    """The replies as text; a reply a formatter did not expect (a hostile or newer server) as JSON."""
    if plan.show is None:
        return ""
    try:
        return plan.show(returns)
    except _SHAPES:
        import json

        return "\n".join(json.dumps(value, indent=2, ensure_ascii=False) for value in returns)


def typed_arguments(call: Call, typer_of: Callable[[], ArgumentTyper | None]) -> dict[str, Any]:
    """``Raw`` texts typed by the schema as in a QMP line; the rest kept as translated."""
    raw = _raw_part(call.arguments)
    if not raw:
        unraw: dict[str, Any] = _unraw(call.arguments)  # Raw texts in lists are sent as written
        return unraw
    typer = typer_of()
    if typer is None:
        from qmpshell.language.untyped import GuessingTyper

        typer = GuessingTyper()
    tree = _arg_tree(_texts(call.arguments))  # fixed texts too: a union's tag picks the variant
    typed: dict[str, Any] = _merged(call.arguments, typer.convert(call.command, tree))
    return typed


def _raw_part(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, Raw):
            out[key] = item
        elif isinstance(item, dict) and (inner := _raw_part(item)):
            out[key] = inner
    return out


def _texts(value: dict[str, Any]) -> dict[str, Any]:
    """The ``Raw`` and string leaves (outside lists) as ``Raw``."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, (Raw, str)):
            out[key] = item if isinstance(item, Raw) else Raw(item)
        elif isinstance(item, dict) and (inner := _texts(item)):
            out[key] = inner
    return out


def _arg_tree(raw: dict[str, Any]) -> ArgTree:
    return {
        k: _arg_tree(v) if isinstance(v, dict) else Value(Token(Kind.WORD, 0, len(v.text), v.text))
        for k, v in raw.items()
    }


def _merged(original: Any, typed: Any) -> Any:
    if isinstance(original, (Raw, str)):
        return typed
    if isinstance(original, list):
        return [_unraw(item) for item in original]
    if isinstance(original, dict) and isinstance(typed, dict):
        return {k: _merged(v, typed[k]) if k in typed else _unraw(v) for k, v in original.items()}
    return original


def _unraw(value: Any) -> Any:
    """Raw values where the typer was not asked (inside lists): sent as their text."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return {k: _unraw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unraw(v) for v in value]
    return value


def count_offered(server: frozenset[str]) -> tuple[int, int]:
    """How many HMP commands (and ``info`` subcommands) this server can run over QMP."""
    names = {spec.name for spec in COMMANDS.values()}
    top = sum(
        1 for n in names if n in commands.SHELL_ANSWERED or _available(commands.COMMANDS.get(n), server)
    )
    subs = {spec.name for spec in INFO.values()}
    infos = sum(1 for n in subs if n in info.SHELL_ANSWERED or _available(info.INFO.get(n), server))
    return top, infos


def _available(translation: Translation | None, server: frozenset[str]) -> bool:
    return translation is not None and translation.qmp[0] in server


def run_line(port: Port, line: str, *, via: str, server: frozenset[str], history: list[str]) -> Result | None:
    """Run one HMP line over QMP (or answer it in the shell); None: send it to HMP as it is."""
    resolved = resolve(line)
    how = route(resolved, via, server)
    history.append(line.strip())  # every HMP line run, as HMP's own "info history" lists them
    if how == "passthrough":
        return None
    if how == "shell":
        return _shell_answer(resolved, server, history)
    try:
        plan = translate(resolved, port)
    except CommandTimeout:
        raise
    except CommandFailed as err:  # a query the translation needed failed, or the job it ran
        return Result(str(err), True, {})
    except _SHAPES as err:  # a query's reply was not what QEMU sends
        return Result(f"Error: unexpected reply while translating '{resolved.key}': {err!r}", True, {})
    return run_plan(plan, port, quiet=resolved.key.startswith("info "))


def _shell_answer(resolved: Resolved, server: frozenset[str], history: list[str]) -> Result:
    if resolved.key == "info history":
        return Result("\n".join(f"{n}: '{line}'" for n, line in enumerate(history)), False, {})
    from qmpshell.hmp.helptext import help_text

    if resolved.key == "info":
        return Result(help_text("info", server), False, {})
    return Result(help_text(resolved.rest.strip(), server), False, {})


def describe_offer(server: frozenset[str], via: str) -> str:
    """``this server offers 80 HMP commands and 50 info subcommands over QMP`` (said at ``/hmp``)."""
    if via == "passthrough":
        return ""
    top, infos = count_offered(server)
    text = f"this server offers {top} HMP commands and {infos} info subcommands over QMP"
    if PASSTHROUGH in server and via == "auto":
        return text + "; the others go to its own HMP"
    return text + ("; it has no HMP of its own" if PASSTHROUGH not in server else "")


class _NothingSent(Exception):
    """A translation that must ask the server first: a dry run cannot show its messages."""


class _DryPort:
    def __init__(self, typer: ArgumentTyper | None, cpu_index: int | None) -> None:
        self._typer, self.cpu_index = typer, cpu_index

    def exchange(self, command: str, arguments: dict[str, Any]) -> dict[str, Any]:
        raise _NothingSent(command)

    def typer(self) -> ArgumentTyper | None:
        return self._typer


def dry_messages(
    line: str, *, typer: ArgumentTyper | None, cpu_index: int | None
) -> list[dict[str, Any]] | None:
    """``--dry-run``: the QMP messages a translated line sends; [] if the shell answers it, None if the
    line would go to HMP (not translated, or its translation must ask the server first)."""
    resolved = resolve(line)
    if resolved.shell:
        return []
    if resolved.translation is None or resolved.spec is None:
        return None
    port = _DryPort(typer, cpu_index)
    try:
        plan = translate(resolved, port)
    except _NothingSent:
        return None
    messages = []
    for call in plan.calls:
        arguments = typed_arguments(call, port.typer)
        messages.append({"execute": call.command, **({"arguments": arguments} if arguments else {})})
    return messages


def command_names(listed: Any) -> frozenset[str]:
    """The names in a ``query-commands`` reply (whatever else a server put there is skipped)."""
    items = listed if isinstance(listed, list) else []
    return frozenset(str(c["name"]) for c in items if isinstance(c, dict) and "name" in c)
