"""The command line read from the options table agrees with argparse, built from the same table.

``options.read_plain`` reads a plain command line without building argparse's parser (issue 26:
a one-shot's start).  Whatever it reads must be what argparse reads; whatever it leaves (None)
argparse reads or refuses.  The command lines are made from the table itself, so a new option is
checked without a new test.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from qmpshell.options import GROUPS, Option, read_plain
from qmpshell.usage import build_parser, parse_with_argparse

OPTIONS = [option for _, group in GROUPS for option in group]


def argparse_reading(words: list[str]) -> dict[str, Any] | None:
    """What argparse makes of ``words``, or None when it refuses them (usage error)."""
    try:
        return vars(parse_with_argparse(words))
    except SystemExit:
        return None


def samples(option: Option) -> list[list[str]]:
    """Each spelling of ``option`` with good values, and with values argparse must judge."""
    if option.action == "store_true":
        return [[flag] for flag in option.flags] + [[f"{option.flags[-1]}=yes"]]
    good = list(option.choices or ()) or (["2", "0.5"] if option.convert else ["/tmp/x y", "-", ""])
    bad = ["0", "-1", "nan", "1e9"] if option.convert else ["-k", "--json"]
    if option.choices:
        bad.append("sometimes")
    words: list[list[str]] = []
    for flag, value in itertools.product(option.flags, good + bad):
        words.append([flag, value])
        if flag.startswith("--"):
            words.append([f"{flag}={value}"])
        else:
            words.append([f"{flag}{value}"])
    words.append([option.flags[0]])  # the value missing
    return words


ALL_SAMPLES = [words for option in OPTIONS for words in samples(option)]


@pytest.mark.parametrize("words", ALL_SAMPLES, ids=" ".join)
def test_each_option_is_read_as_argparse_reads_it(words: list[str]) -> None:
    for line in (words, ["/tmp/a.sock", *words], [*words, "/tmp/a.sock"], ["a", *words, "b"]):
        plain = read_plain(line)
        if plain is not None:
            assert vars(plain) == argparse_reading(line), line


def test_mixed_command_lines_are_read_as_argparse_reads_them() -> None:
    chooser = random.Random(26)
    pieces = [words for words in ALL_SAMPLES] + [["/tmp/q.sock"], ["src=/tmp/a"], ["--"], ["-kq"], ["--keep"]]
    read = 0
    for _ in range(600):
        line = [word for words in chooser.sample(pieces, chooser.randint(1, 5)) for word in words]
        plain = read_plain(line)
        if plain is not None:
            read += 1
            assert vars(plain) == argparse_reading(line), line
    assert read > 60  # many lines are plain ones, so the comparison above ran


@pytest.mark.parametrize(
    "line",
    [
        ["/tmp/q.sock", "-c", "query-status"],
        ["-c", "qom-get path=/machine property=type", "/tmp/q.sock"],
        ["-k", "/tmp/q.sock"],
        ["--pipeline", "-f", "-", "/tmp/q.sock"],
        ["--launch", "--line", "--no-history"],
        ["-p", "--format", "human", "--timeout=3", "a=/tmp/a", "b=/tmp/b", "--parallel", "8"],
        ["--ignore", "timestamp", "--ignore", "id", "--replay", "log.txt", "/tmp/q.sock"],
        [],
    ],
    ids=" ".join,
)
def test_usual_command_lines_need_no_argparse(line: list[str]) -> None:
    plain = read_plain(line)
    assert plain is not None
    assert vars(plain) == argparse_reading(line)


@pytest.mark.parametrize(
    "line",
    [
        ["--keep", "/tmp/q.sock"],
        ["-kv"],
        ["-cquery-status"],
        ["--help"],
        ["--parallel", "0"],
        ["--proxy", "a", "b"],
    ],
    ids=" ".join,
)
def test_what_is_not_plain_is_left_to_argparse(line: list[str]) -> None:
    assert read_plain(line) is None


def test_the_table_names_every_option_argparse_has() -> None:
    """The plain reading fills every attribute argparse does (a missing one would fail later)."""
    dests = {action.dest for action in build_parser()._actions if action.dest != "help"}
    assert dests == {option.dest for option in OPTIONS} | {"address"}
