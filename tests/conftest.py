"""Fixtures shared by the suite: a real QEMU per test, private XDG directories, a real libvirtd."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.libvirt_support import LibvirtHost
from tests.qemu_support import Qemu

_SPARE_NUMBERS = itertools.count(1)


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


@pytest.fixture(scope="session")
def libvirt_host() -> Iterator[LibvirtHost]:
    """libvirtd, started for the session if none runs (see tests/libvirt_support.py)."""
    host = LibvirtHost()
    host.start()
    try:
        yield host
    finally:
        host.remove_all()
        host.stop()


@pytest.fixture(scope="session")
def libvirt_domain(libvirt_host: LibvirtHost) -> str:
    """A running TCG domain shared by the session's tests; a test that pauses it resumes it."""
    return libvirt_host.define("shared")


@pytest.fixture
def spare_domain(libvirt_host: LibvirtHost) -> Iterator[str]:
    """A running domain of the test's own, which it may stop, start or undefine."""
    name = libvirt_host.define(f"spare{next(_SPARE_NUMBERS)}")
    try:
        yield name
    finally:
        libvirt_host.remove(name)
