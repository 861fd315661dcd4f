"""Which real programs a test starts, read from its code: the markers ``qemu``, ``tmux`` and ``libvirt``.

A marker written by hand is forgotten the day a test starts a QEMU it did not start before, and the
fast in-process run (``-m "not qemu and not tmux and not libvirt"``) quietly slows down or fails on a
machine without QEMU. So the markers are worked out (``markers_for``) from:

- the fixtures a test uses, all of them, transitively: ``qemu`` and ``q35`` start a QEMU,
  ``libvirt_host`` (behind ``libvirt_domain`` and ``spare_domain``) a libvirtd, whose domains are
  QEMUs too;
- the module: ``test_tmux_*`` modules drive tmux;
- the code of the test, of its fixtures, and of every helper of the ``tests`` package they call,
  followed name by name: naming ``Qemu``, ``start_q35`` or a QEMU program (``qemu-system-x86_64``,
  ``qemu-img``, ``qemu-storage-daemon``, ``qemu-ga``, ``--launch``) makes a ``qemu`` test; ``Tmux``,
  ``start_qmpshell``, ``tmux`` or ``script`` (the line mode's terminal) a ``tmux`` test;
  ``LibvirtHost``, ``virsh`` or ``libvirtd`` a ``libvirt`` (and ``qemu``) test.

The ``slow`` marker is the one written by hand (``SLOW``): the stress tests that feed megabytes or
a flood of events on purpose and take seconds each, a minute or more together on a busy machine.

``guarded_path`` then checks the answer on every run: a test without a marker finds, first on its
``$PATH``, programs of those names that fail and say which marker it lacks.
"""

from __future__ import annotations

import functools
import inspect
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import CodeType, FunctionType
from typing import Any

import pytest

QEMU_FIXTURES = frozenset({"qemu", "q35", "machine", "pair"})
LIBVIRT_FIXTURES = frozenset({"libvirt_host"})
TMUX_MODULE_PREFIX = "test_tmux_"

# What each marker's programs are called, as a test's code writes them.
PROGRAMS = {
    "qemu": frozenset(
        {
            "qemu-system-x86_64",
            "qemu-img",
            "qemu-storage-daemon",
            "qemu-ga",
            "--launch",
            "--launch-pair",
            "docs-coverage",
        }
    ),
    "tmux": frozenset({"tmux", "script"}),
    "libvirt": frozenset({"virsh", "libvirtd", "virtlogd"}),
}
# The helpers of the tests package that start them.
STARTERS = {
    "qemu": frozenset({"Qemu", "start_q35"}),
    "tmux": frozenset({"Tmux", "start_qmpshell"}),
    "libvirt": frozenset({"LibvirtHost"}),
}

# module::function of the stress tests; test_markers.py checks that each still exists.
SLOW = frozenset(
    {
        "test_hostile_input::test_huge_and_deep_lines_are_answered_in_bounded_time",
        "test_hostile_input::test_completion_of_huge_and_deep_lines_is_bounded",
        "test_hostile_input::test_parse_time_is_linear",
        "test_hostile_input::test_assembler_is_linear_on_long_transactions",
        "test_faults_server::test_a_100_mb_reply_arrives_whole",
        "test_faults_flood::test_100000_events_while_commands_run",
    }
)


def markers_for(item: pytest.Item) -> set[str]:
    """The markers ``item`` deserves, from its fixtures, its module and the code it runs."""
    if not isinstance(item, pytest.Function):
        return set()
    fixtures = set(item.fixturenames)
    markers = set()
    if fixtures & QEMU_FIXTURES:
        markers.add("qemu")
    if fixtures & LIBVIRT_FIXTURES:
        markers.add("libvirt")
    if _module_name(item).startswith(TMUX_MODULE_PREFIX):
        markers.add("tmux")
    for function in _functions_of(item):
        markers |= _starts(function)
    if "libvirt" in markers:
        markers.add("qemu")
    if f"{_module_name(item)}::{item.originalname}" in SLOW:
        markers.add("slow")
    return markers


def _module_name(item: pytest.Function) -> str:
    return item.module.__name__.rpartition(".")[2] if item.module is not None else ""


def _functions_of(item: pytest.Function) -> Iterator[Any]:
    """The test function and the functions of the fixtures it uses that the tests package defines."""
    yield item.function
    for definitions in item._fixtureinfo.name2fixturedefs.values():
        for definition in definitions:
            if _is_helper(definition.func):
                yield definition.func


_FOLLOWING: set[int] = set()


@functools.cache
def _starts(function: Any) -> frozenset[str]:
    """The markers for what ``function`` starts, itself or through the helpers it names (each
    helper read once; a helper already being read, in a cycle, adds nothing more)."""
    if id(function) in _FOLLOWING:
        return frozenset()
    _FOLLOWING.add(id(function))
    try:
        found: set[str] = set()
        for name, value in _names_and_constants(function):
            found |= {marker for marker, names in STARTERS.items() if name in names}
            found |= {marker for marker, names in PROGRAMS.items() if names & set(_strings(value))}
            if _is_helper(value):
                found |= _starts(value)
        return frozenset(found)
    finally:
        _FOLLOWING.discard(id(function))


def _names_and_constants(helper: Any) -> Iterator[tuple[str, Any]]:
    """The global names a helper's code uses (with what they are bound to) and its constants."""
    for function in _functions_in(helper):
        namespace = function.__globals__
        for code in _codes(function.__code__):
            for name in code.co_names:
                yield name, namespace.get(name)
            for constant in code.co_consts:
                if not isinstance(constant, CodeType):
                    yield "", constant


def _functions_in(helper: Any) -> list[FunctionType]:
    if isinstance(helper, FunctionType):
        return [helper]
    if inspect.isclass(helper):
        members = (inspect.unwrap(value) for value in vars(helper).values())
        return [value for value in members if isinstance(value, FunctionType)]
    return []


def _codes(code: CodeType) -> Iterator[CodeType]:
    """A code object and those nested in it (lambdas, comprehensions, inner functions)."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _codes(constant)


def _strings(value: Any) -> Iterator[str]:
    """The strings of a constant: itself, or those of a tuple, list or frozenset of them; a path's
    last part counts (``/usr/bin/qemu-system-x86_64``)."""
    if isinstance(value, str):
        yield value
        yield value.rpartition("/")[2]
    elif isinstance(value, (tuple, list, frozenset)):
        for element in value:
            yield from _strings(element)


def _is_helper(value: Any) -> bool:
    """A function or class of the tests package (but this module): code worth following."""
    module = str(getattr(value, "__module__", ""))
    return (
        (isinstance(value, FunctionType) or inspect.isclass(value))
        and module.startswith("tests")
        and module != __name__
    )


def make_guards(directory: Path) -> dict[str, Path]:
    """One directory per marker, holding a failing program for each of that marker's program names."""
    guards = {}
    for marker, names in PROGRAMS.items():
        guard = directory / marker
        guard.mkdir(parents=True)
        for name in names - {"--launch", "--launch-pair"}:
            program = guard / name
            program.write_text(
                "#!/bin/sh\n"
                f'echo "{name}: started by a test that is not marked {marker}: '
                'see tests/markers.py ($PYTEST_CURRENT_TEST)" >&2\n'
                "exit 97\n"
            )
            program.chmod(stat.S_IRWXU)
        guards[marker] = guard
    return guards


def guarded_path(path: str, guards: dict[str, Path], markers: Iterable[str]) -> str:
    """``path`` with the guards of the markers a test lacks in front."""
    missing = [str(guard) for marker, guard in sorted(guards.items()) if marker not in set(markers)]
    return os.pathsep.join([*missing, path])
