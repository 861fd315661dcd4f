"""``query-pci`` as a bus/device tree: ``BB:SS.F  VVVV:DDDD  class  id``, bridges with their buses.

Ids, classes and addresses are in hex, as ``lspci`` and the PCI specification
write them.  When QEMU gives no class description (it has none for some
classes), the base class name from the PCI Code and ID Assignment
Specification is used.
"""

from __future__ import annotations

from qmpshell.output.generic import Context
from qmpshell.output.rows import BREAK, SEPARATOR, Line, cell, shown, size_text
from qmpshell.output.tree import Node, render_tree
from qmpshell.qmptypes import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BASE_CLASSES = {
    0x00: "Unclassified device",
    0x01: "Mass storage controller",
    0x02: "Network controller",
    0x03: "Display controller",
    0x04: "Multimedia controller",
    0x05: "Memory controller",
    0x06: "Bridge",
    0x07: "Communication controller",
    0x08: "Generic system peripheral",
    0x09: "Input device controller",
    0x0A: "Docking station",
    0x0B: "Processor",
    0x0C: "Serial bus controller",
    0x0D: "Wireless controller",
    0x0E: "Intelligent controller",
    0x0F: "Satellite communications controller",
    0x10: "Encryption controller",
    0x11: "Signal processing controller",
    0x12: "Processing accelerator",
    0x13: "Non-essential instrumentation",
    0x40: "Coprocessor",
    0xFF: "Unassigned class",
}
SHOWN = {"bus", "slot", "function", "id", "class_info", "qdev_id", "regions", "pci_bridge"}


def pci_view(value: Any, ctx: Context) -> list[Line] | None:
    """One tree per root bus."""
    if not isinstance(value, list) or not all(_is_bus(bus) for bus in value):
        return None
    lines: list[Line] = []
    for bus in value:
        extra = [(k, v) for k, v in bus.items() if k not in ("bus", "devices")]
        root = Node([("header", "bus "), cell(bus["bus"])], _pairs(extra), _devices(bus["devices"]))
        lines += render_tree([root], ctx.width)
    return lines


def _is_bus(bus: Any) -> bool:
    return isinstance(bus, dict) and "bus" in bus and _are_devices(bus.get("devices"))


def _are_devices(devices: Any) -> bool:
    """A list of devices of the shape the tree reads; any other shape goes to the JSON, whole."""
    return isinstance(devices, list) and all(_is_device(device) for device in devices)


def _is_device(device: Any) -> bool:
    if not isinstance(device, dict):
        return False
    if not all(isinstance(device.get(key, {}), dict) for key in ("id", "class_info", "pci_bridge")):
        return False
    regions = device.get("regions", [])
    if not isinstance(regions, list) or not all(isinstance(region, dict) for region in regions):
        return False
    bridge = device.get("pci_bridge", {})
    return isinstance(bridge.get("bus", {}), dict) and _are_devices(bridge.get("devices", []))


def _devices(devices: list[Message]) -> list[Node]:
    return [_device(device) for device in devices]


def _device(device: Message) -> Node:
    """``00:01.0  1af4:1001  SCSI controller  vblk0``, then class, subsystem, IRQ and BARs."""
    ids, info = _object(device.get("id")), _object(device.get("class_info"))
    address = f"{_hex(device.get('bus'), 2)}:{_hex(device.get('slot'), 2)}.{_hex(device.get('function'), 1)}"
    line: Line = [
        ("name", address),
        ("", "  "),
        ("number", f"{_hex(ids.get('vendor'), 4)}:{_hex(ids.get('device'), 4)}"),
        ("", "  "),
        ("", _class_name(info)),
    ]
    if "qdev_id" in device:
        line += [("", "  "), ("name", shown(device["qdev_id"]))]
    details = _hex_pairs([("class", _hex(info.get("class"), 4, prefix=True))])
    details += _hex_pairs([(k, _hex(v, 4)) for k, v in ids.items() if k not in ("vendor", "device")])
    details += _pairs([(k, v) for k, v in info.items() if k not in ("class", "desc")])
    details += _pairs([(k, v) for k, v in device.items() if k not in SHOWN])
    for region in device.get("regions", []):
        details += _region(region)
    node = Node(line, details)
    bridge = device.get("pci_bridge")
    if isinstance(bridge, dict):
        node.details += _bridge_details(bridge)
        node.children = _devices(bridge.get("devices", []))
    return node


def _class_name(info: Message) -> str:
    desc = info.get("desc")
    if isinstance(desc, str) and desc:
        return desc
    code = info.get("class")
    return BASE_CLASSES.get(code >> 8, "class ?") if isinstance(code, int) else "class ?"


def _region(region: Message) -> Line:
    """On a line of its own: ``bar 1 memory 0xfe400000  4096 (4 KiB)  32-bit non-prefetchable``."""
    line: Line = [BREAK, ("", f"bar {shown(region.get('bar'))} {shown(region.get('type'))}")]
    line += [("", " "), ("number", _address(region.get("address")))]
    line += [SEPARATOR, *_size(region.get("size"))]
    kind = []
    if "mem_type_64" in region:
        kind.append("64-bit" if region["mem_type_64"] else "32-bit")
    if "prefetch" in region:
        kind.append("prefetchable" if region["prefetch"] else "non-prefetchable")
    if kind:
        line += [SEPARATOR, ("dim", " ".join(kind))]
    known = {"bar", "type", "address", "size", "mem_type_64", "prefetch"}
    return line + _pairs([(k, v) for k, v in region.items() if k not in known])


def _size(size: Any) -> Line:
    """``128 B``, or ``4096 (4 KiB)``: the exact count, and in binary units when that helps."""
    if isinstance(size, int) and not isinstance(size, bool) and 0 <= size < 1024:
        return [("number", str(size)), ("dim", " B")]
    return [("number", shown(size)), ("dim", f" ({size_text(size)})")]


def _bridge_details(bridge: Message) -> Line:
    bus = _object(bridge.get("bus"))
    ranges = [(k, v) for k, v in bus.items() if isinstance(v, dict) and set(v) == {"base", "limit"}]
    line = [BREAK] + _pairs([(k, v) for k, v in bus.items() if (k, v) not in ranges])
    line += _hex_pairs([(k, _range(v)) for k, v in ranges])
    return line + _pairs([(k, v) for k, v in bridge.items() if k not in ("bus", "devices")])


def _pairs(pairs: list[tuple[str, Any]]) -> Line:
    line: Line = []
    for key, value in pairs:
        line += [("", "  "), ("dim", f"{key} "), cell(value)]
    return line


def _hex_pairs(pairs: list[tuple[str, str]]) -> Line:
    """Like ``_pairs`` for numbers already written in hex."""
    line: Line = []
    for key, text in pairs:
        line += [("", "  "), ("dim", f"{key} "), ("number", text)]
    return line


def _range(window: Message) -> str:
    return f"{_hex(window['base'], 1, prefix=True)}-{_hex(window['limit'], 1, prefix=True)}"


def _object(value: Any) -> Message:
    return value if isinstance(value, dict) else {}


def _address(value: Any) -> str:
    if isinstance(value, int) and value < 0:
        return f"unassigned ({value})"
    return _hex(value, 1, prefix=True)


def _hex(value: Any, digits: int, *, prefix: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return shown(value)
    return f"{'0x' if prefix else ''}{value:0{digits}x}"
