"""scripts/hmp-table-check against a live QEMU's help and against .hx files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from qmpshell.hmp.table import VERSION_NOTES
from tests.qemu_support import Qemu

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "hmp-table-check"


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_a_live_server_differs_only_where_the_table_says(qemu: Qemu) -> None:
    result = check("--server", qemu.socket)
    assert result.returncode in (0, 1), result.stderr
    for line in result.stdout.splitlines():
        name = line.split(": ")[-1] if line.startswith("note:") else line.split(" of ")[1].split(":")[0]
        assert name in VERSION_NOTES or name in ("one-insn-per-tb", "singlestep"), line


def test_hx_files_are_compared(tmp_path: Path) -> None:
    entry = '    {{\n        .name = "{}",\n        .args_type = "{}",\n        .params = "{}",\n    }},\n'
    (tmp_path / "hmp-commands.hx").write_text(
        entry.format("block_resize", "device:B,size:o", "device size")
        + entry.format("brand_new", "x:s", "x")
        + entry.format("eject", "device:B", "device")
    )
    (tmp_path / "hmp-commands-info.hx").write_text(entry.format("status", "", ""))
    result = check("--source", str(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "missing from the table: brand_new" in lines
    assert "args_type of eject: table 'force:-f,device:B', QEMU 'device:B'" in lines
    assert "usage of eject: table '[-f] device', QEMU 'device'" in lines
    assert "note: not in this QEMU: info block" in lines
    assert not any("block_resize" in line for line in lines)
