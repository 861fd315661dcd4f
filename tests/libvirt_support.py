"""A real libvirtd for the libvirt tests and benchmarks, and small TCG domains defined on it.

There is no systemd on CI machines, so the tests start the daemons themselves when none answers:

- as root, the system daemons (``virtlogd -d``, ``libvirtd -d``) and ``qemu:///system``; scripts/setup
  made the user, groups, qemu.conf and log directory they need;
- as any other user, a session ``libvirtd`` of that user with its own configuration, cache and
  runtime directories under ``/tmp/qmpshell-libvirt-UID`` (so the tests' private ``$XDG_*``
  directories and the user's own libvirt are left alone), reached as
  ``qemu:///session?socket=...``; it starts its own virtlogd.

Several test sessions may share a machine, so each registers itself in a state directory under a
lock; the daemons the tests started are stopped by pid when the last session using them ends.
Each session defines its own domains, named ``qmpshell-<pid>-<name>``.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.qemu_support import alive, wait_until

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/></features>
</domain>
"""
# What libvirt runs as ssh in ssh_uri(): the options up to the host are dropped, and the remote command
# (libvirt's "sh -c '...virt-ssh-helper URI...'") is run here, as ssh would run it there.
SSH_STAND_IN = """#!/bin/sh
echo "$@" >> '{calls}'
{runtime}while [ $# -gt 0 ]; do
    case "$1" in
        --) shift; shift; break ;;
        -p|-l|-i|-o|-e) shift 2 ;;
        -*) shift ;;
        *) shift; break ;;
    esac
done
exec sh -c "$*"
"""
# libvirt finds QEMU on $PATH: its domains run the system's QEMU even when QMPSHELL_TEST_QEMU puts
# another first for the rest of the suite (QEMU 10 from backports would need a wrapper under libvirt 9).
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
DAEMON_START_TIMEOUT = 60.0  # the first connection probes QEMU's capabilities (about 8 s)


