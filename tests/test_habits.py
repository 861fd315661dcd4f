"""The habits of the code base, kept by tests so that they cannot rot.

Batch mode never loads prompt_toolkit, nor libvirt on a socket (checked in a real run against QEMU);
ruff, ruff format, mypy --strict and the import contracts run clean; the man page in the package is
the one ``qmpshell.manpage`` generates now, and groff reads it without a warning;
every module says what it is for; the changelog has an Unreleased section.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from qmpshell.manpage import escape, render
from qmpshell.usage import build_parser
from tests.qemu_support import Qemu

ROOT = Path(__file__).resolve().parent.parent

# Runs the command line given in argv and reports which heavy modules it loaded.
PROBE = """
import json, sys
from qmpshell.cli import main
status = main(sys.argv[2:])
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"prompt_toolkit", "pygments", "libvirt"})
with open(sys.argv[1], "w") as report:
    json.dump({"status": status, "loaded": heavy, "modules": sorted(sys.modules)}, report)
"""


def probe(tmp_path: Path, *args: str, stdin: str = "") -> dict[str, object]:
    report = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(report.read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("how", ["command", "file", "stdin", "hmp"])
def test_batch_mode_does_not_load_prompt_toolkit(qemu: Qemu, tmp_path: Path, how: str) -> None:
    script = tmp_path / "script.qmp"
    script.write_text("query-status\nquery-name\n")
    argv = {
        "command": ["-c", "query-status"],
        "file": ["-f", str(script)],
        "stdin": [],
        "hmp": ["-H", "-c", "info status"],
    }[how]
    report = probe(tmp_path, *argv, qemu.socket, stdin="query-status\n")
    assert (report["status"], report["loaded"]) == (0, [])  # pygments too: no colour was asked for


def test_colour_loads_pygments_but_still_not_prompt_toolkit(qemu: Qemu, tmp_path: Path) -> None:
    report = probe(tmp_path, "--color=always", "-c", "query-status", qemu.socket)
    assert (report["status"], report["loaded"]) == (0, ["pygments"])


# What a one-shot without arguments must not pay for (each costs 1-7 ms of a 35 ms start):
# the schema and its cache (hashlib), dataclasses (and inspect), the config file reader,
# shutil (argparse's default help formatter), the log file, datetime and textwrap (/help).
NOT_FOR_A_ONE_SHOT = {
    "qmpshell.waiting",  # /wait and /job: only a line that uses them loads them
    "qmpshell.waits",
    "qmpshell.jobs",
    "qmpshell.commands",  # the /commands table: loaded by the first /line
    "dataclasses",
    "inspect",
    "hashlib",
    "shutil",
    "datetime",
    "textwrap",
    "qmpshell.configfile",
    "qmpshell.protocol.logfile",
    "qmpshell.schema.index",
    "qmpshell.schema.cache",
    "qmpshell.schema.values",
    "qmpshell.schema.help",
    # QEMU's documentation, the HMP tables, record/replay and the proxy: NOT_FOR_A_ONE_SHOT_PACKAGES
    "qmpshell.language.script",  # /save script and --to-script
    "qmpshell.language.redact",  # -v and error lines
    # a bare command name is read without the tokenizer and the grammar (language.parse)
    "qmpshell.language.grammar",
    "qmpshell.language.syntax",
    "qmpshell.language.untyped",
    "qmpshell.language.hmp",
    # several targets (issue 26): only several addresses, a glob or an @NAME line load them
    "qmpshell.targets",
    "qmpshell.batchorder",
    "qmpshell.protocol.libvirt",
    "glob",
    # server-kind detection, completion's live values, the schema's digest (issue 26)
    "qmpshell.protocol.server",
    "qmpshell.schema.knowledge",  # a line without arguments needs no schema (schema.deferred)
    "qmpshell.schema.live",
    "qmpshell.schema.suggest",
    "qmpshell.schema.suggestions",
    "zlib",
    "difflib",
    "tempfile",
    "queue",
    "ast",  # dataclasses' inspect
    "typing",  # qmpshell.records: NamedTuple and Protocol without it
    "argparse",  # a plain command line is read from the options table (qmpshell.options)
    "gettext",
    "locale",
    "tokenize",
}
# Whole packages a one-shot never touches: the HMP tables and translation, QEMU's documentation,
# the proxy, record and replay, the interactive front-ends (several targets included: repl.fleet).
NOT_FOR_A_ONE_SHOT_PACKAGES = (
    "qmpshell.hmp",
    "qmpshell.docs",
    "qmpshell.proxy",
    "qmpshell.replay",
    "qmpshell.repl",
)


def test_a_one_shot_imports_only_what_it_needs(qemu: Qemu, tmp_path: Path, private_xdg: Path) -> None:
    report = probe(tmp_path, "-c", "query-status", qemu.socket)
    assert report["status"] == 0
    modules = set(report["modules"])  # type: ignore[arg-type]
    assert NOT_FOR_A_ONE_SHOT & modules == set()
    assert {m for m in modules if m.startswith(NOT_FOR_A_ONE_SHOT_PACKAGES)} == set()


# Counts the compile() calls of a run (each forward reference typing makes is one; the first also
# builds every AST class, about 1 ms).
COMPILE_PROBE = """
import builtins, json, sys
calls = []
compile_ = builtins.compile
builtins.compile = lambda *args, **kwargs: calls.append(args[0]) or compile_(*args, **kwargs)
from qmpshell.cli import main
status = main(sys.argv[2:])
with open(sys.argv[1], "w") as report:
    json.dump({"status": status, "compiled": [str(source)[:80] for source in calls]}, report)
