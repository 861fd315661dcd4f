"""Colours: the UI's own classes over a pygments style (``Settings.theme``) for JSON.

The default theme, ``terminal``, is made of the terminal's own 16 ANSI colours,
so it follows the user's palette on dark and light backgrounds alike (pygments'
``default`` style assumes a white background: dark grey numbers on black).
"""

from __future__ import annotations

from prompt_toolkit.output import ColorDepth
from prompt_toolkit.styles import BaseStyle, Style, merge_styles, style_from_pygments_cls
from pygments.style import Style as PygmentsStyle
from pygments.token import Keyword, Name, Number, Operator, Punctuation, String

TERMINAL_THEME = "terminal"


class TerminalPalette(PygmentsStyle):
    """JSON in the terminal's ANSI colours: keys blue, strings green, numbers cyan, literals magenta."""

    styles = {
        Name.Tag: "ansiblue",
        String: "ansigreen",
        Number: "ansicyan",
        Keyword.Constant: "ansimagenta",
        Keyword: "ansimagenta",
        Operator: "",
        Punctuation: "",
    }


UI_STYLE = {
    "prompt": "bold ansigreen",
    "prompt.hmp": "bold ansimagenta",
    "prompt.continuation": "ansigray",
    "input.command": "bold ansiblue",
    "input.shell": "bold ansicyan",
    "input.key": "ansicyan",
    "input.equals": "ansigray",
    "input.string": "ansigreen",
    "input.number": "ansiyellow",
    "input.literal": "ansimagenta",
    "input.json": "ansiyellow",
    "input.raw-json": "ansiyellow",
    "input.open": "bold",
    "input.close": "bold",
    "input.text": "",
    "input.comment": "italic ansigray",
    "input.error": "bg:ansired ansiwhite underline",
    "error": "ansired bold",
    "warning": "ansiyellow",
    "hint": "ansiyellow",
    "info": "ansicyan",
    "hmp": "",
    "event.time": "ansigray",
    "event.name": "bold ansiyellow",
    "events.title": "reverse",
    "separator": "ansigray",
    "status": "reverse",
    "signature": "italic fg:ansicyan",
    "status.lost": "bg:ansired ansiwhite bold",
    "status.busy": "bg:ansiyellow ansiblack",
    "dim": "ansigray",
    "event.cut": "ansigray",
    "event.target.0": "bold ansicyan",
    "event.target.1": "bold ansimagenta",
    "event.target.2": "bold ansigreen",
    "event.target.3": "bold ansiblue",
    "event.target.4": "bold ansired",
    "event.target.5": "bold ansiyellow",
    "prompt.target": "bold",
    "output.notice": "reverse",
    "search.match": "bg:ansiyellow ansiblack",
    "search.current": "bg:ansicyan ansiblack bold",
    # replies shown by the views of qmpshell.output (see output/rows.py STYLES)
    "view.dim": "ansigray",
    "view.ok": "ansigreen",
    "view.hint": "ansiyellow",
    "view.warn": "ansiyellow",
    "view.header": "bold",
    "view.key": "ansiblue",
    "view.name": "bold",
    "view.string": "ansigreen",
    "view.number": "ansicyan",
    "view.keyword": "ansimagenta",
    "view.tree": "ansigray",
    "view.text": "",
}


def build_style(theme: str) -> BaseStyle:
    """Our classes on top of the named pygments style (the terminal's palette when unknown)."""
    pygments_style: type[PygmentsStyle] = TerminalPalette
    if theme != TERMINAL_THEME:  # pygments' styles (and html.entities under them): only when named
        from pygments.styles import get_style_by_name
        from pygments.util import ClassNotFound

        try:
            pygments_style = get_style_by_name(theme)
        except ClassNotFound:
            pass
    return merge_styles([style_from_pygments_cls(pygments_style), Style.from_dict(UI_STYLE)])


def color_depth(color: str) -> ColorDepth | None:
    """--color=never is monochrome, always is 256 colours even under $NO_COLOR; auto asks the terminal."""
    return {"never": ColorDepth.DEPTH_1_BIT, "always": ColorDepth.DEPTH_8_BIT}.get(color)
