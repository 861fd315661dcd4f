"""Daily use in a real terminal (tmux) against a real QEMU: pasting, history, typed device properties,
one-Tab completion, mistakes caught before sending, and Ctrl-C while QEMU is stopped.

Device tests run a q35 machine with a PCIe root port and a USB controller, so that ``addr=00.3``,
``bus=`` and ``serial=`` are real.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.qemu_support import Qemu, qemu_banner, sent_messages, wait_until
from tests.tmux_support import NO_NAME, Tmux, reply_line, start_qmpshell

BUSY = "Ctrl-C stops waiting"  # the status bar while a command waits for its reply


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Tmux]]:
    sessions: list[Tmux] = []

    def run(*args: str) -> Tmux:
        tmux = start_qmpshell(tmp_path / "xdg", *args)
        sessions.append(tmux)
        tmux.wait_for(qemu_banner())
        return tmux

    yield run
    for tmux in sessions:
        tmux.close()


def idle(tmux: Tmux) -> str:
    return tmux.wait_for(lambda screen: BUSY not in screen and tmux.input_line().rstrip() == "qmp>")


def menu_entry(line: str, text: str, meta: str) -> bool:
    """The screen line shows the completion menu's entry ``text`` with its ``meta``."""
    words = line.split()
    return any(words[i : i + 2] == [text, meta] for i in range(len(words) - 1))


def schema_known(tmux: Tmux) -> None:
    """The schema is read on a worker after the prompt: wait for the toolbar it fills."""
    tmux.type("block_resize ")
    tmux.wait_for("block_resize [device=str]")
    tmux.send("C-u")


def test_a_two_line_paste_runs_two_commands(start: Callable[..., Tmux], qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    tmux = start(qemu.socket, "-l", str(log))
    tmux.paste("query-status\nquery-name\n")
    screen = tmux.wait_for(lambda screen: reply_line("running")(screen) and reply_line(NO_NAME)(screen))
    assert "expected KEY=VALUE" not in screen
    assert screen.index("qmp> query-status") < screen.index("qmp> query-name")
    wait_until(lambda: sent_messages(log, "query-name"), what="query-name sent")


def test_a_paste_without_its_last_newline_waits_in_a_grown_input(
    start: Callable[..., Tmux], qemu: Qemu
) -> None:
    tmux = start(qemu.socket)
    tmux.paste("query-status\nquery-name")
    screen = tmux.wait_for("...> query-name")
    assert "qmp> query-status" in screen  # the prompt stays, the input shows both lines
    tmux.send("Enter")
    tmux.wait_for(lambda screen: reply_line("running")(screen) and reply_line(NO_NAME)(screen))


def test_a_pasted_transaction_then_a_command(start: Callable[..., Tmux], qemu: Qemu, tmp_path: Path) -> None:
    qemu.aux.execute("blockdev-add", driver="null-co", **{"node-name": "n0"})
    log = tmp_path / "qmp.log"
    tmux = start(qemu.socket, "-l", str(log))
    tmux.paste(
        "transaction(\n"
        "  block-dirty-bitmap-add node=n0 name=a\n"
        "  block-dirty-bitmap-add node=n0 name=b\n"
        ")\n"
        "query-name\n"
    )
    wait_until(lambda: sent_messages(log, "query-name"), what="the command after the transaction")
    (transaction,) = sent_messages(log, "transaction")
    actions = transaction["arguments"]["actions"]  # type: ignore[index]
    assert [a["data"]["name"] for a in actions] == ["a", "b"]
    nodes = {n["node-name"]: n for n in qemu.aux.execute("query-named-block-nodes")}
    assert sorted(b["name"] for b in nodes["n0"]["dirty-bitmaps"]) == ["a", "b"]


def test_up_recalls_a_multi_line_statement_whole_and_it_runs_again(
    start: Callable[..., Tmux], qemu: Qemu, tmp_path: Path
) -> None:
    log = tmp_path / "qmp.log"
    tmux = start(qemu.socket, "-l", str(log))
    for line in ("transaction(", "  abort", ")"):
        tmux.enter(line)
    tmux.wait_for("Transaction aborted")
    idle(tmux)
    tmux.send("Up")
    screen = tmux.wait_for("...> )")
    assert "qmp> transaction(" in screen and "...>   abort" in screen
    tmux.send("Enter")
    wait_until(lambda: len(sent_messages(log, "transaction")) == 2, what="the recalled transaction sent")
    history = (tmp_path / "xdg" / "xdg_state_home" / "qmpshell" / "history").read_text()
    assert "+transaction(\n+  abort\n+)\n" in history


def test_ctrl_r_finds_a_multi_line_entry(start: Callable[..., Tmux], qemu: Qemu) -> None:
    tmux = start(qemu.socket)
    tmux.paste("transaction(\n  abort\n)\nquery-name\n")
    tmux.wait_for(reply_line(NO_NAME))
    idle(tmux)
    tmux.send("C-r")
    tmux.type("abo")
    tmux.wait_for("...>   abort")


def test_hmp_lines_are_kept_as_hmp_lines(start: Callable[..., Tmux], qemu: Qemu, tmp_path: Path) -> None:
    tmux = start(qemu.socket)
    tmux.enter("/hmp")
    tmux.wait_for(lambda screen: tmux.input_line().startswith("hmp>"))
    tmux.enter("info status")
    tmux.wait_for("VM status: running")
    tmux.enter("/qmp")
    tmux.wait_for(lambda screen: tmux.input_line().startswith("qmp>"))
    tmux.send("Up", "Up")
    tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "qmp> /hmp info status")
    tmux.send("Enter")  # recalled in QMP mode, it still runs as HMP
    wait_until(lambda: tmux.screen().count("VM status: running") == 2, what="the HMP line to run again")


