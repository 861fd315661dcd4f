"""``libvirt:DOMAIN`` end to end against a real libvirtd and a TCG domain it runs.

The domains are started by libvirt (tests/libvirt_support.py); virsh, not the code under test,
suspends, resumes, stops and starts them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from qmpshell.config import Settings
from qmpshell.protocol.address import parse_address
from qmpshell.repl.connection import Connection
from tests.libvirt_support import LibvirtHost
from tests.qemu_support import Driven, json_lines, log_records, run_qmpshell, wait_until
from tests.tmux_support import start_qmpshell

RUNNING = {"status": "running", "singlestep": False, "running": True}


def qmpshell_on(host: LibvirtHost, domain: str, *args: str, input: str = "") -> tuple[int, list, str]:  # type: ignore[type-arg]
    result = run_qmpshell("--libvirt-uri", host.uri, *args, f"libvirt:{domain}", input=input)
    return result.returncode, json_lines(result.stdout), result.stderr


def test_a_shorthand_command_and_its_reply(libvirt_host: LibvirtHost, libvirt_domain: str) -> None:
    status, lines, stderr = qmpshell_on(
        libvirt_host, libvirt_domain, "-c", "query-status", "-c", "qom-get path=/machine property=type"
    )
    assert (status, stderr) == (0, "")
    assert lines == [{"return": RUNNING}, {"return": "pc-i440fx-7.2-machine"}]


def test_the_uri_may_come_from_the_environment(libvirt_host: LibvirtHost, libvirt_domain: str) -> None:
    env = {**libvirt_host.env, "LIBVIRT_DEFAULT_URI": libvirt_host.uri}
    result = run_qmpshell("-c", "query-name", f"libvirt:{libvirt_domain}", env=env)
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [{"return": {"name": libvirt_domain}}]


def test_a_qemu_ssh_uri_works_like_a_local_one(
    libvirt_host: LibvirtHost, libvirt_domain: str, tmp_path: Path
) -> None:
    uri = libvirt_host.ssh_uri(tmp_path, "far.example")
    result = run_qmpshell(
        "--libvirt-uri", uri, "--events", "-c", "stop", "-c", "/wait STOP timeout=20", "-c", "cont",
        "-c", "/wait RESUME timeout=20", "-c", "query-name", f"libvirt:{libvirt_domain}",
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    lines = json_lines(result.stdout)
    assert [line.get("event") for line in lines if "event" in line] == ["STOP", "RESUME"]
    assert lines[-1] == {"return": {"name": libvirt_domain}}
    assert "far.example" in (tmp_path / "ssh-calls").read_text()  # it went through "ssh"
    address = parse_address(f"libvirt:{libvirt_domain}", libvirt_uri=uri)
    connection = Connection(address, Settings(), log=None, on_event=lambda _event: None)
    try:
        assert connection.status().address == f"libvirt:{libvirt_domain} @ far.example"  # the status bar
    finally:
        connection.close()


def test_an_address_from_qmp_socket(libvirt_host: LibvirtHost, libvirt_domain: str) -> None:
    env = {**libvirt_host.env, "QMP_SOCKET": f"libvirt:{libvirt_domain}"}
    result = run_qmpshell("--libvirt-uri", libvirt_host.uri, "-c", "query-status", env=env)
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [{"return": RUNNING}]


def test_the_address_and_uri_may_come_from_the_config_file(
    libvirt_host: LibvirtHost, libvirt_domain: str, private_xdg: Path
) -> None:
    config = private_xdg / "xdg_config_home" / "qmpshell" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[connection]\naddress = "libvirt:{libvirt_domain}"\nlibvirt_uri = "{libvirt_host.uri}"\n'
    )
    result = run_qmpshell("-c", "query-name")
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [{"return": {"name": libvirt_domain}}]


def test_an_hmp_command(libvirt_host: LibvirtHost, libvirt_domain: str) -> None:
    result = run_qmpshell(
        "--libvirt-uri", libvirt_host.uri, "-H", "-c", "info status", f"libvirt:{libvirt_domain}"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "VM status: running\n"


def test_an_error_reply_is_a_failed_command(libvirt_host: LibvirtHost, libvirt_domain: str) -> None:
    status, lines, stderr = qmpshell_on(libvirt_host, libvirt_domain, "-c", '{"execute": "nosuch"}')
    assert status == 1
    assert lines == [{"error": {"class": "CommandNotFound", "desc": "The command nosuch has not been found"}}]
    assert stderr == "qmpshell: 1: CommandNotFound: The command nosuch has not been found\n"


def test_the_schema_knows_the_commands(libvirt_host: LibvirtHost, libvirt_domain: str) -> None:
    status, lines, stderr = qmpshell_on(libvirt_host, libvirt_domain, "-c", "quer-status")
    assert (status, lines) == (2, [])
    assert stderr == "qmpshell: 1: unknown command 'quer-status'; did you mean query-status?\n"
    result = run_qmpshell(
        "--libvirt-uri", libvirt_host.uri, "-c", "/help query-status", f"libvirt:{libvirt_domain}"
    )
    assert result.stdout.startswith("query-status")
    assert "status: enum (debug | inmigrate" in result.stdout


def test_a_user_id_comes_back_and_libvirt_never_sees_it(
    libvirt_host: LibvirtHost, libvirt_domain: str, tmp_path: Path
) -> None:
    log = tmp_path / "log.jsonl"
    status, lines, stderr = qmpshell_on(
        libvirt_host, libvirt_domain, "-l", str(log), "-c", '{"execute": "query-status", "id": "mine"}'
    )
    assert (status, stderr) == (0, "")
    assert lines == [{"return": RUNNING, "id": "mine"}]
    records = log_records(log)
    sent = [r["message"] for r in records if r["direction"] == "sent"]
    assert {"execute": "query-status"} in sent  # what libvirt got: no id
    assert all("id" not in message for message in sent)
    assert log.stat().st_mode & 0o777 == 0o600


def test_exec_oob_is_refused_by_libvirt(libvirt_host: LibvirtHost, libvirt_domain: str) -> None:
    status, lines, _ = qmpshell_on(libvirt_host, libvirt_domain, "-c", '{"exec-oob": "query-status"}')
    assert status == 1
    assert lines == [
        {"error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}
    ]


def test_qmp_capabilities_is_answered_by_libvirt(libvirt_host: LibvirtHost, libvirt_domain: str) -> None:
    status, lines, _ = qmpshell_on(libvirt_host, libvirt_domain, "-c", "qmp_capabilities")
    assert status == 1
    assert lines[0]["error"]["desc"] == "Capabilities negotiation is already complete, command ignored"


def test_suspend_and_resume_reach_wait_and_events(libvirt_host: LibvirtHost, libvirt_domain: str) -> None:
    driven = Driven("--libvirt-uri", libvirt_host.uri, "--events", f"libvirt:{libvirt_domain}")
    try:
        driven.send("query-status\n")
        assert driven.reply() == {"return": RUNNING}
        libvirt_host.virsh("suspend", libvirt_domain)
        driven.send("/wait STOP timeout=20\n")
        driven.send("query-name\n")
        stop = driven.reply()  # --events writes it as it comes (and /wait does not repeat it)
        assert stop["event"] == "STOP"
        assert set(stop["timestamp"]) == {"seconds", "microseconds"}
        assert driven.reply() == {"return": {"name": libvirt_domain}}  # so /wait had returned
        libvirt_host.virsh("resume", libvirt_domain)
        driven.send("/wait RESUME timeout=20\n")
        driven.send("query-name\n")
        assert driven.reply()["event"] == "RESUME"
        assert driven.reply() == {"return": {"name": libvirt_domain}}
    finally:
        libvirt_host.virsh("resume", libvirt_domain, check=False)
        status, stderr = driven.finish()
    assert (status, stderr) == (0, "")


def test_an_event_with_data_keeps_its_data(libvirt_host: LibvirtHost, libvirt_domain: str) -> None:
    status, lines, stderr = qmpshell_on(
        libvirt_host, libvirt_domain, "-c", "system_reset", "-c", "/wait RESET timeout=20"
    )
    assert (status, stderr) == (0, "")
    assert lines[1]["data"] == {"guest": False, "reason": "host-qmp-system-reset"}


ONE_LOOP = """
import threading
from qmpshell.protocol import libvirtlib
start = threading.Barrier(8)
def target():
    start.wait()
    libvirtlib.start_event_loop()
