"""``--launch``: start a private QEMU, hand back its QMP address, and clean up after.

QEMU gets ``-qmp unix:DIR/qmp.sock,server=on,wait=off`` in a fresh temporary
directory; its stderr goes to a file there so that an early exit can be
explained with QEMU's own words.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from qmpshell.errors import ConnectionFailed
from qmpshell.protocol.address import Address

DEFAULT_QEMU = ["qemu-system-x86_64", "-M", "none", "-nodefaults", "-display", "none"]


class LaunchedQemu:
    """A QEMU process owned by this shell."""

    def __init__(self, argv: list[str] | None = None, *, start_timeout: float = 10.0) -> None:
        self.argv = list(argv) if argv else list(DEFAULT_QEMU)
        self.start_timeout = start_timeout
        self.directory = tempfile.mkdtemp(prefix="qmpshell-")
        self.socket_path = os.path.join(self.directory, "qmp.sock")
        self._stderr_path = os.path.join(self.directory, "qemu.stderr")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Address:
        """Start QEMU and wait until its QMP socket exists."""
        argv = [*self.argv, "-qmp", f"unix:{self.socket_path},server=on,wait=off"]
        try:
            with open(self._stderr_path, "wb") as stderr:
                self.process = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stderr=stderr, start_new_session=True
                )
        except OSError as err:
            self.stop()
            raise ConnectionFailed(f"cannot start {self.argv[0]}: {err.strerror or err}") from err
        self._await_socket()
        return Address(path=self.socket_path)

    def _await_socket(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while not _listening(self.socket_path):
            if self.process.poll() is not None:
                raise ConnectionFailed(self._early_exit_message())
            if time.monotonic() > deadline:
                self.stop()
                raise ConnectionFailed(f"QEMU did not open its QMP socket within {self.start_timeout:g} s")
            time.sleep(0.002)  # polling a path: QEMU gives no other sign it is listening

    def _early_exit_message(self) -> str:
        assert self.process is not None
        code = self.process.returncode
        stderr = self.stderr_text().strip()
        self.stop()
        detail = f": {stderr}" if stderr else ""
        return f"QEMU exited early (status {code}){detail}"

    def stderr_text(self) -> str:
        try:
            with open(self._stderr_path, encoding="utf-8", errors="replace") as file:
                return file.read()
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop QEMU (SIGTERM, then SIGKILL) and remove the directory."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def _listening(path: str) -> bool:
    """True once a connection to ``path`` is accepted.

    The file appears at ``bind()``, a moment before QEMU calls ``listen()``; a
    connection in between is refused, so a probe connection (closed at once:
    QEMU takes the next client after it) is the sign to wait for.
    """
    if not os.path.exists(path):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except TimeoutError:
            return True  # listening, with its queue full
        except OSError as err:
            if err.errno in (errno.ECONNREFUSED, errno.ENOENT):
                return False
            raise
    return True