class LibvirtHost:
    """The libvirt the tests use: its URI, and starting and stopping its daemons."""

    def __init__(self) -> None:
        self.root = os.geteuid() == 0
        if self.root:
            self.base = Path("/run/qmpshell-tests-libvirt")
            self.run_dir = Path("/run")
            self.socket = Path("/run/libvirt/libvirt-sock")
            self.uri = "qemu:///system"
            self.env = {**os.environ, "PATH": SYSTEM_PATH}
        else:
            self.base = Path(f"/tmp/qmpshell-libvirt-{os.getuid()}")
            self.run_dir = self.base / "run"
            self.socket = self.run_dir / "libvirt" / "libvirt-sock"
            self.uri = f"qemu:///session?socket={self.socket}"
            self.env = {
                **os.environ,
                "PATH": SYSTEM_PATH,
                "XDG_RUNTIME_DIR": str(self.run_dir),
                "XDG_CONFIG_HOME": str(self.base / "config"),
                "XDG_CACHE_HOME": str(self.base / "cache"),
            }
        self.prefix = f"qmpshell-{os.getpid()}-"

    # -- daemons ------------------------------------------------------------------

    def start(self) -> None:
        """Register this session; start the daemons if none answers."""
        self._make_base()
        with self._locked():
            (self.base / "users").mkdir(exist_ok=True)
            (self.base / "users" / str(os.getpid())).touch()
            if not _answers(self.socket):
                self._start_daemons()

    def stop(self) -> None:
        """Unregister; the last session out stops the daemons the tests started."""
        with self._locked():
            (self.base / "users" / str(os.getpid())).unlink(missing_ok=True)
            if self._live_users():
                return
            started = self.base / "started"
            if started.exists():
                for pid in started.read_text().split():
                    _stop_process(int(pid))
                started.unlink()

    def _make_base(self) -> None:
        self.base.mkdir(mode=0o700, exist_ok=True)
        if self.base.stat().st_uid != os.geteuid():
            raise RuntimeError(f"{self.base} belongs to another user")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.base / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _live_users(self) -> list[int]:
        live = []
        for entry in (self.base / "users").iterdir():
            if entry.name.isdigit() and alive(int(entry.name)):
                live.append(int(entry.name))
            else:
                entry.unlink(missing_ok=True)
        return live

    def _start_daemons(self) -> None:
        """``virtlogd -d`` (system only: a session libvirtd spawns its own) and ``libvirtd -d``."""
        pids = []
        if self.root:
            Path("/var/log/libvirt").mkdir(parents=True, exist_ok=True)
            if not _answers(Path("/run/libvirt/virtlogd-sock")):
                pids.append(self._daemon("virtlogd", self.run_dir / "virtlogd.pid"))
        else:
            (self.run_dir / "libvirt").mkdir(parents=True, exist_ok=True, mode=0o700)
        pidfile = self.run_dir / ("libvirtd.pid" if self.root else "libvirt/libvirtd.pid")
        pids.append(self._daemon("libvirtd", pidfile))
        (self.base / "started").write_text(" ".join(map(str, pids)))
        wait_until(lambda: _answers(self.socket), timeout=DAEMON_START_TIMEOUT, what="libvirtd's socket")
        # The session daemon starts virtlogd when a domain first starts; remember it then (see stop()).

    def _daemon(self, name: str, pidfile: Path) -> int:
        pidfile.unlink(missing_ok=True)
        subprocess.run([name, "-d"], env=self.env, check=True, timeout=30)
        text = wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), what=f"{name}'s pid file")
        return int(text)

    def note_session_virtlogd(self) -> None:
        """A session libvirtd started virtlogd for the first domain: it is the tests' to stop too."""
        pidfile = self.run_dir / "libvirt" / "virtlogd.pid"
        started = self.base / "started"
        if self.root or not started.exists() or not pidfile.exists():
            return
        with self._locked():
            pids = started.read_text().split()
            pid = pidfile.read_text().strip()
            if pid and pid not in pids:
                started.write_text(" ".join([*pids, pid]))

    # -- the same daemon through qemu+ssh:// ----------------------------------------------

    def ssh_uri(self, directory: Path, host: str) -> str:
        """A ``qemu+ssh://HOST/...`` URI for this daemon, through an ssh stand-in written to ``directory``.

        There is no sshd on CI machines: libvirt's ``command=`` parameter names the program it runs
        as ssh, and the stand-in runs the remote side (``virt-ssh-helper URI``) locally, so the
        qemu+ssh transport of libvirt and qmpshell is exercised whole. Every call's arguments are
        appended to ``directory/ssh-calls``.
        """
        stand_in = directory / "ssh"
        runtime = "" if self.root else f"export XDG_RUNTIME_DIR='{self.run_dir}'\n"
        stand_in.write_text(SSH_STAND_IN.format(calls=directory / "ssh-calls", runtime=runtime))
        stand_in.chmod(0o700)
        driver = "system" if self.root else "session"
        return f"qemu+ssh://{host}/{driver}?command={stand_in}"

    # -- domains --------------------------------------------------------------------

    def virsh(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["virsh", "-q", "-c", self.uri, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"virsh {' '.join(args)}: {result.stderr.strip()}")
        return result

    def define(self, name: str, *, start: bool = True) -> str:
        """Define (and start) the domain ``prefix + name``; returns its full name."""
        full = self.prefix + name
        xml = self.base / f"{full}.xml"
        xml.write_text(DOMAIN_XML.format(name=full))
        self.virsh("define", str(xml))
        if start:
            self.virsh("start", full)
            self.note_session_virtlogd()
        return full

    def remove(self, full_name: str) -> None:
        self.virsh("destroy", full_name, check=False)
        self.virsh("undefine", full_name, check=False)
        (self.base / f"{full_name}.xml").unlink(missing_ok=True)

    def remove_all(self) -> None:
        """Every domain this session defined, and those of test sessions that died without cleaning up."""
        listing = self.virsh("list", "--all", "--name", check=False).stdout.split()
        for name in listing:
            owner = name.split("-")[1] if name.startswith("qmpshell-") else ""
            if name.startswith(self.prefix) or (owner.isdigit() and not alive(int(owner))):
                self.remove(name)


def _answers(path: Path) -> bool:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def _stop_process(pid: int) -> None:
    """SIGTERM, then wait until it is gone (a daemonised process stays a zombie until PID 1 reaps it)."""
    try:
        if Path(f"/proc/{pid}/comm").read_text().strip() not in ("libvirtd", "virtlogd"):
            return  # a stale record: that pid is someone else's now
    except OSError:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