def test_enter_on_an_empty_continuation_line_discards_the_transaction(
    start: Callable[..., Tmux], qemu: Qemu
) -> None:
    tmux = start(qemu.socket)
    tmux.enter("transaction(")
    tmux.wait_for(lambda screen: tmux.input_line().startswith("...>"))
    tmux.send("Enter")
    tmux.wait_for("transaction discarded")
    tmux.wait_for(lambda screen: tmux.input_line().startswith("qmp>"))
    tmux.enter("query-name")
    tmux.wait_for(reply_line(NO_NAME))


def test_device_properties_reach_qemu_as_written(
    start: Callable[..., Tmux], q35: Qemu, tmp_path: Path
) -> None:
    log = tmp_path / "qmp.log"
    tmux = start(q35.socket, "-l", str(log))
    tmux.enter("device_add driver=e1000 id=n0 bus=rp1 addr=00.3")
    tmux.enter("device_add driver=usb-tablet id=t0 bus=xhci.0 serial=0001")
    wait_until(lambda: len(sent_messages(log, "device_add")) == 2, what="both device_add sent")
    idle(tmux)
    nic, tablet = (m["arguments"] for m in sent_messages(log, "device_add"))
    assert nic["addr"] == "00.3" and tablet["serial"] == "0001"  # type: ignore[index]
    assert q35.aux.execute("qom-get", path="/machine/peripheral/n0", property="addr") == 3
    assert q35.aux.execute("qom-get", path="/machine/peripheral/t0", property="serial") == "0001"


def test_one_tab_shows_live_driver_names_and_buses(start: Callable[..., Tmux], q35: Qemu) -> None:
    tmux = start(q35.socket)
    tmux.type("device_add driver=e100")
    tmux.send("Tab")  # once: the device types arrive after the key, and the menu shows them
    screen = tmux.wait_for("e1000-82545em")
    assert "device_add driver=e1000" in tmux.input_line()
    status = screen.splitlines()[-1]
    assert "events:" in status  # the menu opens above the input: the status bar stays visible
    tmux.send("Escape", "C-u")
    tmux.type("device_add driver=e1000 bus=")
    tmux.send("Tab")
    screen = tmux.wait_for("pcie.0")
    assert "rp1" in screen and "xhci.0" not in screen  # a PCI device: PCI buses only
    tmux.send("Escape", "C-u")
    tmux.type("device_add driver=usb-tablet bus=")
    tmux.send("Tab")
    screen = tmux.wait_for("xhci.0")  # the only one: maybe inserted whole
    assert "pcie.0" not in screen and "rp1" not in screen.split("bus=")[-1]


def test_one_tab_right_after_blockdev_add_offers_the_new_node(start: Callable[..., Tmux], qemu: Qemu) -> None:
    tmux = start(qemu.socket)
    schema_known(tmux)
    tmux.enter("blockdev-add driver=null-co node-name=na")
    idle(tmux)
    tmux.type("block_resize node-name=n")
    tmux.send("Tab")  # the only node: inserted whole
    # (the whole line: blockdev-add's, typed but not yet entered, also ends with node-name=na)
    tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "qmp> block_resize node-name=na")
    tmux.send("C-u")
    tmux.enter("blockdev-add driver=null-co node-name=nb")
    idle(tmux)
    tmux.type("block_resize node-name=n")
    tmux.wait_for(lambda screen: tmux.input_line().rstrip().endswith("node-name=n"))
    tmux.send("Tab")  # once, within the moment the node list is kept: it offers the node just made
    tmux.wait_for(lambda screen: any(menu_entry(line, "nb", "null-co") for line in screen.splitlines()))
    assert tmux.input_line().rstrip().endswith("node-name=n")


def test_an_unknown_argument_is_refused_with_the_suggestion(
    start: Callable[..., Tmux], qemu: Qemu, tmp_path: Path
) -> None:
    log = tmp_path / "qmp.log"
    tmux = start(qemu.socket, "-l", str(log))
    schema_known(tmux)
    tmux.enter("block_resize node-name=d sise=1M")
    screen = tmux.wait_for("unknown argument 'sise' for block_resize; did you mean size?")
    assert "^" not in screen  # one line, no caret
    assert sent_messages(log, "block_resize") == []