threads = [threading.Thread(target=target) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(sum(thread.name == "libvirt-events" for thread in threading.enumerate()))
"""


def test_targets_connecting_at_once_start_one_event_loop() -> None:
    """Eight threads (targets under --parallel) set libvirt up at once: one loop thread, as libvirt needs."""
    result = subprocess.run(
        [sys.executable, "-c", ONE_LOOP], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.stdout, result.stderr) == ("1\n", "")


# -- the four ways to fail ----------------------------------------------------------------


def test_without_the_bindings_it_says_which_extra_to_install(tmp_path: Path, libvirt_domain: str) -> None:
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "libvirt.py").write_text("raise ImportError(\"No module named 'libvirt'\")\n")
    env = {"PYTHONPATH": f"{hide}:{Path(__file__).resolve().parent.parent}"}
    result = run_qmpshell("-c", "query-status", f"libvirt:{libvirt_domain}", env=env)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1
    assert "pip install 'qmpshell[libvirt]'" in result.stderr


def test_libvirtd_not_reachable(tmp_path: Path) -> None:
    uri = f"qemu:///system?socket={tmp_path}/no-such-sock"
    result = run_qmpshell("--libvirt-uri", uri, "-c", "query-status", "libvirt:vm")
    assert result.returncode == 3
    assert result.stderr.startswith(f"qmpshell: cannot reach libvirtd at {uri}: ")
    assert result.stderr.count("\n") == 1


def test_libvirtd_not_reachable_at_the_uri_from_the_environment(tmp_path: Path) -> None:
    uri = f"qemu:///system?socket={tmp_path}/no-such-sock"
    result = run_qmpshell("-c", "query-status", "libvirt:vm", env={**os.environ, "LIBVIRT_DEFAULT_URI": uri})
    assert result.returncode == 3
    assert result.stderr.startswith(f"qmpshell: cannot reach libvirtd at {uri} ($LIBVIRT_DEFAULT_URI): ")
    assert result.stderr.count("\n") == 1


def test_ssh_failing_on_the_way_is_still_one_line(tmp_path: Path) -> None:
    # What ssh says when the host key changed, then its exit status; it first waits for libvirt's
    # first bytes, as ssh does, else libvirt may meet a closed pipe ("Cannot write data") first.
    ssh = tmp_path / "ssh"
    ssh.write_text(
        "#!/bin/sh\nhead -c 1 >/dev/null\n"
        "echo 'Warning: a warning first' >&2\necho 'Host key verification failed.' >&2\nexit 255\n"
    )
    ssh.chmod(0o700)
    uri = f"qemu+ssh://far.example/system?command={ssh}"
    result = run_qmpshell("--libvirt-uri", uri, "-c", "query-status", "libvirt:vm")
    assert result.returncode == 3
    assert result.stderr.startswith(f"qmpshell: cannot reach libvirtd at {uri}: ")
    assert result.stderr.count("\n") == 1
    assert "Warning: a warning first; Host key verification failed." in result.stderr


def test_no_such_domain(libvirt_host: LibvirtHost) -> None:
    status, _, stderr = qmpshell_on(libvirt_host, "qmpshell-no-such-domain", "-c", "query-status")
    assert status == 3
    assert stderr == f"qmpshell: no domain named 'qmpshell-no-such-domain' at {libvirt_host.uri}\n"


def test_a_domain_that_is_not_running(libvirt_host: LibvirtHost, spare_domain: str) -> None:
    libvirt_host.virsh("destroy", spare_domain)
    status, _, stderr = qmpshell_on(libvirt_host, spare_domain, "-c", "query-status")
    assert status == 3
    where = f"domain '{spare_domain}' at {libvirt_host.uri}"
    assert stderr == f"qmpshell: {where} is not running (virsh start {spare_domain})\n"


def test_a_hung_domain_is_a_connection_failure(libvirt_host: LibvirtHost, spare_domain: str) -> None:
    """Its QEMU stopped by SIGSTOP: libvirt never answers query-version, so connecting fails (exit 3)."""
    pid = int(
        subprocess.run(["pgrep", "-f", f"guest={spare_domain},"], capture_output=True, text=True).stdout
    )
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: _state(pid) == "T", what="the domain's QEMU stopped")
        status, lines, stderr = qmpshell_on(
            libvirt_host, spare_domain, "--connect-timeout", "1", "-c", "query-name"
        )
    finally:
        os.kill(pid, signal.SIGCONT)
    assert (status, lines) == (3, [])
    assert stderr == (
        f"qmpshell: no reply to query-version from libvirt:{spare_domain} within 1 s; "
        "the domain's QEMU may be hung (or another job holds the domain)\n"
    )


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


# -- the domain's lifecycle ----------------------------------------------------------------


def test_a_stopped_domain_ends_the_batch_with_status_3(libvirt_host: LibvirtHost, spare_domain: str) -> None:
    driven = Driven("--libvirt-uri", libvirt_host.uri, f"libvirt:{spare_domain}")
    driven.send("query-status\n")
    assert driven.reply() == {"return": RUNNING}
    libvirt_host.virsh("destroy", spare_domain)
    driven.send("/wait RESUME timeout=30\n")  # it never comes: the domain stopped
    status, stderr = driven.finish()
    assert status == 3
    # /wait reads the schema first (to check the event's name): when that request meets the
    # destroyed domain before libvirt's lifecycle event arrives, libvirt's own words say so
    said = (f"domain '{spare_domain}' stopped", f"domain '{spare_domain}' is no longer running")
    assert any(text in stderr for text in said), stderr


def test_the_shell_reconnects_when_the_domain_starts_again(
    libvirt_host: LibvirtHost, spare_domain: str
) -> None:
    address = parse_address(f"libvirt:{spare_domain}", libvirt_uri=libvirt_host.uri)
    events: list[dict[str, object]] = []
    connection = Connection(address, Settings(), log=None, on_event=events.append)
    try:
        assert connection.client.execute("query-status")["status"] == "running"
        assert connection.status().address == f"libvirt:{spare_domain} @ localhost"
        assert connection.status().version.startswith("7.2")
        libvirt_host.virsh("destroy", spare_domain)
        wait_until(lambda: connection.lost, timeout=20, what="the connection to end")
        assert not connection.reconnect()  # not running yet
        libvirt_host.virsh("start", spare_domain)
        wait_until(connection.reconnect, timeout=20, what="a reconnect")
        assert connection.client.execute("query-status")["status"] == "running"
        seen = len(events)
        libvirt_host.virsh("suspend", spare_domain)
        libvirt_host.virsh("resume", spare_domain)
        wait_until(lambda: any(e["event"] == "RESUME" for e in events[seen:]), what="RESUME after STOP")
        # once each: the client lost before the restart no longer listens (it did, so both came twice)
        assert [e["event"] for e in events[seen:]].count("STOP") == 1
    finally:
        connection.close()


# -- the interactive shell -------------------------------------------------------------------


def test_the_interactive_shell_on_a_domain(
    libvirt_host: LibvirtHost, libvirt_domain: str, tmp_path: Path
) -> None:
    tmux = start_qmpshell(tmp_path / "xdg", "--libvirt-uri", libvirt_host.uri, f"libvirt:{libvirt_domain}")
    try:
        tmux.wait_for(f"libvirt:{libvirt_domain} @ localhost")
        tmux.wait_for("QEMU 7.2")
        tmux.wait_for("\u2502 running \u2502")
        tmux.type("qom-ge")
        # The schema is read on a worker thread after the prompt appears: Tab again until it is there.
        tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "qmp> qom-get" or tmux.send("Tab"))
        tmux.type(" path=/machine property=type")  # a space also closes the completion menu
        tmux.wait_for(lambda screen: tmux.input_line().rstrip() == "qmp> qom-get path=/machine property=type")
        tmux.send("Enter")
        tmux.wait_for("pc-i440fx-7.2-machine", timeout=30)  # as JSON or as a view, the reply says it
        libvirt_host.virsh("suspend", libvirt_domain)
        tmux.wait_for(" STOP")
        tmux.wait_for("\u2502 paused \u2502")
        libvirt_host.virsh("resume", libvirt_domain)
        tmux.wait_for(" RESUME")
        tmux.enter("/hmp info status")
        tmux.wait_for("VM status: running")
    finally:
        libvirt_host.virsh("resume", libvirt_domain, check=False)
        tmux.close()


def test_the_interactive_shell_follows_the_domain_stopped_and_started(
    libvirt_host: LibvirtHost, spare_domain: str, tmp_path: Path
) -> None:
    tmux = start_qmpshell(tmp_path / "xdg", "--libvirt-uri", libvirt_host.uri, f"libvirt:{spare_domain}")
    try:
        tmux.wait_for("\u2502 running \u2502")
        libvirt_host.virsh("destroy", spare_domain)
        tmux.wait_for("DISCONNECTED")
        tmux.wait_for(f"domain '{spare_domain}'")  # why, in the output pane: stopped, or its monitor lost
        libvirt_host.virsh("start", spare_domain)
        tmux.wait_for(lambda screen: "DISCONNECTED" not in screen.splitlines()[-1], timeout=30)
        tmux.enter("/hmp info status")
        tmux.wait_for("VM status: running")
        assert "DISCONNECTED" not in tmux.screen().splitlines()[-1]
    finally:
        tmux.close()
