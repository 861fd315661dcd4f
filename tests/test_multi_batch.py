"""Scripts whose lines name their targets (``@NAME LINE``): a real migration between two real QEMUs."""

from __future__ import annotations

from pathlib import Path

import pytest

from qmpshell.language.prefix import ALL, Routed, split_target
from qmpshell.protocol.address import parse_address
from qmpshell.protocol.naming import derived_name, split_name, unique
from tests.pair_support import Pair
from tests.qemu_support import json_lines, qemu_version, run_qmpshell

EVENTS_ON = '@all migrate-set-capabilities capabilities=[{"capability": "events", "state": true}]'


def migration_script(uri: str) -> str:
    return "\n".join(
        [
            EVENTS_ON,
            f"@dst migrate-incoming uri={uri}",
            f"@src migrate uri={uri}",
            "/wait @dst MIGRATION status=completed timeout=20",
            "/wait @src MIGRATION status=completed timeout=20",
            "@dst query-status",
        ]
    )


def test_a_migration_script_runs_its_lines_in_order_across_targets(pair: Pair, tmp_path: Path) -> None:
    script = tmp_path / "migrate.qmp"
    script.write_text(migration_script(pair.uri))
    result = run_qmpshell("-f", str(script), *pair.named())
    assert (result.returncode, result.stderr) == (0, "")
    lines = json_lines(result.stdout)
    assert [line["target"] for line in lines] == ["src", "dst", "dst", "src", "dst", "src", "dst"]
    assert [line.get("event") for line in lines[4:6]] == ["MIGRATION", "MIGRATION"]
    assert lines[6]["return"]["status"] == "running"
    assert pair.final_states() == ("completed", "completed", "postmigrate", "running")


def test_an_unknown_target_name_runs_nothing(pair: Pair) -> None:
    result = run_qmpshell("-c", "query-status", "-c", "@nosuch stop", *pair.named())
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "qmpshell: 2: no target named 'nosuch' (the targets: src, dst)\n"
    assert pair.src.aux.execute("query-status")["status"] == "running"


def test_human_format_heads_each_change_of_target(pair: Pair) -> None:
    result = run_qmpshell(
        "--format", "human", "-c", "@src query-status", "-c", "@src query-name", "-c", "@dst query-status",
        *pair.named(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    headings = [line for line in result.stdout.splitlines() if line.startswith("==")]
    assert headings == ["== src ==", "== dst =="]
    assert "inmigrate" in result.stdout.split("== dst ==")[1]


def test_a_failure_on_one_target_stops_the_script(pair: Pair) -> None:
    result = run_qmpshell("-c", "@dst qom-get path=/nosuch property=type", "-c", "@src stop", *pair.named())
    assert result.returncode == 1
    assert "qmpshell: dst: 1: DeviceNotFound" in result.stderr
    assert pair.src.aux.execute("query-status")["status"] == "running"


@pytest.mark.parametrize(
    ("line", "routed"),
    [
        ("@src query-status", Routed("src", "query-status")),
        ("@all stop", Routed(ALL, "stop")),
        ("@* stop", Routed(ALL, "stop")),
        ("/wait @dst MIGRATION status=completed", Routed("dst", "/wait MIGRATION status=completed")),
        ("query-status", Routed("", "query-status")),
        ('{"execute": "stop"}', Routed("", '{"execute": "stop"}')),
    ],
)
def test_split_target(line: str, routed: Routed) -> None:
    assert split_target(line) == routed


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("/run/vm/src.sock", "src"),
        ("qmp", "qmp"),
        ("localhost:4444", "localhost-4444"),
        ("[::1]:4444", "1-4444"),
        ("libvirt:web 1", "web-1"),
    ],
)
def test_derived_names(text: str, name: str) -> None:
    assert derived_name(parse_address(text)) == name


def test_given_names_and_repeated_ones() -> None:
    assert split_name("src=/tmp/a.sock") == ("src", "/tmp/a.sock")
    assert split_name("/tmp/a=b.sock") == ("", "/tmp/a=b.sock")
    assert unique(["qmp", "qmp", "all", "qmp"]) == ["qmp", "qmp-2", "all-2", "qmp-3"]


def test_launch_pair_starts_a_source_and_a_waiting_destination() -> None:
    result = run_qmpshell("--launch-pair", "-c", "@all query-status", "-c", "@dst query-migrate")
    assert (result.returncode, result.stderr) == (0, "")
    lines = json_lines(result.stdout)
    assert [(line["target"], line["return"].get("status")) for line in lines[:2]] == [
        ("src", "running"),
        ("dst", "inmigrate"),
    ]


