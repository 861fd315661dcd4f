"""The HMP argument parser (QEMU's args_type conventions) and the translations, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from qmpshell.errors import UsageError
from qmpshell.hmp.args import opts, parse_args, parse_size
from qmpshell.hmp.engine import resolve, route, translate, typed_arguments
from qmpshell.hmp.table import COMMANDS, INFO, QEMU_72_COMMANDS, QEMU_72_INFO
from qmpshell.language.untyped import GuessingTyper


@pytest.mark.parametrize(
    ("command", "text", "expected"),
    [
        ("block_resize", "d0 2G", {"device": "d0", "size": 2 << 30}),
        ("block_resize", "d0 100", {"device": "d0", "size": 100 << 20}),  # no suffix: MiB, as HMP reads it
        ("block_resize", "d0 512k", {"device": "d0", "size": 512 << 10}),
        ("block_job_cancel", "-f job0", {"force": True, "device": "job0"}),
        ("migrate", "-d tcp:0:4444", {"detach": True, "uri": "tcp:0:4444"}),
        (
            "change",
            "ide1-cd0 -f /x.iso raw",
            {"device": "ide1-cd0", "force": True, "target": "/x.iso", "arg": "raw"},
        ),
        ("screendump", "/tmp/a.png -f png", {"filename": "/tmp/a.png", "format": "png"}),
        ("set_link", "n1 off", {"name": "n1", "up": False}),
        ("balloon", "512", {"value": 512 << 20}),
        ("qom-set", "/machine x a b", {"path": "/machine", "property": "x", "value": "a b"}),
        ("ringbuf_write", 'c0 "a \\"b\\"\\n"', {"device": "c0", "data": 'a "b"\n'}),
        ("mouse_move", "-10 5", {"dx_str": "-10", "dy_str": "5"}),
    ],
)
def test_arguments_follow_args_type(command: str, text: str, expected: dict[str, Any]) -> None:
    assert parse_args(COMMANDS[command], text) == expected


@pytest.mark.parametrize(
    ("command", "text", "message"),
    [
        ("block_resize", "d0", "block_resize: missing argument 'size' (usage: block_resize device size)"),
        ("block_resize", "d0 1G x", "block_resize: too many arguments (usage: block_resize device size)"),
        ("set_link", "n1 maybe", "set_link: up: expected 'on' or 'off', not 'maybe'"),
        ("block_resize", "d0 2Q", "block_resize: size: invalid size '2Q'"),
        ("block_job_cancel", "-x j", "block_job_cancel: unsupported option -x"),
    ],
)
def test_bad_arguments_say_what_and_where(command: str, text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_args(COMMANDS[command], text)
    assert str(caught.value) == message


def test_qemu_opts() -> None:
    assert opts("virtio-net-pci,id=n1,bus=rp1,addr=00.3", "driver") == {
        "driver": "virtio-net-pci", "id": "n1", "bus": "rp1", "addr": "00.3",
    }  # fmt: skip
    assert opts("file,path=/a,,b,x.y=1,readonly", "driver") == {
        "driver": "file", "path": "/a,b", "x": {"y": "1"}, "readonly": "on",
    }  # fmt: skip
    assert parse_size("1.5G") == 3 << 29


def test_the_table_has_qemu_72s_commands() -> None:
    assert (len(QEMU_72_COMMANDS), len(QEMU_72_INFO)) == (108, 67)
    assert COMMANDS["c"] is COMMANDS["cont"] and INFO["block"].args_type == "nodes:-n,verbose:-v,device:B?"


class NoServer:
    cpu_index: int | None = 1

    def exchange(self, command: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return {"return": []}

    def typer(self) -> None:
        return None


def plan_of(line: str) -> list[tuple[str, dict[str, Any]]]:
    plan = translate(resolve(line), NoServer())
    return [(call.command, typed_arguments(call, GuessingTyper)) for call in plan.calls]


def test_translations() -> None:
    assert plan_of("block_resize n0 1G") == [("block_resize", {"node-name": "n0", "size": 1 << 30})]
    assert plan_of("migrate_set_parameter max-bandwidth 100") == [
        ("migrate-set-parameters", {"max-bandwidth": 100 << 20})
    ]
    assert plan_of("migrate_set_capability xbzrle on") == [
        ("migrate-set-capabilities", {"capabilities": [{"capability": "xbzrle", "state": True}]})
    ]
    assert plan_of("memsave 0x1000 16 /tmp/m") == [
        ("memsave", {"val": 0x1000, "size": 16, "filename": "/tmp/m", "cpu-index": 1})
    ]
    assert plan_of("sendkey ctrl-alt-f1") == [
        ("send-key", {"keys": [{"type": "qcode", "data": k} for k in ("ctrl", "alt", "f1")]})
    ]
    assert plan_of("info block -n") == [("query-named-block-nodes", {"flat": True})]
    down = [("left", True), ("middle", False), ("right", True)]
    assert plan_of("mouse_button 5") == [
        ("input-send-event", {"events": [{"type": "btn", "data": {"button": b, "down": d}} for b, d in down]})
    ]


def test_routes() -> None:
    server = frozenset({"query-status", "human-monitor-command"})
    assert route(resolve("info status"), "auto", server) == "qmp"
    assert route(resolve("info mtree"), "auto", server) == "passthrough"
    assert route(resolve("cpu 1"), "qmp", server) == "shell"
    with pytest.raises(UsageError, match="^HMP command 'info mtree' has no QMP equivalent on this server$"):
        route(resolve("info mtree"), "qmp", server)
    with pytest.raises(UsageError, match="^HMP command 'info mtree' has no QMP equivalent on this server$"):
        route(resolve("info mtree"), "auto", frozenset({"query-status"}))


def test_completion_kinds_follow_the_spec() -> None:
    from qmpshell.hmp.complete import suggest, usage_at, values

    assert suggest("device_del ").kind == "device-id"
    assert suggest("device_add virtio-ne") == ("virtio-ne", "device-type", (), "")
    assert suggest("device_add virtio-net-pci,id=n1,bu") == ("bu", "device-prop", (), "virtio-net-pci")
    assert suggest("object_add memory-backend-ram,si") == ("si", "object-prop", (), "memory-backend-ram")
    assert suggest("info bl") == ("bl", "info", (), "")
    assert suggest("block_job_cancel -f ").kind == "job"
    assert suggest("eject -f ").kind == "block"
    assert suggest("qom-get /machine ty") == ("ty", "qom-property", (), "/machine")
    assert suggest("migrate_set_capability xbzrle ").static == ("on", "off")
    assert "user" in suggest("netdev_add us").static and suggest("loadvm ").kind == "snapshot"
    assert usage_at("block_resize d0 ") == "block_resize device size"
    assert usage_at("info block ") == "info block [-n] [-v] [device]"
    parameters = {"max-bandwidth": 128 << 20, "block-incremental": False}
    assert values("parameter-value", "max-bandwidth", "", lambda c, a: parameters) == ["128M"]
    assert values("parameter-value", "block-incremental", "", lambda c, a: parameters) == ["off", "on"]
