"""The shell completions in ``completions/``, each sourced in its real shell.

bash: the function ``complete -p qmpshell`` names is called with COMP_WORDS and
COMP_CWORD set, as bash's readline does.  zsh: an interactive ``zsh -f`` on a
pseudo-terminal (``zpty``) runs compinit with our ``_qmpshell`` on $fpath, is
typed the line and Tab, and reports every match offered.  fish: ``complete -C``.
All three are checked against the options of ``build_parser()``, so a new
option that a completion file lacks fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from qmpshell.usage import build_parser

COMPLETIONS = Path(__file__).resolve().parent.parent / "completions"

# Types $2 and Tab into an interactive zsh whose $fpath starts with $1, and
# prints each match the completion functions offered (compadd is wrapped),
# with the path prefix that _files passes as -p.
ZSH_CAPTURE = r"""
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "stty -echo; PROMPT=''; fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a __hits __prefix
  builtin compadd -A __hits "$@"
  zparseopts -E p:=__prefix
  local __h; for __h in "${__hits[@]}"; do print -r -- "<""match>${__prefix[2]}$__h"; done
}'
zpty -w z 'complete-and-exit() { _main_complete; print -r -- "<""end>"; exit }'
zpty -w z 'zle -C complete-and-exit complete-word complete-and-exit; bindkey "^I" complete-and-exit'
zpty -w z "$2"$'\t'
local line
while zpty -r z line; do
  [[ $line == *'<end>'* ]] && exit 0
  [[ $line == *'<match>'* ]] && print -r -- "${line#*<match>}"
done
exit 4
"""

# Calls the function registered for qmpshell the way bash's readline does.
BASH_CAPTURE = r"""
source "$1"; shift
spec=$(complete -p qmpshell) || exit 3
function=$(sed -n 's/.* -F \([^ ]*\) .*/\1/p' <<<"$spec")
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$function" qmpshell "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"""


def _options() -> tuple[set[str], set[str]]:
    strings = {option for action in build_parser()._actions for option in action.option_strings}
    return {o for o in strings if o.startswith("--")}, {o for o in strings if not o.startswith("--")}


LONG, SHORT = _options()


def _bash_words(line: str) -> list[str]:
    """COMP_WORDS as bash splits the line (``=`` is one of COMP_WORDBREAKS)."""
    words: list[str] = []
    for word in line.split(" "):
        if "=" in word and word.startswith("--"):
            name, _, value = word.partition("=")
            words += [name, "="] + ([value] if value else [])
        else:
            words.append(word)
    return words


def _run(argv: list[str], cwd: Path) -> list[str]:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=30, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    return sorted({line.strip("\r\n\t ") for line in result.stdout.splitlines()} - {""})


def bash(line: str, cwd: Path) -> list[str]:
    script = ["bash", "--norc", "--noprofile", "-c", BASH_CAPTURE, "bash"]
    return _run([*script, str(COMPLETIONS / "qmpshell.bash"), *_bash_words(line)], cwd)


def zsh(line: str, cwd: Path) -> list[str]:
    capture = cwd.parent / "capture.zsh"
    capture.write_text(ZSH_CAPTURE)
    return _run(["zsh", "-f", str(capture), str(COMPLETIONS), line], cwd)


def fish(line: str, cwd: Path) -> list[str]:
    script = "source $argv[1]; complete -C $argv[2]"
    lines = _run(["fish", "--no-config", "-c", script, str(COMPLETIONS / "qmpshell.fish"), line], cwd)
    return sorted({candidate.split("\t")[0] for candidate in lines})


SHELLS: dict[str, Callable[[str, Path], list[str]]] = {"bash": bash, "zsh": zsh, "fish": fish}
shells = pytest.mark.parametrize("complete", SHELLS.values(), ids=SHELLS.keys())


def _bind(path: Path) -> None:
    """Leave a UNIX socket file at ``path``, as a QEMU monitor does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))


@pytest.fixture
def workdir(short_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current directory with sockets and plain files, a runtime dir with a socket, $QMP_SOCKET."""
    cwd = short_dir / "w"
    _bind(cwd / "qmp.sock")
    _bind(cwd / "vm" / "monitor.sock")
    (cwd / "script.qmp").write_text("query-status\n")
    (cwd / "notes.txt").write_text("")
    _bind(short_dir / "run" / "qemu-a" / "qmp.sock")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(short_dir / "run"))
    monkeypatch.setenv("QMP_SOCKET", "/elsewhere/env.sock")
    return cwd


def test_the_shells_are_installed() -> None:
    assert all(shutil.which(name) for name in SHELLS)


@shells
def test_every_long_option(complete: Callable[[str, Path], list[str]], workdir: Path) -> None:
    assert set(complete("qmpshell --", workdir)) == LONG


@shells
def test_every_short_option(complete: Callable[[str, Path], list[str]], workdir: Path) -> None:
    offered = set(complete("qmpshell -", workdir))
    assert SHORT <= offered
    assert offered <= SHORT | LONG


@shells
def test_an_option_prefix(complete: Callable[[str, Path], list[str]], workdir: Path) -> None:
    assert complete("qmpshell --co", workdir) == ["--color", "--command", "--connect-timeout"]


@shells
@pytest.mark.parametrize("option", ["-f", "--file", "-l", "--logfile", "--history"])
def test_files_after_path_options(
    complete: Callable[[str, Path], list[str]], workdir: Path, option: str
) -> None:
    offered = complete(f"qmpshell {option} ", workdir)
    assert {"script.qmp", "notes.txt"} <= set(offered)
    assert not any(candidate.startswith("-") for candidate in offered)
    assert complete(f"qmpshell -k {option} scr", workdir) == ["script.qmp"]


@shells
def test_color_values(complete: Callable[[str, Path], list[str]], workdir: Path) -> None:
    assert complete("qmpshell --color ", workdir) == ["always", "auto", "never"]
    assert [re.sub("^--color=", "", c) for c in complete("qmpshell --color=al", workdir)] == ["always"]


@shells
def test_sockets_for_the_address(complete: Callable[[str, Path], list[str]], workdir: Path) -> None:
    runtime_socket = str(workdir.parent / "run" / "qemu-a" / "qmp.sock")
    offered = complete("qmpshell ", workdir)
    assert {"qmp.sock", "vm/monitor.sock", runtime_socket, "/elsewhere/env.sock"} <= set(offered)
    assert "script.qmp" not in offered and "notes.txt" not in offered
    assert complete("qmpshell -p vm", workdir) == ["vm/monitor.sock"]


@shells
def test_sockets_under_a_typed_directory(complete: Callable[[str, Path], list[str]], workdir: Path) -> None:
    directory = workdir.parent / "run" / "qemu-a"
    assert complete(f"qmpshell {directory}/", workdir) == [f"{directory}/qmp.sock"]


@shells
def test_qemu_command_after_dashdash(complete: Callable[[str, Path], list[str]], workdir: Path) -> None:
    assert "qemu-system-x86_64" in complete("qmpshell --launch -- qemu-system-x86", workdir)