def test_launch_pair_takes_no_address(pair: Pair) -> None:
    result = run_qmpshell("--launch-pair", "-c", "query-status", pair.src.socket)
    assert result.returncode == 2
    assert result.stderr == "qmpshell: --launch-pair starts its own two QEMUs: no --launch and no address\n"


def test_migrate_helper_in_a_script_checks_both_ends(pair: Pair) -> None:
    result = run_qmpshell("-c", "/migrate src dst", "-c", "@dst query-status", *pair.named())
    assert (result.returncode, result.stderr) == (0, "")
    summary, status = json_lines(result.stdout)
    assert summary["target"] == "src"
    assert summary["text"].splitlines()[-2:] == [
        "src: query-migrate completed, run state postmigrate (ok)",
        "dst: query-migrate completed, run state running (ok)",
    ]
    assert status == {"target": "dst", "return": pytest.approx(status["return"])}
    assert status["return"]["status"] == "running"
    assert pair.final_states() == ("completed", "completed", "postmigrate", "running")


def test_migrate_helper_fails_when_the_destination_does_not_wait(pair: Pair) -> None:
    result = run_qmpshell("-c", "/migrate dst src", *pair.named())  # src was not started -incoming
    assert result.returncode == 1
    assert result.stderr.startswith("qmpshell: dst: 1: /migrate: migrate-incoming on src: GenericError")


def test_migrate_helper_names_an_unknown_target(pair: Pair) -> None:
    result = run_qmpshell("-c", "/migrate src nosuch", *pair.named())
    assert result.returncode == 2
    assert result.stderr == "qmpshell: 1: /migrate: no target named 'nosuch' (the targets: src, dst)\n"


def test_a_migration_script_in_shorthand_channels(pair: Pair) -> None:
    """QEMU >= 8.2: the socket address typed as dotted keys through two unions; older: refused
    before anything is sent."""
    path = pair.uri.removeprefix("unix:")
    channel = (
        "channels.0.channel-type=main channels.0.addr.transport=socket "
        f"channels.0.addr.type=unix channels.0.addr.path={path}"
    )
    script = [EVENTS_ON, f"@dst migrate-incoming {channel}", f"@src migrate {channel}"]
    script.append("/wait @dst MIGRATION status=completed timeout=20")
    result = run_qmpshell(*(arg for line in script for arg in ("-c", line)), *pair.named())
    if qemu_version() < (8, 2, 0):
        assert result.returncode == 2
        assert "channels" in result.stderr and result.stdout == ""
        return
    assert (result.returncode, result.stderr) == (0, "")
    pair.wait_migrated()
    assert pair.final_states() == ("completed", "completed", "postmigrate", "running")


def test_a_script_on_stdin_with_prefixed_lines_runs_in_order(pair: Pair) -> None:
    script = '@dst query-status\n@src {"execute":\n  "query-status"}\nquery-name\n'
    result = run_qmpshell(*pair.named(), input=script)
    assert (result.returncode, result.stderr) == (0, "")
    lines = json_lines(result.stdout)
    assert [line["target"] for line in lines] == ["dst", "src", "src", "dst"]
    assert [lines[0]["return"]["status"], lines[1]["return"]["status"]] == ["inmigrate", "running"]


def test_an_unreachable_target_fails_an_ordered_script_before_any_line(pair: Pair, tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.sock")
    result = run_qmpshell("-c", "@src stop", f"src={pair.src.socket}", f"dst={missing}")
    assert result.returncode == 3
    assert result.stderr.startswith(f"qmpshell: dst: cannot connect to {missing}")
    assert pair.src.aux.execute("query-status")["status"] == "running"


def test_migrate_helper_tells_its_progress_while_it_runs(pair: Pair) -> None:
    """``/migrate`` says where it is (the status bar shows it, a script's terminal its progress line),
    and clears that at the end."""
    from qmpshell.migration import Side, migrate
    from qmpshell.protocol.client import Client
    from qmpshell.protocol.events import EventLog
    from qmpshell.shell import Shell

    told: list[str] = []
    clients = [Client(parse_address(side.socket)) for side in (pair.src, pair.dst)]
    try:
        for client in clients:
            client.connect()
        src, dst = (
            Side(name, Shell(client, EventLog()))
            for name, client in zip(("src", "dst"), clients, strict=True)
        )
        migrate(src, dst, progress=told.append)
    finally:
        for client in clients:
            client.close()
    assert told[-1] == ""
    assert told[:-1] and all(text.startswith("migrating src -> dst: ") for text in told[:-1])
    assert told[-2].startswith("migrating src -> dst: completed"), told
