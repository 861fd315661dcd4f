"""Batch mode: values no schema types are never silently changed, and mistakes are caught before sending.

The untyped-value rule is checked with ``-N`` (no schema at all) and ``-v``
(the command as sent); the typing from QEMU's own answers
(``device-list-properties``, ``qom-list``) on a q35 machine with a PCIe root
port and a USB controller, where ``addr=`` and ``bus=`` are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.qemu_support import Qemu, json_lines, run_qmpshell, sent_messages


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("10", 10),
        ("-3", -3),
        ("1.5", 1.5),
        ("0", 0),
        ("0.25", 0.25),
        ("0x10", 16),
        ("0o17", 15),
        ("0b101", 5),
        ("0001", "0001"),
        ("00.3", "00.3"),
        ("1.50", "1.50"),
        ("1e3", "1e3"),
        ("+60", "+60"),
        ("1.", "1."),
        ("-0", "-0"),
    ],
)
def test_without_a_type_only_plainly_written_numbers_become_numbers(
    qemu: Qemu, written: str, sent: object
) -> None:
    result = run_qmpshell(
        qemu.socket, "-N", "-v", "-c", '{"execute": "qmp_capabilities"}', "-c", f"query-name x={written}"
    )
    message = json_lines(result.stdout)[2]
    assert message["arguments"] == {"x": sent}
    assert type(message["arguments"]["x"]) is type(sent)


def test_an_unknown_argument_is_refused_before_sending_with_a_suggestion(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    result = run_qmpshell(qemu.socket, "-l", str(log), input="block_resize node-name=d sise=1M\n")
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 1: unknown argument 'sise' for block_resize; did you mean size?\n"
    assert result.stdout == ""
    assert sent_messages(log, "block_resize") == []


def test_an_unknown_nested_argument_names_its_whole_key(qemu: Qemu) -> None:
    line = "blockdev-add driver=raw node-name=r file.driver=file file.filenme=/tmp/x"
    result = run_qmpshell(qemu.socket, "-c", line)
    assert result.returncode == 2
    expected = "qmpshell: 1: unknown argument 'file.filenme' for blockdev-add; did you mean "
    assert result.stderr.startswith(expected)
    assert "file.filename" in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_script_with_an_unknown_argument_runs_nothing(qemu: Qemu, tmp_path: Path) -> None:
    script = tmp_path / "s.qmp"
    script.write_text("stop\nblock_resize node-name=d sise=1M\n")
    result = run_qmpshell(qemu.socket, "-f", str(script))
    assert result.returncode == 2
    assert result.stderr.startswith("qmpshell: 2: unknown argument 'sise'")
    assert qemu.aux.execute("query-status")["status"] == "running"


def test_an_unknown_transaction_action_argument_is_refused(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input="transaction(\n  block-dirty-bitmap-add node=n nmae=b\n)\n")
    assert result.returncode == 2
    assert "unknown argument 'nmae' for block-dirty-bitmap-add; did you mean name?" in result.stderr


def test_an_unknown_device_type_is_refused_with_a_suggestion(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-c", "device_add driver=e1001 id=n0")
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 1: unknown device type 'e1001' for device_add; did you mean e1000?\n"


def test_an_unknown_event_after_wait_is_refused(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-c", "/wait DEVICE_DELETD timeout=5")
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 1: unknown event 'DEVICE_DELETD'; did you mean DEVICE_DELETED?\n"


def test_a_glob_after_wait_is_not_checked(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-c", "/wait NO_SUCH_* timeout=0.01")
    assert result.returncode == 1
    assert "no NO_SUCH_* event within" in result.stderr


def test_device_properties_are_typed_by_what_qemu_says(q35: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    lines = [
        "device_add driver=e1000 id=n0 bus=rp1 addr=00.3 bootindex=7 init-vet=off",
        "device_add driver=usb-tablet id=t0 bus=xhci.0 serial=0001",
    ]
    result = run_qmpshell(q35.socket, "-l", str(log), input="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    nic, tablet = (m["arguments"] for m in sent_messages(log, "device_add"))
    assert nic == {
        "driver": "e1000",
        "id": "n0",
        "bus": "rp1",
        "addr": "00.3",
        "bootindex": 7,
        "init-vet": False,
    }
    assert tablet["serial"] == "0001"
    assert q35.aux.execute("qom-get", path="/machine/peripheral/n0", property="addr") == 3
    assert q35.aux.execute("qom-get", path="/machine/peripheral/t0", property="serial") == "0001"


def test_qom_set_value_is_typed_by_the_property(q35: Qemu, tmp_path: Path) -> None:
    q35.aux.execute("object-add", **{"qom-type": "memory-backend-ram", "id": "m0", "size": 1048576})
    log = tmp_path / "qmp.log"
    result = run_qmpshell(
        q35.socket, "-l", str(log), "-c", "qom-set path=/objects/m0 property=prealloc-threads value=2"
    )
    assert result.returncode == 0, result.stderr
    assert sent_messages(log, "qom-set")[0]["arguments"]["value"] == 2
    assert q35.aux.execute("qom-get", path="/objects/m0", property="prealloc-threads") == 2


@pytest.mark.parametrize("pipeline", [False, True])
def test_qom_set_in_a_script_is_typed_by_the_object_the_script_made(
    qemu: Qemu, tmp_path: Path, pipeline: bool
) -> None:
    log = tmp_path / "qmp.log"
    script = tmp_path / "s.qmp"
    script.write_text(
        "object-add qom-type=iothread id=io0\n"
        "qom-set path=/objects/io0 property=poll-grow value=0002\n"  # int64: the number 2
    )
    result = run_qmpshell(qemu.socket, "-l", str(log), "-f", str(script), *(["-k"] if pipeline else []))
    assert result.returncode == 0, result.stderr
    assert sent_messages(log, "qom-set")[0]["arguments"]["value"] == 2
    assert qemu.aux.execute("qom-get", path="/objects/io0", property="poll-grow") == 2