def test_ctrl_c_in_the_same_burst_as_enter_always_stops_the_wait(
    start: Callable[..., Tmux], qemu: Qemu, tmp_path: Path
) -> None:
    log = tmp_path / "qmp.log"
    tmux = start(qemu.socket, "-l", str(log))
    schema_known(tmux)  # the shell has learnt the server (run state, schema): it asks nothing more
    tmux.wait_for("\u2502 running \u2502")
    qemu.kill(signal.SIGSTOP)
    try:
        for _ in range(20):
            tmux.send("C-l")
            tmux.wait_for(lambda screen: "stopped waiting" not in screen)
            tmux.type("query-status")
            tmux.send("Enter", "C-c")
            tmux.wait_for(lambda screen: "stopped waiting for the reply" in screen and BUSY not in screen)
        tmux.type("query-name")
        tmux.send("Enter", "query-status", "Enter", "query-version", "Enter")
        screen = tmux.wait_for("queued> query-version")
        assert "queued> query-status" in screen
        tmux.send("C-c")
        screen = tmux.wait_for("2 queued lines discarded")
        idle(tmux)
    finally:
        qemu.kill(signal.SIGCONT)
    tmux.enter("query-status")
    tmux.wait_for(reply_line("running"))


def test_enter_does_not_run_a_common_prefix_that_is_no_value(
    start: Callable[..., Tmux], qemu: Qemu, tmp_path: Path
) -> None:
    log = tmp_path / "qmp.log"
    tmux = start(qemu.socket, "-l", str(log))
    schema_known(tmux)
    tmux.type("blockdev-add node-name=x driver=nu")
    tmux.send("Tab")
    tmux.wait_for(lambda screen: tmux.input_line().rstrip().endswith("driver=null-") and "null-co" in screen)
    tmux.send("Enter")  # 'null-' is no driver: Enter moves into the menu instead of sending it
    tmux.wait_for(lambda screen: tmux.input_line().rstrip().endswith("driver=null-aio"))
    tmux.send("Enter")  # takes the chosen value; the line stays to be finished
    tmux.wait_for(lambda screen: "null-co" not in screen)
    assert sent_messages(log, "blockdev-add") == []
    tmux.send("Enter")
    wait_until(lambda: sent_messages(log, "blockdev-add"), what="the completed line sent")
    assert sent_messages(log, "blockdev-add")[0]["arguments"] == {"node-name": "x", "driver": "null-aio"}


def test_enter_does_not_run_a_common_prefix_tab_inserted_even_when_it_names_a_value(
    start: Callable[..., Tmux], qemu: Qemu, tmp_path: Path
) -> None:
    log = tmp_path / "qmp.log"
    tmux = start(qemu.socket, "-l", str(log))
    schema_known(tmux)
    tmux.type("blockdev-add node-name=x driver=qco")
    tmux.send("Tab")  # inserts 'qcow', the part qcow and qcow2 share: not a choice the user made
    tmux.wait_for(lambda screen: tmux.input_line().rstrip().endswith("driver=qcow") and "qcow2" in screen)
    tmux.send("Enter")  # moves into the menu (onto qcow) instead of sending
    tmux.send("Tab")  # the next entry
    tmux.wait_for(lambda screen: tmux.input_line().rstrip().endswith("driver=qcow2"))
    tmux.send("Enter")  # takes it; the line stays
    tmux.wait_for(lambda screen: not any("qcow" in line and "enum" in line for line in screen.splitlines()))
    assert sent_messages(log, "blockdev-add") == []
    tmux.send("Enter")
    wait_until(lambda: sent_messages(log, "blockdev-add"), what="the completed line sent")
    assert sent_messages(log, "blockdev-add")[0]["arguments"] == {"node-name": "x", "driver": "qcow2"}
    idle(tmux)
    tmux.type("blockdev-add node-name=y driver=qcow")  # typed whole, so Tab inserts nothing
    tmux.send("Tab")
    tmux.wait_for(lambda screen: any("qcow2" in line and "enum" in line for line in screen.splitlines()))
    tmux.send("Enter")  # the word as typed is a value: the line runs
    wait_until(lambda: len(sent_messages(log, "blockdev-add")) == 2, what="the typed line sent")
    assert sent_messages(log, "blockdev-add")[1]["arguments"] == {"node-name": "y", "driver": "qcow"}


def test_host_paths_complete_as_file_names(start: Callable[..., Tmux], qemu: Qemu, tmp_path: Path) -> None:
    (tmp_path / "disk-image.qcow2").write_bytes(b"")
    tmux = start(qemu.socket)
    schema_known(tmux)
    tmux.type(f"blockdev-add driver=file node-name=f filename={tmp_path}/disk-im")
    tmux.send("Tab")
    tmux.wait_for(lambda screen: tmux.input_line().rstrip().endswith("/disk-image.qcow2"))
