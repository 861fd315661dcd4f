"""Fixtures shared by the suite: a real QEMU per test, private XDG directories, a real libvirtd;
and the markers ``qemu``, ``tmux`` and ``libvirt``, put on each test by what it starts (see
``tests/markers.py``), so that ``-m "not qemu and not tmux and not libvirt"`` runs the in-process part
alone.

``QMPSHELL_TEST_QEMU=PATH`` runs the whole suite against another QEMU binary
(``.ci/run`` does it with the QEMU 10 that ``scripts/setup`` unpacks): the
binary is put first on ``$PATH`` as ``qemu-system-x86_64``, so the fixtures,
``--launch`` and the terminal tests all start it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.libvirt_support import LibvirtHost
from tests.markers import guarded_path, make_guards, markers_for
from tests.pair_support import Pair, start_pair
from tests.qemu_support import QEMU_BINARY_ENV, Qemu
from tests.server_support import Server, emulator, emulator_of_the_daemons_build, guest_agent, storage_daemon
from tests.tmux_support import Tmux, start_qmpshell


def pytest_configure(config: pytest.Config) -> None:
    _interruptible_children()
    _byte_compile()
    binary = os.environ.get(QEMU_BINARY_ENV)
    if not binary:
        return
    if shutil.which(binary) is None:
        raise pytest.UsageError(f"{QEMU_BINARY_ENV}={binary}: no such executable (run scripts/setup)")
    shim = Path(tempfile.mkdtemp(prefix="qmpshell-qemu-"))
    (shim / "qemu-system-x86_64").symlink_to(Path(shutil.which(binary) or binary).resolve())
    os.environ["PATH"] = f"{shim}{os.pathsep}{os.environ['PATH']}"
    config.add_cleanup(lambda: shutil.rmtree(shim, ignore_errors=True))


def _byte_compile() -> None:
    """Compile qmpshell's modules once, as an install does.  An editable install leaves them as
    source, and with ``PYTHONDONTWRITEBYTECODE`` set (as on CI) every qmpshell the suite starts
    compiled about 80 modules again: 0.15-0.35 s of every start, hundreds of starts a run."""
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parent.parent / "qmpshell", quiet=2)


def _interruptible_children() -> None:
    """Started as a background job of a shell without job control, the suite ignores SIGINT and
    SIGQUIT, and so would every qmpshell it starts (an ignored signal stays ignored across exec).
    Handled here instead, they are back to their defaults in the children, as in a terminal."""
    for sig in (signal.SIGINT, signal.SIGQUIT):
        if signal.getsignal(sig) == signal.SIG_IGN:
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)


def pytest_report_header() -> str:
    """Which QEMU the real-QEMU tests talk to, at the top of every run."""
    version = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True)
    return f"qemu-system-x86_64: {shutil.which('qemu-system-x86_64')}: {version.stdout.splitlines()[0]}"


_SPARE_NUMBERS = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it starts (tests/markers.py), so the fast part can run alone."""
    for item in items:
        for name in sorted(markers_for(item)):
            item.add_marker(getattr(pytest.mark, name))


@pytest.fixture(scope="session")
def marker_guards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_guards(tmp_path_factory.mktemp("guards"))


@pytest.fixture(autouse=True)
def guard_unmarked(
    request: pytest.FixtureRequest, marker_guards: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checks the markers on every run: what a test is not marked for fails when it starts it."""
    marks = {mark.name for mark in request.node.iter_markers()}
    monkeypatch.setenv("PATH", guarded_path(os.environ["PATH"], marker_guards, marks))


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


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    """``start(*args, width=, height=, config=)``: qmpshell in a fresh tmux terminal, once its screen
    is up (``config``: its config.toml); all closed after."""
    sessions: list[Tmux] = []

    def run(*args: str, width: int = 140, height: int = 40, config: str = "") -> Tmux:
        tmux = start_qmpshell(tmp_path / "xdg", *args, width=width, height=height, config=config)
        sessions.append(tmux)
        return tmux

    yield run
    for tmux in sessions:
        tmux.close()


@pytest.fixture
def same_build(short_dir: Path) -> Iterator[Server]:
    """The qemu-system-x86_64 of the storage daemon's build (same version, same package string)."""
    server = emulator(short_dir, emulator_of_the_daemons_build())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def qsd(short_dir: Path) -> Iterator[Server]:
    """A real qemu-storage-daemon with a QMP monitor (``tests.server_support``)."""
    server = storage_daemon(short_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def qga(short_dir: Path) -> Iterator[Server]:
    """A real qemu-ga listening on a UNIX socket, run on the host (``tests.server_support``)."""
    server = guest_agent(short_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def machine() -> Iterator[Qemu]:
    """One ``-M none`` QEMU for a whole module, for tests that do not disturb each other."""
    with tempfile.TemporaryDirectory(prefix="qs-") as name:
        qemu = Qemu(Path(name))
        try:
            yield qemu
        finally:
            qemu.stop()


@pytest.fixture
def pair(short_dir: Path) -> Iterator[Pair]:
    """A migration source and destination (``tests.pair_support``)."""
    machines = start_pair(short_dir)
    try:
        yield machines
    finally:
        machines.stop()


Q35 = ("-M", "q35", "-device", "pcie-root-port,id=rp1,chassis=1,slot=1", "-device", "qemu-xhci,id=xhci")


@pytest.fixture
def q35(short_dir: Path) -> Iterator[Qemu]:
    """A q35 machine with a PCIe root port (``rp1``) and a USB controller (``xhci``): somewhere for
    ``device_add`` to put PCI and USB devices."""
    machine = Qemu(short_dir, *Q35)
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
