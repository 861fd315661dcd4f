"""The manual holds together: every relative link in README.md, docs/ and tests/README.md leads to a
file that exists and, when it names an ``#anchor``, to a heading of that file (slugged as GitHub
does); every page of docs/ is linked from the README and from the index; every long option the
manual names is one ``qmpshell --help`` offers now (read at run time, so options added later are
checked against the real parser, not a list kept here); and the README stays a front door.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`[^`]*`")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LONG_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# Where one command of a shell line ends and the next begins.
COMMAND_BREAK = re.compile(r"\|\||&&|[|;]|\$\(")
QUICK_START = ("scripts/setup && .venv/bin/qmpshell --launch", ".venv/bin/python -m pytest")


def pages() -> list[Path]:
    """The manual: the README, every page of docs/, and the map of the tests."""
    return [README, *sorted(DOCS.glob("*.md")), ROOT / "tests" / "README.md"]


def prose_lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """Each line with its number and whether it sits inside a fenced code block."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        yield number, line, fenced


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text as shown, lower case, punctuation other than ``-``
    and ``_`` dropped, spaces turned into hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a page offers; a heading seen again gets ``-1``, ``-2``, ... as on GitHub."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line, fenced in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if fenced or not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> Iterator[tuple[int, str]]:
    """The targets of a page's inline links, outside code, with their line numbers."""
    for number, line, fenced in prose_lines(path.read_text(encoding="utf-8")):
        if not fenced:
            for match in LINK.finditer(CODE_SPAN.sub(lambda span: "`" * len(span.group()), line)):
                yield number, match.group(1)


def broken_links(path: Path) -> list[str]:
    """What is wrong with the relative links of one page, one message per broken link."""
    problems = []
    for number, target in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...: not ours to check
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(ROOT)}:{number}: {target}"
        if not linked.exists():
            problems.append(f"{where}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{where}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    return problems


def _another_program(command: str) -> bool:
    """Whether a shell command runs a program other than qmpshell (whose options are not ours)."""
    words = [word for word in command.split() if word != "$" and not re.match(r"\w+=", word)]
    if not words or words[0].startswith("-"):
        return False
    name = os.path.basename(words[0])
    if name == "qmpshell" or not re.fullmatch(r"[\w.+-]+", name):
        return False
    if "/" in words[0] and (ROOT / words[0]).is_file():  # one of the project's scripts/
        return True
    return shutil.which(name) is not None or (Path(sys.executable).parent / name).exists()


def _options_in_code(code: str) -> set[str]:
    return {
        option
        for command in COMMAND_BREAK.split(code)
        if not _another_program(command)
        for option in LONG_OPTION.findall(re.split(r"\s--(?:\s|$)", command)[0])  # after --: QEMU's
    }


def documented_options(path: Path) -> dict[str, int]:
    """The long options a page names, each with the first line naming it. Options in a shell command
    that runs another program (``ruff format --check``) are that program's and are left out."""
    found: dict[str, int] = {}
    for number, line, fenced in prose_lines(path.read_text(encoding="utf-8")):
        if fenced:
            options = _options_in_code(line)
        else:
            line = re.sub(r"\]\([^)\s]*\)", "]", line)  # a link's target is an address, not text
            spans = CODE_SPAN.findall(line)
            options = set(LONG_OPTION.findall(CODE_SPAN.sub(" ", line)))
            options |= {option for span in spans for option in _options_in_code(span.strip("`"))}
        for option in options:
            found.setdefault(option, number)
    return found


@pytest.fixture(scope="module")
def help_options() -> set[str]:
    """The long options ``qmpshell --help`` offers, read from the program itself."""
    result = subprocess.run(
        [sys.executable, "-m", "qmpshell", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return set(LONG_OPTION.findall(result.stdout))


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert list(links(page)) or page not in (README, DOCS / "README.md"), "an index without links"
    assert broken_links(page) == []


@pytest.mark.parametrize("index", [README, DOCS / "README.md"], ids=["README.md", "docs/README.md"])
def test_every_docs_page_is_linked_from_the_readme_and_the_index(index: Path) -> None:
    linked = {(index.parent / target.partition("#")[0]).resolve() for _, target in links(index)}
    pages_of_docs = [page for page in sorted(DOCS.glob("*.md")) if page != index]
    missing = [page.name for page in pages_of_docs if page.resolve() not in linked]
    assert missing == []


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_documented_long_option_exists(page: Path, help_options: set[str]) -> None:
    documented = documented_options(page)
    shells = {"--complete"}  # a shell command's own (/job --complete), not the program's
    unknown = {option: line for option, line in documented.items() if option not in help_options | shells}
    assert unknown == {}, f"{page.relative_to(ROOT)}: options not in qmpshell --help (option: line)"


def test_the_readme_is_a_front_door() -> None:
    """Under 250 lines, with the two quick-start lines as they are and the exit statuses linked to
    the failure-behaviour table."""
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 250
    for line in QUICK_START:
        assert f"\n{line}\n" in text, line
    assert "(docs/failures.md#failure-behaviour)" in text


def test_the_link_checker_finds_what_is_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above can fail: a missing file, a missing heading and an unknown option are each
    reported, and links or options inside code are not."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    other = "# Other page\n\n## `--dry-run`: nothing sent\n\n## Twice\n\n## Twice\n"
    (tmp_path / "other.md").write_text(other)
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n[a](other.md#--dry-run-nothing-sent) [b](other.md#twice-1) [c](#title)\n"
        "[d](missing.md) [e](other.md#nowhere) [f](https://example.org/x) `[g](not-a-link.md)`\n"
        "```sh\n[h](also-not.md)\nqmpshell --no-such-option\nruff format --check x\n```\n"
        "Use `--colour=always` or `pip install --user x` or `qmpshell -c x --pretty`.\n"
    )
    assert broken_links(page) == [
        "page.md:4: missing.md: no such file",
        "page.md:4: other.md#nowhere: no heading #nowhere in other.md",
    ]
    assert documented_options(page) == {"--no-such-option": 7, "--colour": 10, "--pretty": 10}


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("The server's schema: typed values, `/help`", "the-servers-schema-typed-values-help"),
        ("`qmpshell --help`", "qmpshell---help"),
        ("`libvirt:DOMAIN`", "libvirtdomain"),
        ("Replies for people: tables, trees and text", "replies-for-people-tables-trees-and-text"),
        ("A [linked](x.md) heading_with_underscores", "a-linked-heading_with_underscores"),
    ],
)
def test_slugs_are_githubs(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor
