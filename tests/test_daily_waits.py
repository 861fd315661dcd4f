"""``/wait`` windows against a real QEMU: stop, query, wait; ``since=``; the timeout's message."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tests.qemu_support import Driven, Qemu, run_qmpshell

TIME = r"\d\d:\d\d:\d\d\.\d{3}"


def test_an_event_before_the_previous_command_is_named_in_the_timeout(machine: Qemu) -> None:
    script = ("-c", "stop", "-c", "query-status", "-c", "/wait STOP timeout=0.3")
    result = run_qmpshell(machine.socket, *script)
    machine.aux.execute("cont")
    assert result.returncode == 1
    assert re.search(
        rf"no STOP event within 0\.3 s; a STOP arrived at {TIME}, before query-status$", result.stderr
    )


def test_an_event_after_the_previous_command_was_sent_counts(machine: Qemu) -> None:
    result = run_qmpshell(machine.socket, "-c", "stop", "-c", "/wait STOP timeout=5")
    machine.aux.execute("cont")
    assert result.returncode == 0, result.stderr
    assert '"event": "STOP"' in result.stdout


def test_since_start_and_since_last_widen_the_window(machine: Qemu) -> None:
    script = (
        *("-c", "stop", "-c", "query-status", "-c", "/wait STOP since=start timeout=5"),
        *("-c", "cont", "-c", "query-status", "-c", "/wait RESUME since=last timeout=5"),
        *("-c", "/wait RESUME since=start timeout=0.3"),  # the one RESUME was taken by the wait before
    )
    result = run_qmpshell(machine.socket, *script)
    assert result.returncode == 1
    assert [m for m in re.findall(r'"event": "(\w+)"', result.stdout)] == ["STOP", "RESUME"]
    assert result.stderr.strip().endswith("no RESUME event within 0.3 s")


def test_since_a_time_counts_events_stamped_from_then(machine: Qemu) -> None:
    with Driven(machine.socket, "-k") as shell:
        shell.send("query-status\n")
        shell.reply()
        before = datetime.now().strftime("%H:%M:%S.%f")[:-3]
        machine.aux.execute("stop")
        shell.send("query-version\n")
        shell.reply()
        after = (datetime.now() + timedelta(milliseconds=2)).strftime("%H:%M:%S.%f")[:-3]  # past STOP's ms
        shell.send(f"/wait STOP since={after} timeout=0.3\n/wait STOP since={before} timeout=5\n")
        seen = shell.reply()
        status, stderr = shell.finish()
    machine.aux.execute("cont")
    assert seen["event"] == "STOP"
    assert "no STOP event within 0.3 s" in stderr
    assert status == 1


def test_a_bad_since_is_a_usage_error(machine: Qemu) -> None:
    result = run_qmpshell(machine.socket, "-c", "/wait STOP since=yesterday")
    assert result.returncode == 2
    assert "since= takes start, last or a time HH:MM:SS[.mmm]" in result.stderr


def test_help_wait_states_the_window(machine: Qemu) -> None:
    result = run_qmpshell(machine.socket, "-c", "/help wait")
    text = " ".join(result.stdout.split())
    assert "after the previous command was sent" in text and "since=start" in text
