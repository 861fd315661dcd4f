"""Terminal safety: text from outside shown, never obeyed (S3, S4, K1), and a newline in QEMU's
text forging no line of ours (W7)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from wcwidth import wcswidth

from tests.fakeserver import AnsweringServer
from tests.qemu_support import Qemu, run_qmpshell, wait_until
from tests.tmux_support import start_qmpshell

SCHEMA = json.loads((Path(__file__).parent / "data" / "qemu-7.2-schema.json").read_text())


def test_a_newline_in_a_qemu_error_forges_no_stderr_line(qemu: Qemu) -> None:
    name = "/nonexistent\nqmpshell: 7: forged"
    message = {
        "execute": "blockdev-add",
        "arguments": {"driver": "file", "filename": name, "node-name": "n1"},
    }
    result = run_qmpshell("-c", json.dumps(message), qemu.socket)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("qmpshell: 1: GenericError: ") and "^Jqmpshell: 7: forged" in lines[0]


def test_a_newline_in_a_file_name_forges_no_table_row(qemu: Qemu, short_dir: Path) -> None:
    path = short_dir / "a\nfake row"
    path.write_text("")
    qemu.aux.execute("blockdev-add", driver="file", filename=str(path), **{"node-name": "n1"})
    result = run_qmpshell("--format", "human", "-c", "query-named-block-nodes", qemu.socket)
    assert result.returncode == 0, result.stderr
    assert "a^Jfake row" in result.stdout
    assert not any(row.startswith("fake row") for row in result.stdout.splitlines())


def test_wide_zero_width_and_bidi_characters_keep_a_table_aligned(qemu: Qemu, short_dir: Path) -> None:
    names = ["中文字.sock", "a\u200bb.sock", "r\u202etxt.sock"]
    for n, name in enumerate(names):
        address = {"type": "unix", "data": {"path": str(short_dir / name)}}
        backend = {"type": "socket", "data": {"addr": address, "server": True, "wait": False}}
        qemu.aux.execute("chardev-add", id=f"w{n}", backend=backend)
    wide = {**os.environ, "COLUMNS": "200"}  # every column on the row's line
    result = run_qmpshell("--format", "human", "-c", "query-chardev", qemu.socket, env=wide)
    assert result.returncode == 0, result.stderr
    assert "\u202e" not in result.stdout and "\u200b" not in result.stdout
    assert "r\\u202etxt.sock" in result.stdout and "a\\u200bb.sock" in result.stdout
    header, *rows = result.stdout.splitlines()
    column = wcswidth(header[: header.index("frontend-open")])
    for row in rows:
        value = "true" if row.endswith("true") else "false"
        assert wcswidth(row[: row.rindex(value)]) == column, f"misaligned:\n{result.stdout}"


def test_a_socket_named_with_escape_sequences_is_shown_not_obeyed(qemu: Qemu, short_dir: Path) -> None:
    hostile = short_dir / "x\x1b]0;pwned\x07\x1b[2J\n== fake ==.sock"
    hostile.symlink_to(qemu.aux_socket)
    result = run_qmpshell("--format", "human", "-c", "query-name", qemu.socket, str(hostile))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "== fake ==" not in result.stdout.splitlines()
    assert f"== {short_dir}/x^[]0;pwned^G^[[2J^J== fake ==.sock ==" in result.stdout.splitlines()


def _enter_sends(tmux: Any, server: QomServer, command: str) -> bool:
    tmux.send("Enter")
    try:
        wait_until(lambda: command in server.commands(), timeout=1.0)
    except AssertionError:
        return False
    return True


class QomServer(AnsweringServer):
    """A hostile server: a real QEMU's schema, and a ``qom-list`` naming a device ``evil<newline>quit``."""

    def answer(self, command: dict[str, Any]) -> dict[str, Any]:
        name = command.get("execute")
        if name == "query-qmp-schema":
            return {"return": SCHEMA}
        if name == "qom-list":
            return {"return": [{"name": "evil\nquit", "type": "child<virtio-net-pci>"}]}
        return {"return": {}}

    def commands(self) -> list[str]:
        return [str(c.get("execute")) for c in self.received]


def test_a_completion_with_a_newline_is_not_offered(short_dir: Path, tmp_path: Path) -> None:
    server = QomServer(str(short_dir / "hostile.sock"))
    try:
        tmux = start_qmpshell(tmp_path, str(short_dir / "hostile.sock"))
        try:
            tmux.type("device_del id=ev")
            tmux.send("Tab")
            wait_until(lambda: "qom-list" in server.commands(), what="the completion's qom-list")
            # Enter while Tab's completion is still in flight is taken by the menu: press until it runs
            wait_until(lambda: _enter_sends(tmux, server, "device_del"), what="device_del sent")
            tmux.enter("query-name")
            wait_until(lambda: "query-name" in server.commands(), what="query-name sent")
            assert "quit" not in server.commands()
            device_del = [c for c in server.received if c.get("execute") == "device_del"]
            assert device_del[0]["arguments"] == {"id": "ev"}
        finally:
            tmux.close()
    finally:
        server.listener.close()
