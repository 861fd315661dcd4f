"""Batch mode end to end against a real QEMU: what QEMU received, what it answered, exit statuses."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.inprocess import run_inprocess
from tests.qemu_support import Driven, Qemu, json_lines, log_records, run_qmpshell, status_return, wait_until


def test_piped_lines_give_one_json_reply_each(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input="query-status\nquery-version\n")
    assert result.returncode == 0, result.stderr
    replies = json_lines(result.stdout)
    assert replies[0] == {"return": status_return("running", running=True)}
    assert replies[1]["return"]["qemu"]["major"] >= 7
    assert all("id" not in reply for reply in replies)
    assert result.stderr == ""


def test_no_banner_no_prompt_no_colour(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input="query-status\n")
    assert result.stdout.splitlines() == [json.dumps({"return": status_return("running", running=True)})]
    assert "\x1b[" not in result.stdout


def test_color_always_colours_batch_output(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "--color=always", input="query-status\n")
    assert "\x1b[" in result.stdout


def test_pretty_indents(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-p", input="query-status\n")
    assert result.stdout.startswith('{\n  "return": {\n    "status": "running"')
    assert json.loads(result.stdout) == {"return": status_return("running", running=True)}


def test_verbose_writes_the_command_as_sent_before_its_reply(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-v", input="qom-get path=/machine property=type\n")
    sent, reply = json_lines(result.stdout)
    assert sent["execute"] == "qom-get"
    assert sent["arguments"] == {"path": "/machine", "property": "type"}
    assert "id" in sent
    assert reply == {"return": "none-machine"}


def test_dotted_keys_nest_for_blockdev_add(qemu: Qemu) -> None:
    line = "blockdev-add driver=raw node-name=r0 file.driver=null-co file.node-name=f0 file.size=1048576"
    result = run_qmpshell(qemu.socket, input=line + "\n")
    assert result.returncode == 0, result.stderr
    nodes = {n["node-name"]: n for n in qemu.aux.execute("query-named-block-nodes")}
    assert nodes["r0"]["drv"] == "raw"
    assert nodes["f0"]["drv"] == "null-co"
    assert nodes["f0"]["image"]["virtual-size"] == 1048576


def test_numbers_in_every_base_reach_qemu_as_integers(qemu: Qemu) -> None:
    lines = [
        "object-add qom-type=memory-backend-ram id=m0 size=0x100000",
        "object-add qom-type=memory-backend-ram id=m1 size=0o4000000",
        "object-add qom-type=memory-backend-ram id=m2 size=0b100000000000000000000",
        "object-add qom-type=memory-backend-ram id=m3 size=2097152",
    ]
    result = run_qmpshell(qemu.socket, input="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    sizes = [qemu.aux.execute("qom-get", path=f"/objects/m{i}", property="size") for i in range(4)]
    assert sizes == [1048576, 1048576, 1048576, 2097152]


def test_quoted_value_is_a_string_with_quotes_removed(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input="human-monitor-command command-line='info status'\n")
    assert json_lines(result.stdout) == [{"return": "VM status: running\r\n"}]


def test_booleans_and_json_values(qemu: Qemu) -> None:
    lines = [
        'blockdev-add {"driver": "null-co", "node-name": "n1", "size": 4096}',
        "block-dirty-bitmap-add node=n1 name=b0 persistent=false disabled=true",
        "x-debug-block-dirty-bitmap-sha256 node=n1 name=b0",
    ]
    result = run_qmpshell(qemu.socket, input="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    nodes = {n["node-name"]: n for n in qemu.aux.execute("query-named-block-nodes")}
    bitmap = nodes["n1"]["dirty-bitmaps"][0]
    assert bitmap["name"] == "b0" and bitmap["recording"] is False


def test_raw_json_line_spanning_lines(qemu: Qemu) -> None:
    script = '{\n  "execute": "qom-get",\n  "arguments": {"path": "/machine", "property": "type"}\n}\n'
    result = run_qmpshell(qemu.socket, input=script)
    assert json_lines(result.stdout) == [{"return": "none-machine"}]


def test_raw_json_keeps_its_own_id(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input='{"execute": "query-status", "id": "mine"}\n')
    assert json_lines(result.stdout)[0]["id"] == "mine"


def test_transaction_over_several_lines(qemu: Qemu) -> None:
    script = (
        "blockdev-add driver=null-co node-name=t0 size=4096\n"
        "transaction(\n"
        "  block-dirty-bitmap-add node=t0 name=a\n"
        "  block-dirty-bitmap-add node=t0 name=b\n"
        ")\n"
        "transaction( block-dirty-bitmap-add node=t0 name=c )\n"
    )
    result = run_qmpshell(qemu.socket, input=script)
    assert result.returncode == 0, result.stderr
    nodes = {n["node-name"]: n for n in qemu.aux.execute("query-named-block-nodes")}
    assert sorted(b["name"] for b in nodes["t0"]["dirty-bitmaps"]) == ["a", "b", "c"]


def test_error_reply_exit_1_and_one_stderr_line(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input='query-status\n{"execute": "nosuch"}\nquery-status\n')
    assert result.returncode == 1
    assert json_lines(result.stdout) == [
        {"return": status_return("running", running=True)},
        {"error": {"class": "CommandNotFound", "desc": "The command nosuch has not been found"}},
    ]
    assert result.stderr.startswith("qmpshell: 2: CommandNotFound: The command nosuch has not been found")
    assert "Traceback" not in result.stderr


def test_keep_going_runs_every_line_and_still_fails(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-k", input="device_del id=nosuch\nquery-status\n")
    assert result.returncode == 1
    assert json_lines(result.stdout)[0]["error"]["class"] == "DeviceNotFound"
    assert len(json_lines(result.stdout)) == 2


def test_parse_error_in_a_file_runs_nothing(qemu: Qemu, tmp_path: Path) -> None:
    script = tmp_path / "script.qmp"
    script.write_text("stop\n# comment\n\nx a={1\n")
    result = run_qmpshell(qemu.socket, "-f", str(script))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "qmpshell: 4: unclosed '{' (column 5)"
    assert lines[1:] == ["  x a={1", "      ^"]
    assert qemu.aux.execute("query-status")["status"] == "running"


def test_parse_error_on_stdin_stops_there(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input="query-status\nbad-line oops\nstop\n")
    assert result.returncode == 2
    assert len(json_lines(result.stdout)) == 1
    assert "qmpshell: 2: expected KEY=VALUE, found 'oops' (column 10)" in result.stderr
    assert qemu.aux.execute("query-status")["status"] == "running"


def test_commands_option_runs_in_order(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-c", "stop", "-c", "query-status")
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout) == [
        {"return": {}},
        {"return": status_return("paused", running=False)},
    ]


def test_file_dash_reads_stdin(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-f", "-", input="query-status\n")
    assert result.returncode == 0 and len(json_lines(result.stdout)) == 1


def test_address_from_environment(qemu: Qemu) -> None:
    env = {**os.environ, "QMP_SOCKET": qemu.socket}
    result = run_qmpshell("-c", "query-status", env=env)
    assert result.returncode == 0, result.stderr


def test_usage_errors_exit_2() -> None:
    assert run_inprocess("--no-such-option").returncode == 2
    result = run_inprocess("-c", "query-status")
    assert result.returncode == 2
    assert "QMP_SOCKET" in result.stderr


def test_wait_after_stop(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input="stop\n/wait STOP timeout=10\n")
    assert result.returncode == 0, result.stderr
    reply, event = json_lines(result.stdout)
    assert reply == {"return": {}}
    assert event["event"] == "STOP"


def test_wait_matches_data_fields_and_times_out(qemu: Qemu) -> None:
    script = "stop\n/wait STOP\ncont\n/wait RESUME\nquit\n/wait SHUTDOWN reason=host-qmp-quit timeout=10\n"
    result = run_qmpshell(qemu.socket, input=script)
    assert [m.get("event") for m in json_lines(result.stdout) if "event" in m] == [
        "STOP",
        "RESUME",
        "SHUTDOWN",
    ]
    assert result.returncode == 0, result.stderr


def test_wait_timeout_is_a_failure(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input="/wait DEVICE_DELETED timeout=0.2\nquery-status\n")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "qmpshell: 1: no DEVICE_DELETED event within 0.2 s"


def test_wait_for_an_event_from_another_monitor(qemu: Qemu) -> None:
    with Driven(qemu.socket) as shell:
        shell.send("query-status\n")
        assert shell.reply()["return"]["running"] is True
        shell.send("/wait STOP timeout=30\n")
        qemu.aux.execute("stop")
        assert shell.reply()["event"] == "STOP"
        assert shell.finish()[0] == 0


def test_events_option_streams_events_in_order(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "--events", input="stop\ncont\nstop\n")
    messages = json_lines(result.stdout)
    assert [m["event"] for m in messages if "event" in m] == ["STOP", "RESUME", "STOP"]
    assert [m for m in messages if "return" in m] == [{"return": {}}] * 3


def test_hmp_mode_info_status(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-H", input="info status\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "VM status: running\n"


def test_hmp_passthrough_sends_no_cpu_index(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-H", "-v", "--hmp-via", "passthrough", input="info version\n")
    sent = json.loads(result.stdout.splitlines()[0])
    assert sent["arguments"] == {"command-line": "info version"}


def test_hmp_translated_line_shows_the_qmp_command_sent(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-H", "-v", input="info version\n")
    sent = json.loads(result.stdout.splitlines()[0])
    assert {k: v for k, v in sent.items() if k != "id"} == {"execute": "query-version"}


def test_hmp_error_text_is_a_failure(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-H", input="nosuch\n")
    assert result.returncode == 1
    assert result.stderr.strip() == "qmpshell: 1: HMP: unknown command: 'nosuch'"


def test_hmp_cpu_on_machine_without_cpus(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-H", input="cpu 0\n")
    assert result.returncode == 1
    assert "no such CPU" in result.stderr


def test_hmp_line_from_qmp_mode(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input="/hmp info status\nquery-status\n")
    assert result.stdout.splitlines()[0] == "VM status: running"
    assert json.loads(result.stdout.splitlines()[1])["return"]["status"] == "running"


def test_quit_mid_script_is_a_success_then_connection_is_gone(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input="query-status\nquit\n")
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout)[-1] == {"return": {}}
    assert qemu.process.wait(timeout=10) == 0
    result = run_qmpshell(qemu.socket, "-c", "query-status")
    assert result.returncode == 3


def test_lines_after_quit_fail_with_connection_lost(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, input="quit\nquery-status\n")
    assert result.returncode == 3
    assert json_lines(result.stdout) == [{"return": {}}]
    assert result.stderr.count("\n") == 1
    assert "host-qmp-quit" in result.stderr and "Traceback" not in result.stderr


def test_qemu_killed_mid_script(qemu: Qemu) -> None:
    with Driven(qemu.socket) as shell:
        shell.send("query-status\n/wait NEVER_* timeout=60\n")
        assert "return" in shell.reply()
        qemu.kill(signal.SIGKILL)
        status, stderr = shell.finish()
    assert status == 3
    assert stderr.startswith("qmpshell: 2: ") and stderr.count("\n") == 1
    assert "Traceback" not in stderr


def test_busy_socket_says_another_client_may_hold_it(qemu: Qemu) -> None:
    holder = socket.socket(socket.AF_UNIX)
    holder.connect(qemu.socket)
    try:
        assert holder.recv(4096).startswith(b'{"QMP"')
        started = time.monotonic()
        result = run_qmpshell(qemu.socket, "--connect-timeout", "0.5", "-c", "query-status")
        assert time.monotonic() - started < 10
    finally:
        holder.close()
    assert result.returncode == 3
    assert "another client may hold the socket" in result.stderr
    assert result.stderr.count("\n") == 1


def test_missing_socket_exit_3(tmp_path: Path) -> None:
    result = run_inprocess(str(tmp_path / "nothing.sock"), "-c", "query-status")
    assert result.returncode == 3
    assert "no such file" in result.stderr


def test_command_timeout_exit_1(qemu: Qemu) -> None:
    with Driven(qemu.socket, "--timeout", "0.5") as shell:
        shell.send("query-status\n")
        assert "return" in shell.reply()
        qemu.kill(signal.SIGSTOP)
        try:
            shell.send("query-status\n")
            status, stderr = shell.finish()
        finally:
            qemu.kill(signal.SIGCONT)
    assert status == 1
    assert stderr.strip() == "qmpshell: 2: no reply to query-status within 0.5 s"


def test_interrupted_exit_130(qemu: Qemu) -> None:
    with Driven(qemu.socket) as shell:
        shell.send("query-status\n/wait NEVER_*\n")
        assert "return" in shell.reply()
        shell.process.send_signal(signal.SIGINT)
        assert shell.process.wait(timeout=30) == 130
        assert "Traceback" not in shell.finish()[1]


def test_logfile_records_every_message(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "qmp.log"
    result = run_qmpshell(qemu.socket, "-l", str(log), input="stop\nquery-status\n")
    assert result.returncode == 0
    assert os.stat(log).st_mode & 0o777 == 0o600
    records = log_records(log)
    assert all({"time", "direction", "message"} <= set(r) for r in records)
    assert "QMP" in records[0]["message"] and records[0]["direction"] == "received"
    sent = [r["message"]["execute"] for r in records if r["direction"] == "sent"]
    assert sent[0] == "qmp_capabilities"
    assert sent[-2:] == ["stop", "query-status"]
    assert any(r["message"].get("event") == "STOP" for r in records)
    run_qmpshell(qemu.socket, "-l", str(log), input="query-version\n")
    assert len(log.read_text().splitlines()) > len(records)


def test_logfile_redacts_secrets(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "qmp.log"
    result = run_qmpshell(
        qemu.socket, "-l", str(log), input="object-add qom-type=secret id=s0 data=hunter2\n"
    )
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in log.read_text()
    assert "<redacted>" in log.read_text()


def test_launch_starts_and_stops_qemu() -> None:
    result = run_qmpshell("--launch", "-c", "query-status", "-c", "query-version")
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout)[0]["return"]["status"] == "running"


def test_launch_with_explicit_argv_and_early_exit() -> None:
    result = run_qmpshell(
        "--launch", "-c", "query-status", "--", "qemu-system-x86_64", "-M", "no-such-machine"
    )
    assert result.returncode == 3
    assert result.stderr.startswith("qmpshell: QEMU exited (status 1): ")
    assert "unsupported machine type" in result.stderr
    missing = run_qmpshell("--launch", "-c", "query-status", "--", "/nonexistent/qemu")
    assert missing.returncode == 3 and "cannot start" in missing.stderr


def test_launch_cleans_up_after_quit() -> None:
    result = run_qmpshell("--launch", "-c", "quit")
    assert result.returncode == 0, result.stderr


def test_tcp_address(short_dir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = ["qemu-system-x86_64", "-M", "none", "-nodefaults", "-display", "none"]
    argv += ["-qmp", f"tcp:127.0.0.1:{port},server=on,wait=off"]
    proc = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _port_open(port), what="QEMU's TCP monitor")
        result = run_qmpshell(f"127.0.0.1:{port}", "-c", "query-status")
        assert result.returncode == 0, result.stderr
    finally:
        proc.kill()
        proc.wait()


def _port_open(port: int) -> bool:
    # QEMU's listening socket accepts one client; probe with a connect that is closed at once.
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
