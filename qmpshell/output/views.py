"""Replies for people: the first view that fits the reply, falling back to indented JSON.

``render_reply`` is what both front-ends call in their human formats.  A command
with a view of its own (``SPECIFIC``) tries it first; then the generic views in
order; then JSON.  This module is imported only when a reply is first shown
this way, so neither the first prompt nor batch JSON output pays for it.
"""

from __future__ import annotations

from qmpshell.output import block, machine, migrate, pci, servers
from qmpshell.output.generic import GENERIC, Context, View
from qmpshell.output.render import error_summary
from qmpshell.output.rows import Line, Rendering, json_lines
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from qmpshell.schema.index import SchemaIndex

SPECIFIC: dict[str, tuple[str, View]] = {
    "query-status": ("status", machine.status_view),
    "query-version": ("version", machine.version_view),
    "query-cpus-fast": ("cpus", machine.cpus_view),
    "query-name": ("name", machine.name_view),
    "qom-list": ("qom-list", machine.qom_list_view),
    "query-commands": ("names", machine.names_view),
    "query-events": ("names", machine.names_view),
    "query-migrate": ("migrate", migrate.migrate_view),
    "query-pci": ("pci", pci.pci_view),
    "query-block": ("block", block.block_view),
    "query-named-block-nodes": ("block-nodes", block.nodes_view),
    "query-jobs": ("jobs", block.jobs_view),
    "query-block-jobs": ("jobs", block.block_jobs_view),
    "query-block-exports": ("exports", servers.exports_view),
    "x-debug-query-block-graph": ("block-graph", servers.block_graph_view),
    "guest-info": ("guest-info", servers.guest_info_view),
    "guest-exec-status": ("guest-exec-status", servers.guest_exec_status_view),
    "guest-file-read": ("guest-file-read", servers.guest_file_read_view),
}


def render_reply(
    response: Message,
    *,
    command: str = "",
    width: int = 100,
    index: SchemaIndex | None = None,
    hint: str = "",
) -> Rendering:
    """A QMP response as lines: an error in one line (and its hint), else the return value's view."""
    if "error" in response:
        return Rendering(error_lines(response, hint), "error").safe()
    if "return" not in response:
        return Rendering(json_lines(response))
    rendering = render_value(
        response["return"], Context(command, max(width, 20), index, _ret_type(index, command))
    )
    if hint:  # what an ``ok`` does not say (``qmpshell.guestnotes``)
        rendering.lines.append([("hint", hint)])
    return rendering


def render_value(value: Any, ctx: Context) -> Rendering:
    """The first view that fits ``value``, else indented JSON.

    A view that trips over a shape it did not expect (a server's reply can be anything) counts as
    not fitting: the reply is still shown, whole, by the next view or as JSON.
    """
    for name, view in _views_for(ctx.command):
        try:
            lines = view(value, ctx)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            continue
        if lines is not None:
            return Rendering(lines, name).safe()
    return Rendering(json_lines(value))


def _views_for(command: str) -> tuple[tuple[str, View], ...]:
    specific = SPECIFIC.get(command)
    return ((specific,) if specific else ()) + GENERIC


def _ret_type(index: SchemaIndex | None, command: str) -> str:
    entity = index.commands.get(command) if index is not None else None
    return entity.ret_type if entity is not None else ""


def error_lines(response: Message, hint: str = "") -> list[Line]:
    """``error: CLASS: desc``, and the hint on the next line."""
    lines: list[Line] = [[("error", f"error: {error_summary(response)}")]]
    if hint:
        lines.append([("hint", hint)])
    return lines


VIEW_ROWS = 2_000  # a view shows at most this many items of a returned list (C7; docs/limits.md)


def bounded(response: Message) -> tuple[Message, int]:
    """The response with a returned list cut to ``VIEW_ROWS`` items, and the whole count (0: not cut).

    A view lays out every row it is given (200,000 rows took 6.5 s); more than a
    screenful of thousands is read with ``/find`` in JSON, or saved.
    """
    rows = response.get("return")
    if not isinstance(rows, list) or len(rows) <= VIEW_ROWS:
        return response, 0
    return {**response, "return": rows[:VIEW_ROWS]}, len(rows)
