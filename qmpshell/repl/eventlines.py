"""An event as the events pane (and the line mode) shows it: one line, or two when it is long.

``HH:MM:SS.mmm [TARGET] NAME key=value...``: the identifying fields and the state
come first (``qmpshell.output.events``), so a line cut at the pane's width keeps
them; a long event goes on to a second line rather than being cut.  A target's
name is in its colour (``event.target.N`` in the style).
"""

from __future__ import annotations

from prompt_toolkit.formatted_text import StyleAndTextTuples

from qmpshell.output.events import event_line as compact_event
from qmpshell.qmptypes import Message
from qmpshell.repl.fleet import TARGET_KEY
from qmpshell.repl.styled import view_fragments

ELLIPSIS = "\u2026"
TARGET_COLOURS = 6  # event.target.0 ... .5 in the style


def event_line(
    event: Message, width: int = 0, *, colours: dict[str, int] | None = None
) -> StyleAndTextTuples:
    """``HH:MM:SS.mmm NAME key=value...`` (``qmpshell.output.events``: identifying fields first),
    cut with ``…`` to ``width``; in an event tagged with its target the target's name comes before
    the event's (``12:00:01.234 src MIGRATION status=active``), in that target's colour."""
    target = event.get(TARGET_KEY)
    if not isinstance(target, str):
        return cut_line(view_fragments([compact_event(event)])[:-1], width)
    untagged = {key: value for key, value in event.items() if key != TARGET_KEY}
    colour = (colours or {}).get(target, 0) % TARGET_COLOURS
    line = view_fragments([compact_event(untagged)])[:-1]
    at = next((n for n, fragment in enumerate(line) if fragment[0] == "class:event.name"), 0)
    return cut_line([*line[:at], (f"class:event.target.{colour}", f"{target} "), *line[at:]], width)


EVENT_LINES = 2  # an event longer than the pane is wide takes this many lines at most
CONTINUED = "  "  # the indent of an event's second line


def wrapped_event(
    event: Message, width: int, *, colours: dict[str, int] | None = None
) -> list[StyleAndTextTuples]:
    """The event's compact line (``event_line``: a target's name in its colour) in up to
    ``EVENT_LINES`` lines of ``width``; the last cut with ``…``.

    Its identifying field and state come first (``qmpshell.output.events``), so they are
    on the first line or the second, never cut.
    """
    line = event_line(event, colours=colours)
    if width <= 0 or sum(len(fragment[1]) for fragment in line) <= width:
        return [line]
    first, rest = _split_at(line, width)
    lines = [first]
    while rest and len(lines) < EVENT_LINES - 1:
        more, rest = _split_at([("", CONTINUED), *rest], width)
        lines.append(more)
    if rest:
        lines.append(cut_line([("", CONTINUED), *rest], width))
    return lines


def _split_at(line: StyleAndTextTuples, width: int) -> tuple[StyleAndTextTuples, StyleAndTextTuples]:
    """The first ``width`` cells of ``line`` and the rest: at the last space between two
    ``key=value`` pairs that fits, else (one pair wider than the line) inside it."""
    used, space = 0, -1
    for index, (_style, text, *_) in enumerate(line):
        if used + len(text) > width:
            break
        if text == " " and index > 0:
            space = index
        used += len(text)
    else:
        return line, []
    if space > 0:
        return line[:space], line[space + 1 :]
    head: StyleAndTextTuples = []
    tail: StyleAndTextTuples = []
    room = width
    for style, text, *_ in line:
        if room > 0:
            head.append((style, text[:room]))
            if len(text) > room:
                tail.append((style, text[room:]))
            room -= len(text[:room])
        else:
            tail.append((style, text))
    return head, tail[1:] if tail and tail[0][1] == " " else tail


def separator_line(text: str, width: int) -> StyleAndTextTuples:
    rule = "\u2500" * 2
    body = f"{rule} {text} "
    fill = "\u2500" * max(0, width - len(body)) if width else rule
    return cut_line([("class:separator", body + fill)], width)


def cut_line(line: StyleAndTextTuples, width: int) -> StyleAndTextTuples:
    """``line`` in ``width`` cells (0: as is); a cut line ends in ``…`` so it is never cut silently."""
    if width <= 0 or sum(len(fragment[1]) for fragment in line) <= width:
        return line
    kept: StyleAndTextTuples = []
    room = width - 1
    for style, text, *_ in line:
        if room <= 0:
            break
        kept.append((style, text[:room]))
        room -= len(text[:room])
    kept.append(("class:event.cut", ELLIPSIS))
    return kept
