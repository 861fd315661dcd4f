"""Fixtures shared by the suite: a real QEMU per test, private XDG directories."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.qemu_support import Qemu


@pytest.fixture(autouse=True)
def private_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """History, cache and config go to the test's own directories, never $HOME."""
    for name in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"):
        path = tmp_path / "xdg" / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    monkeypatch.delenv("QMP_SOCKET", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path / "xdg"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short temporary directory (UNIX socket paths are limited to 108 bytes)."""
    with tempfile.TemporaryDirectory(prefix="qs-") as name:
        yield Path(name)


@pytest.fixture
def qemu(short_dir: Path) -> Iterator[Qemu]:
    """A real ``qemu-system-x86_64 -M none`` with a QMP socket and an auxiliary one."""
    machine = Qemu(short_dir)
    try:
        yield machine
    finally:
        machine.stop()
