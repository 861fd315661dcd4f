"""The other QMP servers the tests talk to: ``qemu-storage-daemon`` and ``qemu-ga`` (the guest agent).

Both run on the host.  The storage daemon comes with QEMU (Debian's
qemu-system-common); the guest agent with Debian's ``qemu-guest-agent``, which
``scripts/setup`` installs.  qemu-ga runs with ``-m unix-listen -p SOCKET`` and
a pidfile and state directory of the test's own, so that it never touches
``/var/run`` (where a second agent, or a root-owned leftover, would clash).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.qemu_support import listening, wait_until


class Server:
    """A server process listening on ``socket``; ``stop()`` kills it."""

    def __init__(self, argv: list[str], socket: Path, log: Path) -> None:
        self.socket = str(socket)
        self.log = log
        with open(log, "wb") as stderr:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
            )
        wait_until(self._ready, what=f"{argv[0]} listening on {socket}")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.process.args!r} exited: {self.log.read_text()}")
        return listening(self.socket)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def storage_daemon_binary() -> str:
    """``qemu-storage-daemon`` as installed with QEMU."""
    found = shutil.which("qemu-storage-daemon")
    if found is None:
        raise RuntimeError("qemu-storage-daemon is not installed (run scripts/setup)")
    return found


def emulator_of_the_daemons_build() -> str:
    """The ``qemu-system-x86_64`` installed beside the storage daemon: the same build."""
    return str(Path(storage_daemon_binary()).resolve().parent / "qemu-system-x86_64")


def storage_daemon(directory: Path, *extra: str, name: str = "qsd.sock") -> Server:
    socket = directory / name
    argv = [
        storage_daemon_binary(),
        "--chardev",
        f"socket,path={socket},server=on,wait=off,id=qmp0",
        "--monitor",
        "chardev=qmp0",
        *extra,
    ]
    return Server(argv, socket, directory / f"{name}.stderr")


def storage_daemon_with_a_disk(directory: Path) -> Server:
    """The storage daemon with a 16 MiB raw image as the ``file`` node ``f0`` (for HMP's block commands)."""
    image = directory / "disk.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(image), "16M"], check=True)
    return storage_daemon(directory, "--blockdev", f"driver=file,node-name=f0,filename={image}")


def emulator(directory: Path, binary: str = "qemu-system-x86_64", name: str = "vm.sock") -> Server:
    socket = directory / name
    argv = [
        binary,
        "-M",
        "none",
        "-nodefaults",
        "-display",
        "none",
        "-qmp",
        f"unix:{socket},server=on,wait=off",
    ]
    return Server(argv, socket, directory / f"{name}.stderr")


def guest_agent(directory: Path, name: str = "qga.sock") -> Server:
    """``qemu-ga`` on the host, listening on a UNIX socket, with state and pidfile of its own."""
    found = shutil.which("qemu-ga") or "/usr/sbin/qemu-ga"
    if not Path(found).exists():
        raise RuntimeError("qemu-ga is not installed (Debian's qemu-guest-agent: run scripts/setup)")
    socket, state = directory / name, directory / f"{name}.state"
    state.mkdir(exist_ok=True)
    argv = [found, "-m", "unix-listen", "-p", str(socket), "--pidfile", str(state / "pid"), "-t", str(state)]
    return Server(argv, socket, directory / f"{name}.stderr")


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's choice)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def storage_daemon_on_tcp(directory: Path) -> tuple[Server, str]:
    """The storage daemon with its monitor on 127.0.0.1: what a remote server looks like."""
    port = free_port()
    argv = [
        storage_daemon_binary(),
        "--chardev",
        f"socket,host=127.0.0.1,port={port},server=on,wait=off,id=qmp0",
        "--monitor",
        "chardev=qmp0",
    ]
    server = TcpServer(argv, port, directory / "qsd-tcp.stderr")
    return server, f"127.0.0.1:{port}"


class TcpServer(Server):
    """A server listening on a TCP port of 127.0.0.1."""

    def __init__(self, argv: list[str], port: int, log: Path) -> None:
        self.port = port
        super().__init__(argv, Path(f"127.0.0.1:{port}"), log)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.process.args!r} exited: {self.log.read_text()}")
        return f":{self.port:04X} 00000000:0000 0A" in Path("/proc/net/tcp").read_text()
