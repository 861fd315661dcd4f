"""Colours: the UI's own classes over a pygments style (``Settings.theme``) for JSON."""

from __future__ import annotations

from prompt_toolkit.styles import BaseStyle, Style, merge_styles, style_from_pygments_cls
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound

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
}


def build_style(theme: str) -> BaseStyle:
    """Our classes on top of the named pygments style (``default`` when unknown)."""
    try:
        pygments_style = get_style_by_name(theme)
    except ClassNotFound:
        pygments_style = get_style_by_name("default")
    return merge_styles([style_from_pygments_cls(pygments_style), Style.from_dict(UI_STYLE)])
