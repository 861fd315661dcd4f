"""``--quiet-monitor`` (issue 23 item 5) against real servers, counted in the ``-l`` log.

The shell sends nothing the user did not type but ``qmp_capabilities`` and,
when no cached schema fits, one ``query-qmp-schema``: no ``query-commands`` to
tell the server, no ``query-status`` for the status bar, no completion or typing
questions, no ``query-cpus-fast`` for HMP's ``cpu N``.  In the full screen, the
line mode, batch mode (``-c``, ``-f``, stdin) and HMP.  And the emulator and the
storage daemon of one build still never share a cached schema (issue 21): with
nothing asked, the key is the server's executable, and a server whose
executable is unknown (TCP) is never served from the cache.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from qmpshell.config import Settings
from qmpshell.protocol.address import parse_address
from qmpshell.repl.connection import Connection
from qmpshell.schema.knowledge import SchemaKnowledge
from tests.libvirt_support import LibvirtHost
from tests.qemu_support import Qemu, log_records, run_qmpshell
from tests.server_support import (
    Server,
    storage_daemon_on_tcp,
)
from tests.tmux_support import Tmux, reply_line, shell_env

QUIET = "--quiet-monitor"
HANDSHAKE = ("connection", "qmp_capabilities")
SCHEMA = ("schema", "query-qmp-schema")


def sent(log: Path) -> list[tuple[str, str]]:
    """(source, command) of each message sent, in order; source '' for the user's own."""
    records = log_records(log, still_written=True)
    return [
        (r.get("source", ""), r["message"].get("execute", "")) for r in records if r["direction"] == "sent"
    ]


def assert_only_typed(log: Path, typed: list[str], *, schema: bool) -> None:
    """The shell's own messages are the handshake and (``schema``) one schema; the rest is ``typed``."""
    messages = sent(log)
    own = [message for message in messages if message[0]]
    assert own == [HANDSHAKE, *([SCHEMA] if schema else [])], messages
    assert [command for source, command in messages if not source] == typed, messages


def cache_files(private_xdg: Path) -> list[str]:
    cache = private_xdg / "xdg_cache_home" / "qmpshell"
    return sorted(path.name for path in cache.iterdir()) if cache.exists() else []


# -- the full screen and the line mode -------------------------------------------------------------


Start = Callable[..., Tmux]


def settle(tmux: Tmux, prompt: str = "qmp>", target: str = "") -> None:
    """Clear the input line once every completion a Tab started has ended.

    prompt_toolkit runs one completion at a time and reads the line when it starts, so
    a Tab's completion may start late, on a line typed after it, and hold that line's
    Enter (a menu is being computed); a Tab meanwhile does nothing.  A Tab that visibly
    completes ``query-nam`` (pressed again until it does) ends after any before it.
    """
    tmux.send("C-u")
    tmux.type(f"{target}query-nam")
    for _ in range(40):
        tmux.send("Tab")
        try:
            tmux.wait_for(lambda screen: f"{prompt} {target}query-name" in screen, timeout=0.5)
            break
        except AssertionError:
            continue
    else:
        raise AssertionError(f"Tab never completed query-nam:\n{tmux.screen()}")
    tmux.send("C-u")
    tmux.wait_for(
        lambda screen: any(line.split("\u2502")[0].rstrip() == prompt for line in screen.splitlines())
    )


def full_screen_session(start: Start, qemu: Qemu, log: Path) -> None:
    """Completion, typing, an event, HMP (``cpu N`` too) and a query: only the typed lines go out."""
    tmux = start(qemu.socket, QUIET, "-l", str(log))
    tmux.type("qom-list ")
    tmux.wait_for("qom-list path=str")  # the toolbar: the schema is loaded
    tmux.type("path=/machine/un")
    tmux.send("Tab")  # completion from the schema only: no qom-list asked
    settle(tmux)
    tmux.enter("object-add qom-type=memory-backend-ram id=m0 size=1048576")  # typed without asking
    tmux.wait_for(reply_line("ok"))
    qemu.aux.execute("stop")  # an event that would have the status bar ask query-status
    tmux.wait_for(lambda screen: "paused" in screen.splitlines()[-1])  # the run state, from the event
    tmux.enter("/hmp")
    tmux.type("info qom-tr")
    tmux.send("Tab")  # HMP names: those the schema's commands run, nothing asked
    tmux.wait_for(lambda screen: "hmp> info qom-tree" in screen)
    tmux.send("C-u")
    tmux.enter("info status")
    tmux.wait_for("VM status: paused")
    tmux.enter("cpu 0")  # not checked: no query-cpus-fast
    tmux.wait_for("HMP commands now run on CPU 0")
    tmux.enter("/qmp")
    tmux.enter("query-name")
    tmux.wait_for("this machine has no name")
    tmux.send("C-d")
    tmux.wait_for("EXITED=0")


