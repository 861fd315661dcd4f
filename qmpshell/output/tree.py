"""Trees: a node's line, its detail lines under it, and its children drawn with guides.

Deep trees (a 50-image backing chain) stop indenting after ``MAX_INDENT``
columns of guides and mark the deeper levels with ``▸``, so every line still
fits the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qmpshell.output.rows import Line, wrap

MAX_INDENT = 24


@dataclass
class Node:
    """One node: its main line, ``key value`` details (wrapped to the width) and children."""

    line: Line
    details: Line = field(default_factory=list)
    children: list[Node] = field(default_factory=list)


def render_tree(roots: list[Node], width: int) -> list[Line]:
    """Roots at the left margin, each followed by its subtree (a stack, not recursion: chains are deep)."""
    lines: list[Line] = []
    stack: list[tuple[Node, str, str | None]] = [(root, "", None) for root in reversed(roots)]
    while stack:
        node, lead, branch = stack.pop()
        lines.append(node.line if branch is None else [("tree", branch), *node.line])
        if node.details:
            guide = lead + ("│  " if node.children else "   ")
            lines += wrap(node.details, width, [("tree", guide)])
        last_index = len(node.children) - 1
        for index in range(last_index, -1, -1):
            last = index == last_index
            child_lead, mark = lead + ("   " if last else "│  "), "─"
            if len(child_lead) > MAX_INDENT:
                child_lead, mark = lead, "▸"
            stack.append((node.children[index], child_lead, lead + ("└" if last else "├") + mark + " "))
    return lines
