"""One script against many targets: real QEMU sockets, a real libvirt domain, one unreachable target."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.libvirt_support import LibvirtHost
from tests.qemu_support import Qemu, json_lines, log_records, run_qmpshell, status_return

DOMAIN_RUNNING = {"status": "running", "singlestep": False, "running": True}  # libvirt's: the system's 7.2


def running() -> dict[str, Any]:
    """query-status of the suite's QEMU (``singlestep`` went in 10.0)."""
    return status_return("running", running=True)


def by_target(stdout: str) -> dict[str, list[Any]]:
    """Each target's lines in the order they came (without the tag)."""
    lines: dict[str, list[Any]] = defaultdict(list)
    for line in json_lines(stdout):
        target = line.pop("target")
        lines[target].append(line)
    return dict(lines)


def test_two_sockets_and_a_domain_one_unreachable(
    qemu: Qemu, libvirt_host: LibvirtHost, libvirt_domain: str, tmp_path: Path
) -> None:
    missing = str(tmp_path / "gone.sock")
    domain = f"libvirt:{libvirt_domain}"
    result = run_qmpshell(
        "--libvirt-uri", libvirt_host.uri, "-c", "query-status", "-c", "query-name",
        qemu.socket, missing, domain,
    )  # fmt: skip
    assert result.returncode == 3
    assert by_target(result.stdout) == {
        qemu.socket: [{"return": running()}, {"return": {}}],
        domain: [{"return": DOMAIN_RUNNING}, {"return": {"name": libvirt_domain}}],
    }
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"qmpshell: {missing}: cannot connect to {missing}: no such file")
    assert errors[1:] == [f"qmpshell: 1 of 3 targets failed: {missing} (exit 3)"]


def test_every_target_succeeding_is_status_0_with_nothing_on_stderr(qemu: Qemu) -> None:
    result = run_qmpshell("--json", "-c", "query-status", qemu.socket, qemu.aux_socket)
    assert (result.returncode, result.stderr) == (0, "")
    assert sorted(json_lines(result.stdout), key=lambda line: line["target"]) == sorted(
        [{"target": qemu.socket, "return": running()}, {"target": qemu.aux_socket, "return": running()}],
        key=lambda line: line["target"],
    )


def test_a_glob_of_sockets_keeps_each_targets_lines_in_order(qemu: Qemu) -> None:
    directory = Path(qemu.socket).parent
    script = ["qom-get path=/machine property=type", "query-name"] + ["query-status"] * 20
    script += ["qom-get path=/machine property=dump-guest-core"]
    expected = (
        [{"return": "none-machine"}, {"return": {}}] + [{"return": running()}] * 20 + [{"return": True}]
    )
    argv = [arg for line in script for arg in ("-c", line)]
    result = run_qmpshell("--parallel", "2", *argv, str(directory / "*.sock"))
    assert result.returncode == 0, result.stderr
    assert by_target(result.stdout) == {qemu.socket: expected, qemu.aux_socket: expected}


