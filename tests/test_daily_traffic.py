"""The shell's own traffic (issue 23 item 5) against a real QEMU: ``source`` markers in the ``-l`` log,
``-v`` showing them apart, and ``--quiet-monitor`` sending nothing but what the user typed (and
``qmp_capabilities`` and the schema), counted in the log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.qemu_support import Qemu, log_records, run_qmpshell, wait_until
from tests.tmux_support import Tmux, reply_line

Start = Callable[..., Tmux]


def sent(log: Path) -> list[tuple[str, str]]:
    """(source, command) of each message sent; '' for the user's own."""
    records = log_records(log, still_written=True)
    return [
        (r.get("source", ""), r["message"].get("execute", "")) for r in records if r["direction"] == "sent"
    ]


def test_the_log_marks_the_shells_own_messages_and_their_replies(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    line = "device_add driver=virtio-net-pci id=n1 bus=nosuch mac=52:54:00:12:34:56"
    result = run_qmpshell(qemu.socket, "-l", str(log), "-c", line)
    assert result.returncode == 1  # no such bus: QEMU's error, after typing asked about the properties
    records = log_records(log)
    assert ("connection", "qmp_capabilities") in sent(log)
    assert ("schema", "query-qmp-schema") in sent(log)
    assert ("typing", "device-list-properties") in sent(log)
    assert ("", "device_add") in sent(log)  # the user's: no marker
    assert all(set(r) <= {"time", "direction", "source", "message"} for r in records)
    assert all("source" not in r["message"] for r in records)  # never inside what QEMU gets
    marked = [r for r in records if r["direction"] == "received" and r.get("source") == "typing"]
    assert marked and all(isinstance(r["message"]["return"], list) for r in marked)  # the replies too


def test_verbose_shows_the_shells_own_messages_apart(qemu: Qemu) -> None:
    line = "device_add driver=virtio-net-pci id=n2 bus=nosuch"
    result = run_qmpshell(qemu.socket, "-v", "--color=always", "-c", line)
    assert '"execute": "device_add"' in result.stdout
    assert "device-list-properties" not in result.stdout
    assert "\x1b[2mqmpshell: sent by the shell (typing): " in result.stderr  # dimmed
    assert "\x1b[2mqmpshell: sent by the shell (schema): " in result.stderr
    plain = run_qmpshell(qemu.socket, "-v", "-c", line)  # stderr a pipe, no colour: errors only
    assert "sent by the shell" not in plain.stderr


def test_interactive_completion_and_status_are_marked(start: Start, qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    tmux = start(qemu.socket, "-l", str(log), width=120)
    tmux.wait_for(lambda screen: "running" in screen.splitlines()[-1])
    tmux.type("qom-list path=/machine/un")
    tmux.send("Tab")
    wait_until(lambda: ("completion", "qom-list") in sent(log), what="completion's qom-list")
    assert ("status", "query-status") in sent(log)


def test_quiet_monitor_sends_only_what_was_typed(start: Start, qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    tmux = start(qemu.socket, "--quiet-monitor", "-l", str(log), width=120)
    tmux.type("qom-list ")
    tmux.wait_for("qom-list path=str")  # the toolbar: the schema is loaded
    tmux.type("path=/machine/un")
    tmux.send("Tab")  # completion from the schema only: nothing asked
    tmux.send("C-u")
    tmux.enter("device_add driver=virtio-net-pci id=n3 bus=nosuch")
    tmux.wait_for("Bus 'nosuch' not found")
    tmux.enter("query-status")
    tmux.wait_for(reply_line("running"))
    tmux.send("C-d")
    tmux.wait_for("EXITED=0")
    assert [command for _, command in sent(log)] == [
        "qmp_capabilities",
        "query-qmp-schema",  # no cached schema in this test's own XDG directories
        "device_add",
        "query-status",
    ]


def test_probe_false_in_the_config_is_quiet_monitor(qemu: Qemu, tmp_path: Path, private_xdg: Path) -> None:
    config = private_xdg / "xdg_config_home" / "qmpshell" / "config.toml"
    config.parent.mkdir()
    config.write_text("[connection]\nprobe = false\n")
    log = tmp_path / "qmp.log"
    line = "device_add driver=virtio-net-pci id=n4 bus=nosuch"
    run_qmpshell(qemu.socket, "-l", str(log), "-c", line)
    commands = [command for _, command in sent(log)]
    assert commands == ["qmp_capabilities", "query-qmp-schema", "device_add"]