def test_the_full_screen_sends_only_what_was_typed(start: Start, qemu: Qemu, tmp_path: Path) -> None:
    cold, warm = tmp_path / "cold.log", tmp_path / "warm.log"
    full_screen_session(start, qemu, cold)
    typed = ["object-add", "query-status", "query-name"]  # HMP info status: QMP query-status
    assert_only_typed(cold, typed, schema=True)  # no cached schema in this test's own XDG directories
    qemu.aux.execute("cont")
    qemu.aux.execute("object-del", id="m0")
    full_screen_session(start, qemu, warm)
    assert_only_typed(warm, typed, schema=False)  # the cached schema fits: not asked for again


def line_mode_session(qemu: Qemu, tmp_path: Path, log: Path) -> None:
    argv = [sys.executable, "-m", "qmpshell", "--line", QUIET, "-l", str(log), qemu.socket]
    tmux = Tmux(argv, env=shell_env(tmp_path / "xdg"))
    try:
        tmux.wait_for(lambda screen: any(line.rstrip() == "qmp>" for line in screen.splitlines()))
        tmux.type("qom-list path=/machine/un")
        tmux.send("Tab")
        settle(tmux)
        tmux.enter("device_add driver=virtio-net-pci id=n1 bus=nosuch")
        tmux.wait_for("Bus 'nosuch' not found")
        qemu.aux.execute("stop")
        tmux.wait_for(" STOP")
        tmux.enter("/hmp info status")
        tmux.wait_for("VM status: paused")
        tmux.enter("query-status")
        tmux.wait_for(lambda screen: "\npaused\nqmp>\n" in "\n".join(x.rstrip() for x in screen.splitlines()))
        tmux.send("C-d")  # at the prompt, reading again
        tmux.wait_for("EXITED=0")
    finally:
        tmux.close()


def test_the_line_mode_sends_only_what_was_typed(qemu: Qemu, tmp_path: Path) -> None:
    cold, warm = tmp_path / "cold.log", tmp_path / "warm.log"
    line_mode_session(qemu, tmp_path, cold)
    assert_only_typed(cold, ["device_add", "query-status", "query-status"], schema=True)
    qemu.aux.execute("cont")
    line_mode_session(qemu, tmp_path, warm)  # the cached schema is neither fetched nor confirmed
    assert_only_typed(warm, ["device_add", "query-status", "query-status"], schema=False)


def test_several_targets_send_only_what_was_typed(
    start: Start, qemu: Qemu, qsd: Server, tmp_path: Path
) -> None:
    """Completion for a line naming a target (``@vm``) asks nothing either; each target gets its
    handshake and its own schema, nothing more."""
    log = tmp_path / "qmp.log"
    tmux = start(f"vm={qemu.socket}", f"disk={qsd.socket}", QUIET, "-l", str(log))
    tmux.wait_for("vm qmp>")
    tmux.type("@disk query-named-block-nodes ")
    tmux.wait_for("flat=bool")  # the toolbar: disk's schema is loaded
    settle(tmux, "vm qmp>")
    tmux.enter("/use disk")  # a line naming another target than the current one
    tmux.wait_for("disk qmp>")
    tmux.type("@vm qom-list path=/machine/un")
    tmux.send("Tab")  # from vm's schema only: no qom-list asked
    settle(tmux, "disk qmp>", "@vm ")
    tmux.enter("@disk query-named-block-nodes flat=true")
    tmux.enter("/targets")
    tmux.wait_for("storage daemon")
    tmux.enter("@vm query-name")
    tmux.wait_for("this machine has no name")
    tmux.send("C-d")
    tmux.wait_for("EXITED=0")
    for target, typed in ((qemu.socket, ["query-name"]), (qsd.socket, ["query-named-block-nodes"])):
        records = [r for r in log_records(log) if r["direction"] == "sent" and r.get("target") == target]
        messages = [(r.get("source", ""), r["message"]["execute"]) for r in records]
        assert [m for m in messages if m[0]] == [HANDSHAKE, SCHEMA], messages
        assert [command for source, command in messages if not source] == typed, messages


