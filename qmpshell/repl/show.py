"""What the output pane shows for a statement and its outcome, as styled fragments.

Replies are indented JSON coloured by pygments; QMP and HMP errors, and
failures of the shell itself, are in the error style; a parse error shows the
line with a caret under the fault.
"""

from __future__ import annotations

from prompt_toolkit.formatted_text import StyleAndTextTuples

from qmpshell.errors import ParseError, QmpShellError
from qmpshell.output.render import error_summary, event_summary, hmp_text, json_text
from qmpshell.repl.lexer import input_fragments, json_fragments
from qmpshell.shell import EventSeen, HmpOutput, Info, Outcome, Reply


def echo(prompt: str, text: str, *, hmp: bool) -> StyleAndTextTuples:
    """The statement as it was typed, after its prompt, highlighted like the input line."""
    indent = " " * len(prompt)
    fragments: StyleAndTextTuples = [("class:prompt", prompt)]
    for fragment in input_fragments(text, hmp=hmp):
        fragments.append((fragment[0], fragment[1].replace("\n", "\n" + indent)))
    fragments.append(("", "\n"))
    return fragments


def outcome(result: Outcome) -> StyleAndTextTuples:
    """A reply, HMP output, awaited event or notice; other outcomes show nothing themselves."""
    if isinstance(result, Reply):
        return reply(result)
    if isinstance(result, HmpOutput):
        text = hmp_text(result.text).rstrip("\n")
        if not text:
            return [("class:dim", "(no output)\n")]  # so a command that printed nothing still says so
        return [("class:error" if result.error else "class:hmp", text + "\n")]
    if isinstance(result, EventSeen):
        return [("class:event.name", event_summary(result.event) + "\n")]
    if isinstance(result, Info):
        return info(result.text)
    return []


def reply(result: Reply) -> StyleAndTextTuples:
    fragments = json_fragments(json_text(result.response, pretty=True))
    fragments.append(("", "\n"))
    if not result.ok:
        fragments.extend(error(error_summary(result.response)))
        if result.hint:
            fragments.append(("class:hint", result.hint + "\n"))
    return fragments


def info(text: str) -> StyleAndTextTuples:
    return [("class:info", text.rstrip("\n") + "\n")]


def error(text: str) -> StyleAndTextTuples:
    return [("class:error", "error: " + text.rstrip("\n") + "\n")]


def warning(text: str) -> StyleAndTextTuples:
    return [("class:warning", "warning: " + text + "\n")]


def notice(text: str) -> StyleAndTextTuples:
    """A line a launched QEMU wrote on its stderr (it names itself: ``qemu-system-x86_64: ...``)."""
    return [("class:warning", text + "\n")]


def failure(err: QmpShellError) -> StyleAndTextTuples:
    """A failure the shell reports: a parse error with its caret, else one line."""
    if isinstance(err, ParseError):
        return error(err.render())
    return error(str(err))