def test_the_worst_status_wins_and_the_others_still_run(qemu: Qemu, tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.sock")
    result = run_qmpshell("--parallel", "1", "-c", '{"execute": "nosuch"}', qemu.socket, missing)
    assert result.returncode == 3
    assert by_target(result.stdout)[qemu.socket][0]["error"]["class"] == "CommandNotFound"
    assert result.stderr.splitlines()[-1] == (
        f"qmpshell: 2 of 2 targets failed: {qemu.socket} (exit 1), {missing} (exit 3)"
    )
    assert (
        f"qmpshell: {qemu.socket}: 1: CommandNotFound: The command nosuch has not been found" in result.stderr
    )


def test_a_pattern_that_matches_nothing_fails_alone(qemu: Qemu, tmp_path: Path) -> None:
    pattern = str(tmp_path / "none-*.sock")
    result = run_qmpshell("-c", "query-status", pattern, qemu.socket)
    assert result.returncode == 2
    assert by_target(result.stdout) == {qemu.socket: [{"return": running()}]}
    assert f"qmpshell: {pattern}: no file matches '{pattern}'" in result.stderr


def test_a_script_on_stdin_runs_on_every_target(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, qemu.aux_socket, input="query-status\nquery-name\n")
    assert result.returncode == 0, result.stderr
    assert by_target(result.stdout) == {
        qemu.socket: [{"return": running()}, {"return": {}}],
        qemu.aux_socket: [{"return": running()}, {"return": {}}],
    }


def test_hmp_text_and_verbose_lines_are_tagged_too(qemu: Qemu) -> None:
    result = run_qmpshell("-v", "-H", "-c", "info status", qemu.socket, qemu.aux_socket)
    assert result.returncode == 0, result.stderr
    for lines in by_target(result.stdout).values():
        sent, text = lines
        assert sent["execute"] == "query-status"  # -v shows the QMP an HMP line was translated to
        assert text == {"text": "VM status: running\n"}


def test_all_running_domains_that_match(
    libvirt_host: LibvirtHost, libvirt_domain: str, spare_domain: str
) -> None:
    pattern = f"libvirt:{libvirt_host.prefix}*"
    result = run_qmpshell("--libvirt-uri", libvirt_host.uri, "-c", "query-name", pattern)
    assert result.returncode == 0, result.stderr
    assert by_target(result.stdout) == {
        f"libvirt:{name}": [{"return": {"name": name}}] for name in (libvirt_domain, spare_domain)
    }


def test_several_targets_need_batch_mode(qemu: Qemu) -> None:
    result = run_qmpshell("--launch", qemu.socket, qemu.aux_socket)
    assert result.returncode == 2
    assert result.stderr.startswith("qmpshell: several targets need batch mode")


def test_format_human_prints_a_block_per_target_under_a_heading(qemu: Qemu, tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.sock")
    result = run_qmpshell("--format", "human", "-c", "query-status", "-c", "query-name", qemu.socket, missing)
    assert result.returncode == 3
    blocks = result.stdout.split("== ")[1:]
    no_name = "this machine has no name (it was started without -name)"
    assert sorted(blocks) == sorted([f"{qemu.socket} ==\nrunning\n{no_name}\n", f"{missing} ==\n"])
    assert result.stderr.splitlines()[-1] == f"qmpshell: 1 of 2 targets failed: {missing} (exit 3)"


def test_one_log_file_says_which_target_each_record_is_about(qemu: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "many.log"
    result = run_qmpshell("-l", str(log), "-c", "query-name", qemu.socket, qemu.aux_socket)
    assert result.returncode == 0, result.stderr
    records = log_records(log)
    sent = {(r["target"], r["message"]["execute"]) for r in records if r["direction"] == "sent"}
    assert {(qemu.socket, "query-name"), (qemu.aux_socket, "query-name")} <= sent
    assert all(r["target"] in (qemu.socket, qemu.aux_socket) for r in records)
    assert log.stat().st_mode & 0o777 == 0o600


def test_addresses_may_come_before_and_after_the_options(qemu: Qemu) -> None:
    result = run_qmpshell(qemu.socket, "-c", "query-name", "--json", qemu.aux_socket)
    assert result.returncode == 0, result.stderr
    assert by_target(result.stdout) == {qemu.socket: [{"return": {}}], qemu.aux_socket: [{"return": {}}]}


def test_parallel_bounds_how_many_targets_run_at_once(short_dir: Path, tmp_path: Path) -> None:
    """Four monitors of one QEMU, each kept busy for a second by a /wait: never more than two at once."""
    extra = [str(short_dir / f"{name}.sock") for name in ("c", "d")]
    machine = Qemu(short_dir, *(arg for path in extra for arg in ("-qmp", f"unix:{path},server=on,wait=off")))
    sockets = [machine.socket, machine.aux_socket, *extra]
    log = tmp_path / "parallel.log"
    try:
        result = run_qmpshell(
            "--parallel", "2", "-k", "-l", str(log), "-c", "query-name",
            "-c", "/wait BLOCK_JOB_READY timeout=1", "-c", "query-name", *sockets,
        )  # fmt: skip
    finally:
        machine.stop()
    assert result.returncode == 1  # each /wait timed out: a failed command
    assert by_target(result.stdout) == {socket: [{"return": {}}, {"return": {}}] for socket in sockets}
    spans: dict[str, list[datetime]] = defaultdict(list)
    for record in log_records(log):
        spans[record["target"]].append(datetime.fromisoformat(record["time"]))
    assert set(spans) == set(sockets)
    assert most_at_once([(min(times), max(times)) for times in spans.values()]) == 2


def most_at_once(spans: list[tuple[datetime, datetime]]) -> int:
    """The most spans that overlap at any moment (an end before a start at the same moment)."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most