"""


def test_a_one_shot_compiles_no_code(qemu: Qemu, tmp_path: Path, private_xdg: Path) -> None:
    report = tmp_path / "compiled.json"
    result = subprocess.run(
        [sys.executable, "-c", COMPILE_PROBE, str(report), "-c", "query-status", qemu.socket],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(report.read_text()) == {"status": 0, "compiled": []}


def test_a_line_with_arguments_loads_only_the_schema_it_types_with(
    qemu: Qemu, tmp_path: Path, private_xdg: Path
) -> None:
    """The schema's index, cache and typing, not help's wrapping, completion, hashlib or dataclasses."""
    probe(tmp_path, "-c", "qom-get path=/machine property=type", qemu.socket)  # fills the cache
    report = probe(tmp_path, "-c", "qom-get path=/machine property=type", qemu.socket)
    assert report["status"] == 0
    modules = set(report["modules"])  # type: ignore[arg-type]
    assert "qmpshell.schema.values" in modules
    unwanted = {"dataclasses", "inspect", "hashlib", "difflib", "textwrap", "tempfile", "queue"}
    assert (
        unwanted | {"qmpshell.schema.live", "qmpshell.schema.suggest", "qmpshell.schema.help"}
    ) & modules == set()


def test_a_line_with_arguments_loads_the_schema(qemu: Qemu, tmp_path: Path, private_xdg: Path) -> None:
    report = probe(tmp_path, "-c", "qom-list path=/", qemu.socket)
    assert report["status"] == 0
    assert "qmpshell.schema.values" in report["modules"]  # type: ignore[operator]


def tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_check_is_clean() -> None:
    result = tool("ruff", "check", "--no-cache", "qmpshell", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = tool("ruff", "format", "--check", "--no-cache", "qmpshell", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = tool("mypy")  # files and strictness from pyproject.toml, as CI runs it
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_are_kept() -> None:
    """The layers of pyproject.toml's ``[tool.importlinter]`` hold: imports point down only."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_layout_map_names_every_package() -> None:
    """The layout map in docs/development.md matches the tree: every sub-package is listed, nothing
    that is gone."""
    page = (ROOT / "docs" / "development.md").read_text()
    section = page[page.index("## Layout") :].split("\n## ")[0]
    packages = {p.parent.name for p in (ROOT / "qmpshell").glob("*/__init__.py")}
    for package in packages:
        assert f"qmpshell/{package}/" in section, package
    for listed in {line.split()[0] for line in section.splitlines() if line.startswith("qmpshell/")}:
        assert (ROOT / listed).exists(), listed


def test_the_shipped_man_page_is_current() -> None:
    shipped = resources.files("qmpshell").joinpath("qmpshell.1").read_text(encoding="utf-8")
    assert shipped == render(), "run: python -m qmpshell.manpage"


def test_the_man_page_names_every_option() -> None:
    page = render()
    for action in build_parser()._actions:
        for option in action.option_strings:
            assert f"\\fB{escape(option)}\\fR" in page, option


def test_groff_reads_the_man_page_without_warnings() -> None:
    result = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z"], input=render(), capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stderr) == (0, "")


