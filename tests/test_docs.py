"""QEMU's own documentation in the shell (issue 20), against real servers and their installed pages.

The expected texts are never written here (QEMU's prose stays QEMU's): each is
looked up in the page itself as ``groff`` renders it, an independent reader,
so a test fails when ``/help`` shows text that is not the manual's.  The
``qapi/`` fixture tree in ``tests/data/qapi-tree`` is the suite's own words in
QEMU's doc-comment format (both example syntaxes).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.qemu_support import ROOT, Qemu, log_records, qemu_version, run_qmpshell

FIXTURE_TREE = ROOT / "tests" / "data" / "qapi-tree"
SYSTEM_PAGE = Path("/usr/share/man/man7/qemu-qmp-ref.7.gz")
BACKPORTS_PAGE = ROOT / ".venv" / "qemu-backports" / "usr" / "share" / "man" / "man7" / "qemu-qmp-ref.7.gz"


@pytest.fixture(scope="module")
def server(machine: Qemu) -> Qemu:
    """One QEMU for the module (conftest's ``machine``): /help and /example only read from it."""
    return machine


def own_page() -> Path:
    """The page installed with the QEMU under test (7.2: the system's; 10.x: the backports prefix's)."""
    return SYSTEM_PAGE if qemu_version() < (8, 0, 0) else BACKPORTS_PAGE.resolve()


def other_page() -> Path:
    return BACKPORTS_PAGE.resolve() if qemu_version() < (8, 0, 0) else SYSTEM_PAGE


def rendered(page: Path) -> str:
    """The page as groff renders it, with whitespace and hyphenation folded away."""
    source = gzip.decompress(page.read_bytes()).decode()
    result = subprocess.run(
        ["groff", "-man", "-Tutf8", "-rLL=1000n", "-rHY=0"], input=source, capture_output=True, text=True
    )
    text = re.sub(r".\x08", "", result.stdout)
    return squeeze(text.replace("\u2010", "-").replace("\u2019", "'").replace("\u2018", "'"))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u201c", '"').replace("\u201d", '"')).strip()


def help_of(qemu: Qemu, line: str, *options: str) -> str:
    result = run_qmpshell(*options, "-c", line, qemu.socket, env={**os.environ, "COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def text_under(help_text: str, heading: str) -> str:
    """The documentation lines right under a member's heading line (``  size  int``), joined."""
    lines = help_text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(rf"\s*{re.escape(heading)}\s.*", line))
    indent = len(lines[start + 1]) - len(lines[start + 1].lstrip())
    body = []
    for line in lines[start + 1 :]:
        if len(line) - len(line.lstrip()) != indent or not line.strip():
            break
        body.append(line.strip())
    return " ".join(body)


def test_help_shows_each_argument_with_the_manuals_text(server: Qemu) -> None:
    text = help_of(server, "/help block_resize")
    assert f"from QEMU's documentation ({own_page()})" in text
    page = rendered(own_page())
    for argument in ("device", "node-name", "size"):
        documented = text_under(text, argument)
        assert documented and squeeze(documented) in page, argument
    assert re.search(r"^  node-name  str, optional, since 2\.0$", text, re.M)  # from the member's text
    assert not text.startswith("note:")  # the page is this QEMU's


def test_a_union_branch_and_nested_members_are_documented(server: Qemu) -> None:
    text = help_of(server, "/help blockdev-add driver=qcow2 file.driver=file")
    page = rendered(own_page())
    for heading in ("lazy-refcounts", "file.filename", "node-name"):
        documented = text_under(text, heading)
        assert documented and squeeze(documented) in page, heading
    assert "file.driver" in text and "more members for each driver" not in text


def test_the_examples_are_lines_that_dry_run_turns_back_into_the_manuals_json(server: Qemu) -> None:
    text = help_of(server, "/help block_resize")
    line = re.search(r"^  1\. (block_resize .*)$", text, re.M)
    assert line is not None, text
    result = run_qmpshell("--dry-run", "-c", line.group(1), server.socket)
    sent = json.loads(result.stdout)
    page = rendered(own_page())
    start = page.index('-> { "execute": "block_resize"') + 3
    documented, _ = json.JSONDecoder().raw_decode(page[start:])
    assert sent == documented


def test_slash_example_in_batch_prints_the_line_and_sends_nothing(server: Qemu, tmp_path: Path) -> None:
    log = tmp_path / "log"
    result = run_qmpshell("-l", str(log), "-c", "/example block_resize", server.socket)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("block_resize ")
    sent = [r["message"].get("execute") for r in log_records(log) if r.get("direction") == "sent"]
    assert sent and "block_resize" not in sent  # printed only: nothing was sent
    result = run_qmpshell("-c", "/example block_resize 9", server.socket)
    assert result.returncode == 2
    assert "/example: block_resize has 1 example(s) in the documentation, not 9" in result.stderr


def test_device_properties_are_a_sorted_table_of_what_qemu_says(server: Qemu) -> None:
    text = help_of(server, "/help device_add driver=virtio-net-pci")
    properties = server.aux.execute("device-list-properties", typename="virtio-net-pci")
    table = text[text.index("virtio-net-pci properties:") :].splitlines()[2:]
    names = [row.split()[0] for row in table if row.startswith("  ") and not row.startswith("      ")]
    assert names == sorted(p["name"] for p in properties)
    assert "not a union discriminator" not in text


def test_object_properties_come_from_qom_list_properties(server: Qemu) -> None:
    text = help_of(server, "/help object-add qom-type=memory-backend-ram")
    properties = server.aux.execute("qom-list-properties", typename="memory-backend-ram")
    assert "memory-backend-ram properties:" in text
    for prop in properties:
        assert re.search(rf"^  {re.escape(prop['name'])}\s", text, re.M), prop["name"]


def test_a_source_tree_given_with_qapi_dir_takes_precedence(server: Qemu) -> None:
    for directory in (FIXTURE_TREE, FIXTURE_TREE / "qapi"):
        text = help_of(server, "/help block_resize", "--qapi-dir", str(directory))
        assert "Fixture text: change how big a disk image is" in text
        assert "the wanted size in bytes, per the fixture" in text_under(text, "size")
        major, minor, micro = qemu_version()
        assert text.splitlines()[0].startswith(
            f"note: this documentation is QEMU 9.0.50's ({FIXTURE_TREE / 'qapi'}), "
            f"the server is QEMU {major}.{minor}.{micro}"
        )


def test_both_example_syntaxes_of_a_source_tree_become_lines(server: Qemu) -> None:
    tree = ("--qapi-dir", str(FIXTURE_TREE))
    old = help_of(server, "/example block_resize", *tree)
    assert old.strip() == "block_resize device=fixture-disk size=4096"
    new = help_of(server, "/example block-dirty-bitmap-remove 2", *tree)
    assert new.strip() == "block-dirty-bitmap-remove node=n2 name=b2"
    text = help_of(server, "/help block-dirty-bitmap-remove", *tree)
    assert "the fixture's node member" in text_under(text, "node")  # through `data`: the struct's docs
    assert "node and name say which" in text  # @name and `name` references read as the name


def test_the_config_key_names_the_tree(server: Qemu, private_xdg: Path) -> None:
    config = private_xdg / "xdg_config_home" / "qmpshell" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[docs]\nqapi_dir = "{FIXTURE_TREE}"\n')
    assert "Fixture text: say the guest's name." in help_of(server, "/help query-name")


def test_parsed_docs_are_cached_as_private_files(server: Qemu, private_xdg: Path) -> None:
    help_of(server, "/help block_resize")
    cache = private_xdg / "xdg_cache_home" / "qmpshell-docs"
    files = list(cache.glob("docs-*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    files[0].write_text("{not json")
    result = run_qmpshell("-c", "/help block_resize", server.socket)
    assert result.returncode == 0
    assert "documentation cache" in result.stderr and "reading the source again" in result.stderr
    assert f"from QEMU's documentation ({own_page()})" in result.stdout
    assert json.loads(files[0].read_text())["manual"]["definitions"]  # written again, whole


def copied_qemu(prefix: Path) -> str:
    """The QEMU under test copied to PREFIX/bin: a binary whose prefix holds no manual of its own."""
    binary = Path(shutil.which("qemu-system-x86_64") or "").resolve()
    if binary.read_bytes()[:2] == b"#!":  # the backports wrapper: the real binary is in its usr/bin
        binary = binary.parent.parent / "usr" / "bin" / "qemu-system-x86_64"
    (prefix / "bin").mkdir(parents=True)
    shutil.copy(binary, prefix / "bin" / "qemu-system-x86_64")
    modules = [d for d in binary.parent.parent.glob("lib/*/qemu") if list(d.glob("*.so"))]
    (prefix / "modules").write_text(str(modules[0]))
    return str(prefix / "bin" / "qemu-system-x86_64")


def start_copy(binary: str, directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    sock = str(directory / "m.sock")
    modules = (Path(binary).parent.parent / "modules").read_text()
    process = subprocess.Popen(
        [binary, "-M", "none", "-nodefaults", "-display", "none", "-qmp", f"unix:{sock},server=on,wait=off"],
        stdin=subprocess.DEVNULL,
        env={**os.environ, "QEMU_MODULE_DIR": modules},
    )
    from tests.qemu_support import listening, wait_until

    wait_until(lambda: listening(sock), what="the copied QEMU's socket")
    return process, sock


def test_a_manual_of_another_version_is_named_in_one_line(short_dir: Path) -> None:
    binary = copied_qemu(short_dir / "prefix")
    man7 = short_dir / "prefix" / "share" / "man" / "man7"
    man7.mkdir(parents=True)
    shutil.copy(other_page(), man7 / "qemu-qmp-ref.7.gz")
    process, sock = start_copy(binary, short_dir)
    try:
        text = help_of_socket(sock, "/help block_resize")
    finally:
        process.kill()
        process.wait()
    first = text.splitlines()[0]
    assert first.startswith("note: this documentation is QEMU ") and "the server is QEMU" in first
    versions = re.findall(r"QEMU (\d+\.\d+)", first)
    assert len(versions) == 2 and versions[0] != versions[1]


def help_of_socket(sock: str, line: str) -> str:
    result = run_qmpshell("-c", line, sock)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_without_any_manual_help_is_as_before_plus_one_line(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A QEMU outside /usr with no manual beside it, on a machine without the system's page either."""
    from qmpshell.docs import locate
    from qmpshell.errors import UsageError
    from qmpshell.language.parse import parse_statement
    from qmpshell.outcomes import Info
    from qmpshell.protocol.address import parse_address
    from qmpshell.protocol.client import Client
    from qmpshell.protocol.events import EventLog
    from qmpshell.schema.knowledge import knowledge_for
    from qmpshell.shell import Shell

    monkeypatch.setattr(locate, "SYSTEM_MAN", str(short_dir / "no-man"))
    process, sock = start_copy(copied_qemu(short_dir / "prefix"), short_dir)
    client = Client(parse_address(sock))
    try:
        client.connect()
        shell = Shell(client, EventLog(), knowledge=knowledge_for(client, use_cache=False))
        request = parse_statement("/help block_resize")
        assert request is not None
        outcome = shell.run(request)
        assert isinstance(outcome, Info)
        tree = shell.knowledge.help("block_resize", {}, shell.help_width)  # type: ignore[union-attr]
        assert outcome.text.splitlines()[: len(tree.splitlines())] == tree.splitlines()
        extra = outcome.text.splitlines()[len(tree.splitlines()) :]
        assert " ".join(extra).startswith("(QEMU's own documentation is not on this machine")
        assert "--qapi-dir" in " ".join(extra) and len(" ".join(extra)) < 200
        example = parse_statement("/example block_resize")
        assert example is not None
        with pytest.raises(UsageError, match="not on this machine"):
            shell.run(example)
    finally:
        client.close()
        process.kill()
        process.wait()


def test_the_storage_daemon_gets_its_own_page(short_dir: Path) -> None:
    sock = str(short_dir / "qsd.sock")
    daemon = subprocess.Popen(
        [
            "qemu-storage-daemon",
            "--chardev",
            f"socket,path={sock},server=on,wait=off,id=m",
            "--monitor",
            "chardev=m",
        ],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from tests.qemu_support import listening, wait_until

    try:
        wait_until(lambda: listening(sock), what="the storage daemon's socket")
        text = help_of_socket(sock, "/help blockdev-add driver=raw")
    finally:
        daemon.kill()
        daemon.wait()
    page = Path("/usr/share/man/man7/qemu-storage-daemon-qmp-ref.7.gz")
    assert f"from QEMU's documentation ({page})" in text
    documented = text_under(text, "node-name")
    assert documented and squeeze(documented) in rendered(page)


def test_the_coverage_script_meets_the_goals() -> None:
    """Every command, event and top-level argument with manual text; every example a round trip."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "docs-coverage")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    counts = dict(re.findall(r"^(\w+) +(\d+/\d+)$", result.stdout, re.M))
    assert set(counts) == {"commands", "events", "arguments", "examples"}, result.stdout
    for what, ratio in counts.items():
        found, total = ratio.split("/")
        assert found == total and int(total) > 0, (what, result.stdout)


def test_the_guest_agent_has_no_schema_but_its_page_is_read(short_dir: Path) -> None:
    """qemu-ga answers no query-qmp-schema: /help shows its own page's text alone (qemu-guest-agent)."""
    sock = str(short_dir / "ga.sock")
    agent = subprocess.Popen(
        ["qemu-ga", "-m", "unix-listen", "-p", sock, "-t", str(short_dir)],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from tests.qemu_support import listening, wait_until

    try:
        wait_until(lambda: listening(sock), what="the guest agent's socket")
        result = run_qmpshell("-N", "-c", "/help guest-exec", sock)
    finally:
        agent.kill()
        agent.wait()
    assert result.returncode == 0, result.stderr
    page = Path("/usr/share/man/man7/qemu-ga-ref.7.gz")
    assert f"from QEMU's documentation ({page})" in result.stdout
    documented = text_under(result.stdout, "path")
    assert documented and squeeze(documented) in rendered(page)
    assert re.search(r"^  arg  array of string, optional$", result.stdout, re.M)


def test_a_link_planted_as_the_cache_is_not_followed(server: Qemu, private_xdg: Path) -> None:
    help_of(server, "/help block_resize")
    (cached,) = (private_xdg / "xdg_cache_home" / "qmpshell-docs").glob("docs-*.json")
    target = private_xdg / "elsewhere.json"
    target.write_text(cached.read_text())
    cached.unlink()
    cached.symlink_to(target)
    result = run_qmpshell("-c", "/help block_resize", server.socket)
    assert result.returncode == 0
    assert "documentation cache" in result.stderr  # said, set aside, read from the page again
    assert not cached.is_symlink() and f"from QEMU's documentation ({own_page()})" in result.stdout


def test_a_cache_directory_others_can_write_is_not_used(server: Qemu, private_xdg: Path) -> None:
    directory = private_xdg / "xdg_cache_home" / "qmpshell-docs"
    directory.mkdir(parents=True)
    directory.chmod(0o777)
    result = run_qmpshell("-c", "/help block_resize", server.socket)
    assert result.returncode == 0 and "writable by other users" in result.stderr
    assert list(directory.iterdir()) == []
    assert f"from QEMU's documentation ({own_page()})" in result.stdout


def test_a_source_trees_union_branches_and_numbered_examples(server: Qemu) -> None:
    tree = ("--qapi-dir", str(FIXTURE_TREE))
    text = help_of(server, "/help blockdev-add driver=qcow2", *tree)
    assert text_under(text, "lazy-refcounts") == "fixture text, refcounts updated lazily (default: false)"
    assert re.search(r"^  lazy-refcounts  bool, optional, default false$", text, re.M)
    assert text_under(text, "node-name") == "fixture text for the node name"  # the union's base
    first = help_of(server, "/example blockdev-add", *tree).strip()
    assert first == (
        'blockdev-add driver=qcow2 node-name=fixture0 file.driver=file file.filename="/fixture/a b.qcow2"'
    )
    assert help_of(server, "/example blockdev-add 2", *tree).strip() == (
        "blockdev-add driver=file node-name=f1 filename=/fixture/x"
    )


def test_a_qapi_dir_that_is_no_folder_is_one_clear_line(
    server: Qemu, private_xdg: Path, tmp_path: Path
) -> None:
    missing = str(tmp_path / "no-such-tree")
    result = run_qmpshell("--qapi-dir", missing, "-c", "/help block_resize", server.socket)
    assert (result.returncode, result.stderr) == (
        2,
        f"qmpshell: --qapi-dir {missing}: not a directory (a QEMU source tree or its qapi/)\n",
    )
    config = private_xdg / "xdg_config_home" / "qmpshell" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[docs]\nqapi_dir = "{missing}"\n')
    result = run_qmpshell("-c", "/help block_resize", server.socket)
    assert result.returncode == 0
    assert f"warning: cannot read QEMU's documentation {missing}: No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr and "block_resize" in result.stdout