def test_completing_a_line_for_another_target_asks_nothing(qemu: Qemu, qsd: Server, tmp_path: Path) -> None:
    """The completion source of each target (``@vm LINE`` while ``disk`` is current) has no live
    values with ``--quiet-monitor``: Tab on a QOM path, which would ask ``qom-list``, asks nothing."""
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from qmpshell.protocol.logfile import MessageLog
    from qmpshell.repl.completion import Completions
    from qmpshell.repl.fleet import Fleet
    from qmpshell.repl.hmpcomplete import HmpNames

    log = tmp_path / "qmp.log"
    targets = [("vm", parse_address(qemu.socket)), ("disk", parse_address(qsd.socket))]
    fleet = Fleet.open(targets, Settings(probe=False), log=MessageLog.open(str(log)), on_event=print)
    try:
        fleet.use("disk")
        fleet.load_knowledge()
        completions = Completions(is_hmp=lambda: False)
        completions.refresh_link(fleet, HmpNames({}, {}), on_ready=lambda: None)
        assert all(source.live is None for source in completions.targets.values())
        tab = CompleteEvent(completion_requested=True)
        found = completions.completer().get_completions(Document("@vm qom-list path=/machine/un"), tab)
        assert list(found) == []  # the schema has no QOM paths
        assert [command for _, command in sent(log)] == ["qmp_capabilities"] * 2 + ["query-qmp-schema"] * 2
    finally:
        fleet.close()


# -- batch mode ------------------------------------------------------------------------------------

SCRIPT = [
    "object-add qom-type=memory-backend-ram id=m1 size=1048576",  # typing would ask its properties
    "qom-get path=/objects/m1 property=size",
    "/hmp info status",
    "object-del id=m1",
]
SCRIPT_SENT = ["object-add", "qom-get", "query-status", "object-del"]  # info status: query-status


@pytest.mark.parametrize("form", ["-c", "-f", "stdin"])
def test_a_script_sends_only_its_lines(qemu: Qemu, tmp_path: Path, private_xdg: Path, form: str) -> None:
    for run, schema in (("cold", True), ("warm", False)):
        log = tmp_path / f"{run}.log"
        args, stdin = [QUIET, "-l", str(log), qemu.socket], ""
        if form == "-c":
            args += [item for line in SCRIPT for item in ("-c", line)]
        elif form == "-f":
            script = tmp_path / "script.qmp"
            script.write_text("\n".join(SCRIPT) + "\n")
            args += ["-f", str(script)]
        else:
            stdin = "\n".join(SCRIPT) + "\n"
        result = run_qmpshell(*args, input=stdin)
        assert result.returncode == 0, result.stderr
        assert "VM status: running" in result.stdout
        assert_only_typed(log, SCRIPT_SENT, schema=schema)


def test_hmp_mode_on_the_storage_daemon_asks_nothing(qsd: Server, tmp_path: Path) -> None:
    """HMP over QMP needs the server's command list: with nothing asked, the schema gives it."""
    log = tmp_path / "qmp.log"
    result = run_qmpshell(
        QUIET, "-l", str(log), "--hmp", qsd.socket, "-c", "info block", "-c", "info version"
    )
    assert result.returncode == 0, result.stderr
    assert "(no block devices)" in result.stdout
    assert_only_typed(log, ["query-block", "query-named-block-nodes", "query-version"], schema=True)
    refused = run_qmpshell(QUIET, qsd.socket, "-c", "/hmp system_reset")  # the emulator's: refused
    assert refused.returncode != 0 and "system_reset" in refused.stderr


# -- one build's emulator and storage daemon, one cache ------------------------------------------


def emulator_lines(server: Server, log: Path) -> None:
    """A command only the emulator has, with arguments (so the schema is read): accepted."""
    line = "human-monitor-command command-line='info version'"
    result = run_qmpshell(QUIET, "-l", str(log), server.socket, "-c", line)
    assert result.returncode == 0, result.stderr
    assert "unknown command" not in result.stderr


def daemon_lines(server: Server, log: Path) -> None:
    """The daemon's own command works; the emulator's is refused as the daemon's schema says."""
    result = run_qmpshell(QUIET, "-l", str(log), server.socket, "-c", "query-named-block-nodes flat=true")
    assert result.returncode == 0, result.stderr
    refused = run_qmpshell(QUIET, server.socket, "-c", "device_add driver=virtio-rng-pci")
    assert refused.returncode == 2
    assert refused.stderr.startswith("qmpshell: 1: unknown command 'device_add'")


