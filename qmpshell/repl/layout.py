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

from prompt_toolkit.buffer import Buffer
from prompt_toolkit.completion import Completer
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import AnyFormattedText, StyleAndTextTuples
from prompt_toolkit.history import History
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
from prompt_toolkit.widgets import SearchToolbar, TextArea

from qmpshell.repl.panes import Decorate, EventFeed, OutputLog


@dataclass
class Screen:
    """The parts the application talks to after building."""

    layout: Layout
    input: TextArea
    output_window: Window


def output_window(log: OutputLog, decorate: Decorate | None = None) -> Window:
    """The scrollback; the window keeps the log's cursor line in view."""
    return Window(log.control(decorate), wrap_lines=True)


def output_column(window: Window, notice: Callable[[], str]) -> HSplit:
    """The output, and under it a line saying it is scrolled back or searched (only then)."""
    line = Window(FormattedTextControl(lambda: [("class:output.notice", notice())]), height=1)
    shown = ConditionalContainer(line, filter=Condition(lambda: bool(notice())))
    return HSplit([window, shown], width=Dimension(weight=3))


def events_pane(feed: EventFeed, shown: Callable[[], bool]) -> ConditionalContainer:
    """A separator, a title naming the filter, and the newest events at the bottom."""

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
    pane = VSplit([separator, column], width=Dimension(weight=2))
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
    """The one-line input; Ctrl-R searches the history through ``search``."""
    return TextArea(
        prompt=prompt,
        multiline=False,
        lexer=lexer,
        completer=completer,
        complete_while_typing=False,
        history=history,
        accept_handler=accept,
        search_field=search,
        wrap_lines=True,
        dont_extend_height=True,
    )


def status_bar(fragments: Callable[[], StyleAndTextTuples]) -> Window:
    return Window(FormattedTextControl(fragments), height=1, style="class:status")


def signature_bar(signature: Callable[[], str]) -> ConditionalContainer:
    """The schema's signature of the command being typed; hidden when there is none."""
    window = Window(FormattedTextControl(lambda: [("class:signature", signature())]), height=1)
    return ConditionalContainer(window, filter=Condition(lambda: bool(signature())))


def build_screen(
    *,
    log: OutputLog,
    feed: EventFeed,
    events_shown: Callable[[], bool],
    input_line: TextArea,
    search: SearchToolbar,
    status: Callable[[], StyleAndTextTuples],
    signature: Callable[[], str] = lambda: "",
    decorate: Decorate | None = None,
    output_notice: Callable[[], str] = lambda: "",
) -> Screen:
    """Put the panes together, with the completion menu floating at the cursor."""
    output = output_window(log, decorate)
    body = HSplit(
        [
            VSplit([output_column(output, output_notice), events_pane(feed, events_shown)]),
            Window(height=1, char="\u2500", style="class:separator"),
            input_line,
            search,
            signature_bar(signature),
            status_bar(status),
        ]
    )
    menu = Float(xcursor=True, ycursor=True, content=CompletionsMenu(max_height=12, scroll_offset=1))
    layout = Layout(FloatContainer(body, floats=[menu]), focused_element=input_line)
    return Screen(layout, input_line, output)
