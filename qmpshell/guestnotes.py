"""What a command's ``ok`` does not say: the guest still has to act (or a user of the thing).

``device_del`` returns at once, but the device goes only when the guest releases it
(``DEVICE_DELETED`` then comes; without a guest that answers it never does).
``system_powerdown`` only presses the power button.  The shell adds a line saying so,
and how to wait for the end, under the reply.
"""

from __future__ import annotations

from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def note_for(command: str, arguments: Message, response: Message) -> str:
    """The line to show under ``response`` to ``command``, or ''."""
    name = arguments.get("id")
    shown = name if isinstance(name, str) else "ID"
    if "error" in response:
        return _in_use(command, response)
    if command == "device_del":
        return (
            f"note: the guest must release the device before it goes (nothing is removed until it does); "
            f"wait for it with /wait DEVICE_DELETED device={shown}"
        )
    if command == "netdev_del":
        return (
            "note: a network device still using this backend keeps its end until the device itself is "
            "unplugged (device_del, then /wait DEVICE_DELETED device=ID)"
        )
    if command == "system_powerdown":
        return (
            "note: this presses the power button only; the guest decides whether to shut down: "
            "/wait SHUTDOWN to see it happen"
        )
    return ""


class Unplugs:
    """Devices a ``device_del`` asked to remove, until their ``DEVICE_DELETED`` comes (completion says so)."""

    def __init__(self) -> None:
        self._asked: dict[str, int] = {}  # id -> the event number when device_del was answered

    def asked(self, command: str, arguments: Message, response: Message, position: int) -> None:
        if command == "device_del" and "error" not in response and isinstance(arguments.get("id"), str):
            self._asked[arguments["id"]] = position

    def pending(self, events_from: Any) -> set[str]:
        """The ids still waiting for the guest; ``events_from(n)``: the events from number n on."""
        for name, position in list(self._asked.items()):
            done = any(
                event.get("event") == "DEVICE_DELETED" and (event.get("data") or {}).get("device") == name
                for event in events_from(position)
            )
            if done:
                del self._asked[name]
        return set(self._asked)


def _in_use(command: str, response: Message) -> str:
    """``object-del`` of an object a device uses fails: the device must go first."""
    error: Any = response.get("error")
    desc = error.get("desc", "") if isinstance(error, dict) else ""
    if command == "object-del" and isinstance(desc, str) and "in use" in desc:
        return (
            "note: remove what uses it first: device_del id=ID, /wait DEVICE_DELETED device=ID "
            "(the guest must release the device), then object-del again"
        )
    return ""
