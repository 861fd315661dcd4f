"""``query-migrate`` for people: how far it got, with every figure in its unit.

QEMU counts a migration's progress in guest RAM that no longer needs sending
(``ram.total - ram.remaining``); pages that hold only zeros (``ram.duplicate``)
count as done though only a marker for each crosses the wire, so ``transferred``
may be far smaller than ``total`` at 100%.  The headline says both, so the
percentage is not read as bytes sent.
"""

from __future__ import annotations

from qmpshell.output.generic import Context
from qmpshell.output.rows import Line, cell, flatten, size_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STATUS_STYLE = {"completed": "ok", "failed": "error", "cancelled": "warn", "cancelling": "warn"}
MILLISECONDS = frozenset({"total-time", "downtime", "expected-downtime", "setup-time"})
RAM_FIGURES = ("ram.transferred", "ram.remaining", "ram.total")
HEAD = ("status", *RAM_FIGURES, "ram.mbps", "total-time", "downtime", "ram.duplicate")
ZERO_PAGES_NOTE = (
    "zero pages (ram.duplicate) count as migrated without their contents being sent; "
    "the percentage is RAM no longer to send (total - remaining), as QEMU counts progress"
)


def migrate_view(value: Any, ctx: Context) -> list[Line] | None:
    """The status and progress, then transferred, remaining, total, throughput and times, then the rest."""
    if value == {}:
        return [[("dim", "no migration has been started")]]
    if not isinstance(value, dict) or not isinstance(value.get("status"), str):
        return None
    leaves = dict(flatten({k: v for k, v in value.items() if k != "status"})) if len(value) > 1 else {}
    status = value["status"]
    lines: list[Line] = [[(STATUS_STYLE.get(status, "warn"), status), *_progress(leaves)]]
    ordered = [key for key in HEAD if key in leaves]
    ordered += [key for key in ctx.order(list(leaves)) if key not in HEAD]
    width = max((len(key) for key in ordered), default=0)
    lines += [[("key", f"{key}:".ljust(width + 1)), ("", " "), *_figure(key, leaves[key])] for key in ordered]
    if isinstance(leaves.get("ram.duplicate"), int) and leaves["ram.duplicate"] > 0:
        lines.append([("dim", ZERO_PAGES_NOTE)])
    return lines


def _progress(leaves: dict[str, Any]) -> Line:
    """``  100.0% done, 1.3 MiB transferred of 256.8 MiB RAM``."""
    transferred, remaining, total = (leaves.get(key) for key in RAM_FIGURES)
    if not (isinstance(transferred, int) and isinstance(remaining, int) and isinstance(total, int)):
        return []
    if total <= 0 or isinstance(total, bool):
        return []
    done = 100 * (total - remaining) / total
    return [
        ("", f"  {done:.1f}% done"),
        ("dim", f", {size_text(transferred)} transferred of {size_text(total)} RAM"),
    ]


def _figure(key: str, value: Any) -> Line:
    """A figure with its unit: bytes as ``N bytes (1.3 MiB)``, times in ms, ``mbps`` in Mbit/s."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return [cell(value)]
    name = key.rsplit(".", 1)[-1]
    if name in MILLISECONDS:
        return [cell(value), ("dim", " ms")]
    if name == "mbps":
        return [("number", f"{value:.1f}"), ("dim", " Mbit/s")]
    if name in ("transferred", "remaining", "total", "page-size") or name.endswith("-bytes"):
        return [cell(value), ("dim", f" bytes ({size_text(value)})" if value >= 1024 else " bytes")]
    if name == "dirty-pages-rate":
        return [cell(value), ("dim", " pages/s")]
    if name == "duplicate":
        return [cell(value), ("dim", " zero pages")]
    if name == "normal":
        return [cell(value), ("dim", " pages sent whole")]
    return [cell(value)]
