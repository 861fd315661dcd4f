"""What the output pane shows for a statement and its outcome, as styled fragments.

Replies are shown as the ``Presentation`` says: ``auto`` (the default) through the view
that fits them (``qmpshell.output.views``: tables, trees, text; imported when
the first reply is shown, so the first prompt does not wait for it), ``json``
indented and coloured by pygments, ``compact`` on one line.  QMP and HMP
errors, and failures of the shell itself, are in the error style; a parse error
shows the line with a caret under the fault.
"""

from __future__ import annotations

from dataclasses import dataclass

from prompt_toolkit.formatted_text import StyleAndTextTuples

from qmpshell.errors import ParseError, QmpShellError
from qmpshell.outcomes import EventSeen, HmpOutput, Info, Outcome, ProgramOutput, Reply
from qmpshell.output.render import error_summary, hmp_text, json_text
from qmpshell.output.safe import visible, with_caret
from qmpshell.repl.lexer import input_fragments, json_fragments

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.output.rows import Line
    from qmpshell.schema.index import SchemaIndex

HIGHLIGHT_LIMIT = 64 * 1024  # characters: longer JSON from a view is shown plain (pygments: ~1.5 ms/KB)
# View styles (``qmpshell.output.rows.STYLES``) that map to an existing class rather than ``view.NAME``.
_CLASSES = {
    "": "",
    "time": "class:event.time",
    "event": "class:event.name",
    "error": "class:error",
    "json": "class:view.json",
}


@dataclass(frozen=True)
class Presentation:
    """How replies are shown: ``format`` (auto, json, compact), the pane's width, the schema."""

    format: str = "auto"
    width: int = 100
    index: SchemaIndex | None = None


JSON_PRESENTATION = Presentation("json")


def reply_width(pane: int) -> int:
    """The columns a reply is laid out in, in a pane ``pane`` cells wide: one spare for the cursor."""
    return max(20, pane - 1)


def echo(prompt: str, text: str, *, hmp: bool) -> StyleAndTextTuples:
    """The statement as it was typed, after its prompt, highlighted like the input line."""
    indent = " " * len(prompt)
    fragments: StyleAndTextTuples = [("class:prompt", prompt)]
    for fragment in input_fragments(text, hmp=hmp):
        fragments.append((fragment[0], fragment[1].replace("\n", "\n" + indent)))
    fragments.append(("", "\n"))
    return fragments


def outcome(result: Outcome, presentation: Presentation = JSON_PRESENTATION) -> StyleAndTextTuples:
    """A reply, HMP output, awaited event or notice; other outcomes show nothing themselves."""
    if isinstance(result, Reply):
        return reply(result, presentation)
    if isinstance(result, HmpOutput):
        text = hmp_text(result.text).rstrip("\n")
        if result.ok and not text:
            return [("class:dim", "ok\n")]  # a {} reply: HMP prints nothing
        if not text:
            return [("class:dim", "(no output)\n")]  # so a command that printed nothing still says so
        return [("class:error" if result.error else "class:hmp", text + "\n")]
    if isinstance(result, EventSeen):
        from qmpshell.output.events import event_line

        return view_fragments([event_line(result.event)])
    if isinstance(result, Info):
        return info(result.text)
    if isinstance(result, ProgramOutput):
        return program(result)
    return []


def program(ran: ProgramOutput) -> StyleAndTextTuples:
    """``/guest-exec``: stdout as it is, stderr in the error colour, then the exit code unless 0."""
    fragments: StyleAndTextTuples = []
    if ran.stdout:
        fragments.append(("class:hmp", visible(ran.stdout.rstrip("\n")) + "\n"))
    if ran.stderr:
        fragments.append(("class:error", visible(ran.stderr.rstrip("\n")) + "\n"))
    if ran.ending:
        fragments.append(("class:warning", ran.ending + "\n"))
    return fragments or [("class:dim", "(no output)\n")]


def reply(result: Reply, presentation: Presentation = JSON_PRESENTATION) -> StyleAndTextTuples:
    """The reply as the presentation says; ``| json`` and ``/json`` ask for indented JSON whatever it is."""
    if presentation.format == "auto" and not result.as_json:
        from qmpshell.output.views import VIEW_ROWS, bounded, render_reply

        response, total = bounded(result.response)
        rendering = render_reply(
            response,
            command=result.command,
            width=presentation.width,
            index=presentation.index,
            hint=result.hint,
        )
        fragments = view_fragments(rendering.lines)
        if total:
            fragments.append(
                ("class:dim", f"first {VIEW_ROWS:,} rows of {total:,}; /json or /save reply for all\n")
            )
        return fragments
    pretty = presentation.format != "compact" or result.as_json
    fragments = json_fragments(json_text(result.response, pretty=pretty))
    fragments.append(("", "\n"))
    if not result.ok:
        fragments.extend(error(error_summary(result.response)))
    if result.hint:
        fragments.append(("class:hint", result.hint + "\n"))
    return fragments


def view_fragments(lines: list[Line]) -> StyleAndTextTuples:
    """A view's ``(style, text)`` lines as prompt_toolkit fragments; JSON segments highlighted."""
    fragments: StyleAndTextTuples = []
    for line in lines:
        for style, text in line:
            if style == "json" and len(text) <= HIGHLIGHT_LIMIT:
                fragments.extend(json_fragments(text))
            else:
                fragments.append((_CLASSES.get(style, f"class:view.{style}"), text))
        fragments.append(("", "\n"))
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
        return error(with_caret(err.what, err.text, err.column))  # caret counts ^A as two columns
    return error(str(err))
