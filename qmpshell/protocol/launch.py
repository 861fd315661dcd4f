"""``--launch``: start a private QEMU, hand back its QMP address, and clean up after.

QEMU gets ``-qmp unix:DIR/qmp.sock,server=on,wait=off`` in a fresh temporary
directory (``qemu-storage-daemon`` the ``--chardev``/``--monitor`` pair that
means the same to it).  Its stderr goes to ``DIR/qemu.stderr`` so that the shell can tell
what QEMU said: the last lines when it exits, and new lines (warnings) while it
runs.  Its stdout goes to ``/dev/null``: it must never mix with the replies on
the shell's own stdout, and a guest console on ``-serial stdio`` would grow a
file without bound.

QEMU runs in a session of its own (so a Ctrl-C typed at the shell does not
reach it, and ``stop()`` signals its whole process group), and on Linux it is
told to receive SIGTERM when the shell dies, even by SIGKILL
(``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable

from qmpshell.errors import ConnectionFailed, uninterrupted
from qmpshell.protocol.address import Address

DEFAULT_QEMU = ["qemu-system-x86_64", "-M", "none", "-nodefaults", "-display", "none"]
TAIL_LINES = 10  # of QEMU's stderr, shown when it exits
TAIL_BYTES = 4096  # read from the end of the file for them
NEW_OUTPUT_BYTES = 65536  # the most read per look at what QEMU wrote while running
STOP_GRACE = 5.0  # seconds QEMU has to exit after SIGTERM before SIGKILL
EXIT_GRACE = 2.0  # seconds between QEMU closing its QMP socket (quit, crash) and its process being gone
_MONITOR_ID = "qmpshell-qmp"  # the storage daemon's chardev for our monitor
_ACCEPTING = 0x10000  # __SO_ACCEPTCON in /proc/net/unix's Flags: the socket listens


class LaunchedQemu:
    """A QEMU process owned by this shell."""

    def __init__(self, argv: list[str] | None = None, *, start_timeout: float = 10.0) -> None:
        self.argv = list(argv) if argv else list(DEFAULT_QEMU)
        self.start_timeout = start_timeout
        self.directory = tempfile.mkdtemp(prefix="qmpshell-")
        self.socket_path = os.path.join(self.directory, "qmp.sock")
        self._stderr_path = os.path.join(self.directory, "qemu.stderr")
        self._read_up_to = 0  # bytes of the stderr file already handed out by new_output()
        self.process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None  # once QEMU has exited

    def start(self) -> Address:
        """Start QEMU and wait until it accepts connections on its QMP socket."""
        self.spawn()
        self.wait_ready()
        return Address(path=self.socket_path)

    def spawn(self) -> None:
        """Start the QEMU process (again, for ``/relaunch``: same argv, directory and socket).

        Call it on a thread that lives as long as QEMU should: the parent-death
        signal follows the thread that started the process, not the process.
        """
        self._end_process()
        try:
            os.unlink(self.socket_path)
        except FileNotFoundError:
            pass
        argv = [*self.argv, *monitor_options(self.argv[0], self.socket_path)]
        self._read_up_to, self.returncode = 0, None
        try:
            with open(self._stderr_path, "wb") as stderr:
                self.process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,
                    preexec_fn=_die_with_parent(),
                )
        except OSError as err:
            raise ConnectionFailed(f"cannot start {self.argv[0]}: {err.strerror or err}") from err

    def wait_ready(self) -> None:
        """Until QEMU accepts connections; ``QEMU exited (...)`` if it ends first."""
        deadline = time.monotonic() + self.start_timeout
        while not _listening(self.socket_path):
            if self.exited():
                raise ConnectionFailed(self.exit_message())
            if time.monotonic() > deadline:
                self._end_process()
                raise ConnectionFailed(f"QEMU did not open its QMP socket within {self.start_timeout:g} s")
            time.sleep(0.002)  # polling a path: QEMU gives no other sign it is listening

    def exited(self, *, wait: float = 0.0) -> bool:
        """True once QEMU has exited (waiting up to ``wait`` seconds for it)."""
        if self.returncode is not None:
            return True
        if self.process is None:
            return False
        try:
            self.returncode = self.process.wait(timeout=wait) if wait else self.process.poll()
        except subprocess.TimeoutExpired:
            return False
        return self.returncode is not None

    def exit_message(self) -> str:
        """``QEMU exited (status 1): <the last lines QEMU wrote on stderr>``."""
        code = self.returncode
        if code is None:
            how = "still running"
        elif code < 0:
            how = f"killed by {_signal_name(-code)}"
        else:
            how = f"status {code}"
        said = self.stderr_tail()
        return f"QEMU exited ({how})" + (": " + "\n  ".join(said) if said else "")

    def stderr_tail(self) -> list[str]:
        """The last ``TAIL_LINES`` non-empty lines QEMU wrote on stderr (from its last ``TAIL_BYTES``)."""
        try:
            with open(self._stderr_path, "rb") as file:
                file.seek(max(0, os.fstat(file.fileno()).st_size - TAIL_BYTES))
                data = file.read(TAIL_BYTES)
        except OSError:
            return []
        lines = [line.rstrip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
        return lines[-TAIL_LINES:]

    def new_output(self) -> list[str]:
        """Whole lines QEMU wrote on stderr since the last call (warnings while it runs)."""
        try:
            with open(self._stderr_path, "rb") as file:
                file.seek(self._read_up_to)
                data = file.read(NEW_OUTPUT_BYTES)
        except OSError:
            return []
        complete = data.rfind(b"\n") + 1
        if complete == 0 and len(data) < NEW_OUTPUT_BYTES:
            return []  # half a line: wait for the rest
        whole = data[:complete] if complete else data
        self._read_up_to += len(whole)
        return [line.rstrip() for line in whole.decode("utf-8", "replace").splitlines() if line.strip()]

    def stop(self) -> None:
        """Stop QEMU's whole process group (SIGTERM, then SIGKILL) and remove the directory.

        Uninterrupted: the terminal closing sends SIGHUP, sometimes just as the shell leaves on its
        own, and a ``Stopped`` raised between the two steps left QEMU's directory behind.
        """
        with uninterrupted():
            self._end_process()
            shutil.rmtree(self.directory, ignore_errors=True)

    def _end_process(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:  # only while QEMU lives: its pid is its group's id until reaped
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        self.returncode = process.returncode


def monitor_options(program: str, socket_path: str) -> list[str]:
    """The options that give ``program`` a QMP monitor on ``socket_path``.

    ``qemu-storage-daemon`` has no ``-qmp``: its monitor is a chardev of its own
    and ``--monitor`` on it (QMP is the default mode).
    """
    if os.path.basename(program).startswith("qemu-storage-daemon"):
        chardev = f"socket,path={socket_path},server=on,wait=off,id={_MONITOR_ID}"
        return ["--chardev", chardev, "--monitor", f"chardev={_MONITOR_ID}"]
    return ["-qmp", f"unix:{socket_path},server=on,wait=off"]


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send QEMU SIGTERM when the shell dies (``PR_SET_PDEATHSIG``).

    prctl is looked up here, before the fork, so the child only makes the call.
    SIGTERM rather than SIGKILL: QEMU then closes its disk images cleanly.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None  # not Linux: QEMU still stops with the shell's normal exit
    pr_set_pdeathsig = 1
    parent = os.getpid()

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the shell died before the call: nobody would stop QEMU
            os._exit(1)

    return preexec


def _listening(path: str) -> bool:
    """True once QEMU listens on ``path``.

    The file appears at ``bind()``, a moment before ``listen()``, and a
    connection in between is refused.  Linux lists listening sockets in
    ``/proc/net/unix`` (flag ``__SO_ACCEPTCON``); that tells without connecting:
    a probe connection would sit in QEMU's one-place accept queue and make the
    shell's own connection look like a busy socket.
    """
    try:
        with open("/proc/net/unix", "rb") as table:
            rows = table.read().splitlines()[1:]
    except OSError:
        return os.path.exists(path)  # not Linux: the file is the only sign
    wanted = os.fsencode(path)
    for row in rows:
        fields = row.split(None, 7)
        if len(fields) == 8 and fields[7] == wanted and int(fields[3], 16) & _ACCEPTING:
            return True
    return False
