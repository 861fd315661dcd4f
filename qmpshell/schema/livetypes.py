"""Typing by asking the running QEMU: device and object properties, QOM property types.

Split from ``schema.live`` (completion's live values, with its worker thread and records) so that
a batch line with arguments types its values without importing what completion alone needs.
"""

from __future__ import annotations

from collections.abc import Callable

from qmpshell.protocol.pending import QmpError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

Ask: TypeAlias = (
    "Callable[[str, dict[str, Any]], Any]"  # a blocking question for QEMU: command, arguments -> return
)


class LiveTypes:
    """``PropertyTypes`` (see ``schema.values``) answered by asking QEMU while a statement is typed.

    ``ask`` blocks (it runs on the thread that parses, never the UI's) and may
    raise: a stopped wait or a lost connection ends the statement.  A question
    QEMU refuses (no such driver or path) means "no type known".  Device types
    and properties never change for a QEMU process, so ``cache`` keeps them
    (share one per server); QOM paths come and go, so they are asked each time.
    """

    def __init__(self, ask: Ask, cache: dict[tuple[str, str], Any] | None = None) -> None:
        self._ask = ask
        self._cache = cache if cache is not None else {}

    def device_types(self) -> list[str] | None:
        found = self._cached(
            "device-types", "", "qom-list-types", {"implements": "device", "abstract": False}
        )
        return [t["name"] for t in _dicts(found) if "name" in t] if found is not None else None

    def device_properties(self, driver: str) -> dict[str, str] | None:
        return _types(self._cached("device-props", driver, "device-list-properties", {"typename": driver}))

    def object_properties(self, qom_type: str) -> dict[str, str] | None:
        return _types(self._cached("object-props", qom_type, "qom-list-properties", {"typename": qom_type}))

    def qom_property_type(self, path: str, name: str) -> str | None:
        found = _types(self._question("qom-list", {"path": path}))
        return found.get(name) if found is not None else None

    def _cached(self, kind: str, key: str, command: str, arguments: dict[str, Any]) -> Any:
        if (kind, key) not in self._cache:
            self._cache[kind, key] = self._question(command, arguments)
        return self._cache[kind, key]

    def _question(self, command: str, arguments: dict[str, Any]) -> Any:
        try:
            return self._ask(command, arguments)
        except QmpError:
            return None


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _types(found: Any) -> dict[str, str] | None:
    """``[{"name": n, "type": t}, ...]`` as ``{n: t}``."""
    if found is None:
        return None
    return {p["name"]: str(p.get("type", "")) for p in _dicts(found) if "name" in p}
