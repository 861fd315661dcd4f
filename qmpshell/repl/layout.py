"""The screen, one named function per pane (see prompt_toolkit's full-screen examples)::

+-------------------------------------+------------------+
| output: commands and replies        | events (F2)      |
|   (PageUp / PageDown, /find, F4)    |   newest last    |
| [scrolled back / find: match 2 of 5]|                  |
+-------------------------------------+------------------+
| qmp> input line, highlighted, Tab completes             |
| status: address | QEMU version | run state | mode | n   |
+---------------------------------------------------------+
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prompt_toolkit.application import Application
from prompt_toolkit.application.current import get_app
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import Completer
from prompt_toolkit.filters import Condition, to_filter
from prompt_toolkit.formatted_text import AnyFormattedText, StyleAndTextTuples
from prompt_toolkit.history import History
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindingsBase
from prompt_toolkit.layout import (
    ConditionalContainer,
    Float,
    FloatContainer,
    HSplit,
    Layout,
    VSplit,
    Window,
)
from prompt_toolkit.layout.controls import FormattedTextControl
from prompt_toolkit.layout.dimension import Dimension
from prompt_toolkit.layout.menus import CompletionsMenu
from prompt_toolkit.lexers import Lexer
from prompt_toolkit.output import Output
from prompt_toolkit.widgets import SearchToolbar, TextArea

from qmpshell.config import Settings
from qmpshell.repl.keys import editing_mode
from qmpshell.repl.panes import Decorate, EventFeed, OutputLog
from qmpshell.repl.style import build_style, color_depth


@dataclass
class Screen:
    """The parts the application talks to after building."""

    layout: Layout
    input: TextArea
    output_window: Window


def output_window(
    log: OutputLog, decorate: Decorate | None = None, fit: Callable[[int, int], None] | None = None
) -> Window:
    """The scrollback; the window keeps the log's cursor line in view.  ``fit(width, height)``
    first lays out again the replies in view drawn at another width (``relayout``)."""
    return Window(log.control(decorate, fit=fit), wrap_lines=True)


def output_column(window: Window, notice: Callable[[int], str]) -> HSplit:
    """The output, and under it a line saying it is scrolled back or searched (only then).

    ``notice`` is given the pane's width (0 before the first drawing), to fit its text in.
    """

    def width() -> int:
        info = window.render_info
        return info.window_width if info is not None else 0

    line = Window(FormattedTextControl(lambda: [("class:output.notice", notice(width()))]), height=1)
    shown = ConditionalContainer(line, filter=Condition(lambda: bool(notice(0))))
    return HSplit([window, shown], width=Dimension(weight=3))


def events_pane(
    feed: EventFeed, shown: Callable[[], bool], columns: Callable[[], int] | None = None
) -> ConditionalContainer:
    """A separator, a title naming the filter, and the newest events at the bottom.

    ``columns``: the pane's width with its separator (``events.pane_width``); else two fifths.
    """

    def title() -> StyleAndTextTuples:
        what = " events" + (f" [{' '.join(feed.patterns)}]" if feed.patterns else "") + "  (F2 hides)"
        return [("class:events.title", what)]

    column = HSplit(
        [
            Window(FormattedTextControl(title), height=1, style="class:events.title"),
            Window(feed.control(), wrap_lines=False),
        ],
        width=Dimension(weight=2),
    )
    separator = Window(width=1, char="\u2502", style="class:separator")
    width = (lambda: Dimension.exact(columns())) if columns is not None else Dimension(weight=2)
    pane = VSplit([separator, column], width=width)
    return ConditionalContainer(pane, filter=Condition(shown))


def input_area(
    *,
    prompt: AnyFormattedText,
    lexer: Lexer,
    completer: Completer,
    history: History,
    accept: Callable[[Buffer], bool],
    search: SearchToolbar,
) -> TextArea:
    """The input: one line, growing to show a pasted or recalled multi-line statement.

    Enter accepts whatever it holds (the buffer is not multi-line for the keys);
    lines after the first are prefixed like continuation lines.  Ctrl-R
    searches the history through ``search``.
    """
    area = TextArea(
        prompt=prompt,
        multiline=True,
        height=Dimension(min=1, max=INPUT_MAX_LINES),
        lexer=lexer,
        completer=completer,
        complete_while_typing=False,
        history=history,
        accept_handler=accept,
        search_field=search,
        wrap_lines=True,
        dont_extend_height=True,
        get_line_prefix=_continuation_prefix,
    )
    area.buffer.multiline = to_filter(False)
    return area


INPUT_MAX_LINES = 10


def _continuation_prefix(line: int, wrap_count: int) -> StyleAndTextTuples:
    return [("class:prompt.continuation", "...> ")] if line and not wrap_count else []


def queued_lines(lines: Callable[[], StyleAndTextTuples]) -> ConditionalContainer:
    """Lines typed while a command runs, shown above the input until they run."""
    window = Window(FormattedTextControl(lines), dont_extend_height=True, style="class:queued")
    return ConditionalContainer(window, filter=Condition(lambda: bool(lines())))


def status_bar(fragments: Callable[[], StyleAndTextTuples]) -> Window:
    return Window(FormattedTextControl(fragments), height=1, style="class:status")


def signature_bar(signature: Callable[[], str]) -> ConditionalContainer:
    """The schema's signature of the command being typed; hidden when there is none.

    A signature wider than the bar ends in ``…``, so a cut is never silent.
    """

    def text() -> StyleAndTextTuples:
        line = signature()
        width = get_app().output.get_size().columns  # the bar spans the screen
        if width > 1 and len(line) > width:
            line = line[: width - 1] + "\u2026"
        return [("class:signature", line)]

    window = Window(FormattedTextControl(text), height=1)
    return ConditionalContainer(window, filter=Condition(lambda: bool(signature())))


def build_screen(
    *,
    log: OutputLog,
    feed: EventFeed,
    events_shown: Callable[[], bool],
    input_line: TextArea,
    events_columns: Callable[[], int] | None = None,
    search: SearchToolbar,
    status: Callable[[], StyleAndTextTuples],
    signature: Callable[[], str] = lambda: "",
    decorate: Decorate | None = None,
    output_notice: Callable[[int], str] = lambda width: "",
    queued: Callable[[], StyleAndTextTuples] = lambda: [],
    fit: Callable[[int, int], None] | None = None,
) -> Screen:
    """Put the panes together, with the completion menu floating at the cursor.

    The menu floats over the panes and the input only, so it opens above the
    input line and never covers the search, signature or status bars.
    """
    output = output_window(log, decorate, fit)
    upper = HSplit(
        [
            VSplit([output_column(output, output_notice), events_pane(feed, events_shown, events_columns)]),
            Window(height=1, char="\u2500", style="class:separator"),
            queued_lines(queued),
            input_line,
        ]
    )
    menu = Float(xcursor=True, ycursor=True, content=CompletionsMenu(max_height=12, scroll_offset=1))
    body = HSplit(
        [FloatContainer(upper, floats=[menu]), search, signature_bar(signature), status_bar(status)]
    )
    layout = Layout(body, focused_element=input_line)
    return Screen(layout, input_line, output)


ESCAPE_WAIT = 0.1  # seconds after Esc that a key still makes Meta-KEY (prompt_toolkit waits 1 s)


def full_screen_application(
    layout: Layout,
    key_bindings: KeyBindingsBase,
    settings: Settings,
    *,
    input: Input | None,
    output: Output | None,
) -> Application[int]:
    """The prompt_toolkit application of the full screen, styled and keyed as configured."""
    app: Application[int] = Application(
        layout=layout,
        key_bindings=key_bindings,
        style=build_style(settings.theme),
        full_screen=True,
        input=input,
        output=output,
        editing_mode=editing_mode(settings.key_bindings),
        color_depth=color_depth(settings.color),
    )
    app.ttimeoutlen = app.timeoutlen = ESCAPE_WAIT  # Esc, / a moment later: not Meta-/
    return app