@pytest.mark.parametrize("daemon_first", [True, False], ids=["daemon-first", "emulator-first"])
def test_one_builds_emulator_and_daemon_keep_their_own_schemas(
    qsd: Server, same_build: Server, private_xdg: Path, tmp_path: Path, daemon_first: bool
) -> None:
    order = [(daemon_lines, qsd), (emulator_lines, same_build)]
    for round_ in ("cold", "warm"):  # fetched, then both read from the cache
        for lines, server in order if daemon_first else order[::-1]:
            log = tmp_path / f"{round_}-{lines.__name__}.log"
            lines(server, log)
            assert not [m for m in sent(log) if m[1] == "query-commands"]
            assert (SCHEMA in sent(log)) == (round_ == "cold"), sent(log)
        assert len(cache_files(private_xdg)) == 2  # one per executable


def test_a_server_of_unknown_executable_is_never_served_from_the_cache(
    short_dir: Path, tmp_path: Path, private_xdg: Path
) -> None:
    """Over TCP the executable is unknown: with nothing asked, nothing tells the daemon from the
    emulator of its build, so its schema is fetched on each connection and never cached."""
    server, address = storage_daemon_on_tcp(short_dir)
    try:
        for run in ("first", "second"):
            log = tmp_path / f"{run}.log"
            result = run_qmpshell(QUIET, "-l", str(log), address, "-c", "/schema")
            assert result.returncode == 0, result.stderr
            lines = result.stdout.splitlines()
            assert lines[0] == "schema: from the server (query-qmp-schema)"
            assert lines[1].startswith("key: (none: --quiet-monitor and the server's executable is unknown")
            assert lines[2].startswith("server: qemu-storage-daemon ")  # its kind, read from its schema
            assert sent(log) == [HANDSHAKE, SCHEMA]
        assert cache_files(private_xdg) == []
        connection = Connection(parse_address(address), Settings(probe=False), log=None, on_event=print)
        try:
            assert connection.status().server == "QMP server"  # nothing asked yet
            connection.load_knowledge()
            assert isinstance(connection.shell.knowledge, SchemaKnowledge)
            assert connection.status().server == "qemu-storage-daemon"
            assert connection.run_state == ""  # the daemon has none: no '?'
        finally:
            connection.close()
    finally:
        server.stop()


def test_the_guest_agent_is_not_asked_for_guest_info(qga: Server, tmp_path: Path) -> None:
    """The agent's handshake (``guest-sync-delimited``) is its ``qmp_capabilities``; its command
    list (``guest-info``) is not asked: commands go out unchecked, as typed."""
    log = tmp_path / "qmp.log"
    result = run_qmpshell(QUIET, "-l", str(log), qga.socket, "-c", "guest-ping", "-c", "/schema")
    assert result.returncode == 0, result.stderr
    assert "--quiet-monitor: guest-info is not asked" in result.stdout
    assert [command for _, command in sent(log)] == ["guest-sync-delimited", "guest-ping"]


def test_a_libvirt_domain_is_asked_nothing_but_its_schema(
    libvirt_host: LibvirtHost, libvirt_domain: str, tmp_path: Path, private_xdg: Path
) -> None:
    """libvirt answers qmp_capabilities itself; the query-version that stands for the greeting is
    not sent either, so the version is unknown and the schema is fetched on each connection."""
    for run in ("first", "second"):
        log = tmp_path / f"{run}.log"
        line = "qom-get path=/machine property=type"  # arguments: the schema is read
        args = ("--libvirt-uri", libvirt_host.uri, QUIET, "-l", str(log), f"libvirt:{libvirt_domain}")
        result = run_qmpshell(*args, "-c", line, "-c", "/schema")
        assert result.returncode == 0, result.stderr
        assert sent(log) == [SCHEMA, ("", "qom-get")]
        assert "key: (none: --quiet-monitor and the server's executable is unknown" in result.stdout
    assert cache_files(private_xdg) == []
    address = parse_address(f"libvirt:{libvirt_domain}", libvirt_uri=libvirt_host.uri)
    connection = Connection(address, Settings(probe=False), log=None, on_event=lambda event: None)
    try:
        assert connection.status().server == "QEMU"  # libvirt runs the emulator: known, not asked
        assert connection.run_state == "?"  # until an event says (no query-status)
    finally:
        connection.close()