def _modules() -> list[Path]:
    return sorted((ROOT / "qmpshell").rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_module_says_what_it_is_for(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), "module docstring missing"
    defines = any(isinstance(node, (ast.FunctionDef, ast.ClassDef)) for node in tree.body)
    future = any(isinstance(node, ast.ImportFrom) and node.module == "__future__" for node in tree.body)
    assert future or not defines, "from __future__ import annotations missing"


def test_the_changelog_has_an_unreleased_section() -> None:
    lines = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()
    headings = [line for line in lines if line.startswith("## ")]
    assert headings and headings[0].startswith("## [Unreleased]")
    assert any(line.startswith("- ") for line in lines[lines.index(headings[0]) :])


def test_the_command_line_page_shows_the_current_help() -> None:
    """docs/command-line.md shows ``qmpshell --help`` at 100 columns, kept current."""
    page = (ROOT / "docs" / "command-line.md").read_text()
    env = {**os.environ, "COLUMNS": "100"}
    result = subprocess.run(
        [sys.executable, "-m", "qmpshell", "--help"], capture_output=True, text=True, env=env
    )
    assert result.stdout.rstrip() in page


# The interactive shell up to its first prompt, with the schema loaded for completion (as the
# full screen does right after connecting); then which documentation modules were imported.
FIRST_PROMPT = """
import sys, threading, time
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from qmpshell.config import Settings
from qmpshell.protocol.address import parse_address
from qmpshell.repl.app import Repl
from qmpshell.repl.connection import Connection
from qmpshell.repl.panes import EventFeed

settings = Settings(history_file=None)
feed = EventFeed.for_settings(settings)
connection = Connection(parse_address(sys.argv[1]), settings, log=None, on_event=feed.add)
with create_pipe_input() as keys:
    repl = Repl(connection, feed, settings, input=keys, output=DummyOutput())
    thread = threading.Thread(target=lambda: repl.run(main_thread=False), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while repl.shell.knowledge is None or not repl.app.is_running:
        assert time.monotonic() < deadline, "no prompt with a schema within 30 s"
        time.sleep(0.01)
    print(sorted(name for name in sys.modules if name.startswith("qmpshell.docs")))
    repl._loop.call_soon_threadsafe(repl.quit)
    thread.join(10)
connection.close()
"""


def test_the_first_prompt_imports_no_documentation_reader(qemu: Qemu) -> None:
    result = subprocess.run(
        [sys.executable, "-c", FIRST_PROMPT, qemu.socket], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "[]"  # (the transcript follows)


def _checking_only_names(tree: ast.Module) -> set[str]:
    """The names a module imports under ``if TYPE_CHECKING:`` (they do not exist at run time)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, (ast.Import, ast.ImportFrom)):
                    names |= {(alias.asname or alias.name).split(".")[0] for alias in statement.names}
    return names


def _run_time_names(tree: ast.Module) -> tuple[list[ast.Name], set[str]]:
    """Every name the module reads at run time (not in annotations, not under ``if TYPE_CHECKING:``),
    and the names it imports at run time (a function may import what the module imports for mypy)."""
    found: list[ast.Name] = []
    imported: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            found.append(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        for name, child in ast.iter_fields(node):
            if name in ("annotation", "returns"):
                continue  # postponed: never evaluated (from __future__ import annotations)
            children = child if isinstance(child, list) else [child]
            pending.extend(c for c in children if isinstance(c, ast.AST))
    return found, imported


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_names_imported_for_type_checking_are_not_used_at_run_time(path: Path) -> None:
    """``typing`` is not loaded by a one-shot (qmpshell.records), so ``cast(...)``, ``Any`` in a
    run-time alias and the like would fail with NameError, and only when that line runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    read, imported = _run_time_names(tree)
    checking = _checking_only_names(tree) - imported
    used = [f"line {n.lineno}: {n.id}" for n in read if n.id in checking]
    assert used == []


# Counts the collector's passes while the qmpshell command loads and runs --version (qmpshell.program).
GC_PROBE = """
import gc, json, os, sys
passes = []
gc.callbacks.append(lambda phase, info: passes.append(info["generation"]) if phase == "start" else None)
leave = os._exit
def report(status):
    print(json.dumps({"passes": passes, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
    sys.stdout.flush()
    leave(0)
os._exit = report
sys.argv = ["qmpshell", "--version"]
if os.environ.get("PROBE_PLAIN"):
    from qmpshell.cli import entry
    entry()
from qmpshell.program import main
main()
"""


@pytest.mark.parametrize("plain", [False, True], ids=["qmpshell.program", "cli imported as it is"])
def test_the_program_loads_without_garbage_collection_passes(plain: bool) -> None:
    """What loading makes lives to the end: the collector's passes over it were wasted work."""
    env = {**os.environ, "PROBE_PLAIN": "1" if plain else ""}
    result = subprocess.run(
        [sys.executable, "-c", GC_PROBE], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    if plain:  # the probe itself can tell: loading the plain way does run passes
        assert report["passes"] != [] and report["frozen"] == 0
    else:
        assert report == {"passes": [], "enabled": True, "frozen": report["frozen"]}
        assert report["frozen"] > 10_000
