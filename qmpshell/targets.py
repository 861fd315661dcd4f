"""One script against many targets: several addresses, globs of sockets, ``libvirt:*``.

``qmpshell -c query-status SOCK1 SOCK2 'libvirt:web*'`` runs the same script
against each target, ``--parallel N`` at a time, each with its own connection,
shell and schema.  Every line on stdout is tagged with its target
(``{"target": "libvirt:vm3", "return": ...}``); a target's lines keep their order,
while lines of different targets interleave as they come.  With ``--format
human`` each target's output is kept until it ends and printed as one block under
a ``== TARGET ==`` heading, in the order targets finish.  A target that cannot
be reached fails alone; the exit status is the worst of all, and one stderr line
says which targets failed.  The front-end that runs one target is passed in.
"""

from __future__ import annotations

import glob
import io
import os
import queue
import threading
from collections.abc import Callable

from qmpshell.errors import EXIT_FAILED, EXIT_OK, QmpShellError, UsageError
from qmpshell.output.safe import visible
from qmpshell.printer import OutputClosed, Printer
from qmpshell.protocol.address import LIBVIRT_PREFIX, Address, is_pattern, parse_address
from qmpshell.protocol.naming import derived_name, split_name, unique
from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

DEFAULT_PARALLEL = 4

RunOne = Callable[[Address, Printer], int]


class Target(NamedTuple):
    """One address to run against, or the reason a pattern gave none."""

    label: str
    address: Address | None = None
    problem: QmpShellError | None = None
    name: str = ""  # for ``@NAME`` (``qmpshell.protocol.naming``); the label when given as NAME=ADDR


def expand_targets(texts: list[str], *, libvirt_uri: str = "") -> list[Target]:
    """Each address as given, each pattern as what it matches now (in sorted order), duplicates once;
    each named as given (``NAME=ADDR``) or after its address."""
    targets: dict[str, Target] = {}
    for text in texts:
        given, address_text = split_name(text)
        for target in _expand(address_text, libvirt_uri):
            if given:
                target = target._replace(label=given, name=given)
            targets.setdefault(_identity(target), target)
    found = list(targets.values())
    names = unique([target.name or _derived(target) for target in found])
    return [target._replace(name=name) for target, name in zip(found, names, strict=True)]


def _derived(target: Target) -> str:
    return derived_name(target.address) if target.address is not None else target.label


def _identity(target: Target) -> str:
    """What makes two targets the same server: ``./x.sock``, ``x.sock``, ``//x.sock`` and a
    symbolic link to it are one socket (a QEMU monitor serves one client: a second
    connection to it would fail)."""
    address = target.address
    if address is not None and address.path:
        return "path:" + os.path.realpath(address.path)
    return "label:" + target.label


def _expand(text: str, libvirt_uri: str) -> list[Target]:
    if not is_pattern(text):
        address = parse_address(text, libvirt_uri=libvirt_uri)
        return [Target(str(address), address)]
    try:
        addresses = _matches(text, libvirt_uri)
    except QmpShellError as err:
        return [Target(text, problem=err)]
    return [Target(str(address), address) for address in addresses]


def _matches(pattern: str, libvirt_uri: str) -> list[Address]:
    if pattern.startswith(LIBVIRT_PREFIX):
        from qmpshell.protocol.libvirtlib import running_domains  # libvirt only for libvirt: patterns

        names = running_domains(libvirt_uri, pattern[len(LIBVIRT_PREFIX) :])
        if not names:
            raise UsageError(f"no running libvirt domain matches '{pattern}'")
        return [Address(domain=name, uri=libvirt_uri) for name in names]
    paths = sorted(glob.glob(pattern))
    if not paths:
        raise UsageError(f"no file matches '{pattern}'")
    return [parse_address(path) for path in paths]


class TargetPrinter(Printer):
    """A printer for one target with the shared printer's options, writing to ``out``."""

    def __init__(self, base: Printer, target: str, *, out: IO[str]) -> None:
        super().__init__(
            out,
            base.err,
            pretty=base.pretty,
            color=base.color,
            json_only=base.json_only,
            verbose=base.verbose,
            human=base.human,
            width=base.width,
            events=base.events,
        )
        self.base = base
        self.target = target


class TaggedPrinter(TargetPrinter):
    """What one target prints, tagged with its label and written through the shared printer."""

    def __init__(self, base: Printer, target: str) -> None:
        super().__init__(base, target, out=base.out)

    def json(self, value: Any, *, pretty: bool | None = None) -> None:
        if self.json_only:
            self.base.json({"target": self.target, "return": value})
        elif isinstance(value, dict):
            self.base.json({"target": self.target, **value})
        else:
            self.base.json({"target": self.target, "value": value})

    def write(self, text: str) -> None:
        """Text (HMP output, help, ``--version``) becomes a tagged JSON line too."""
        self.base.json({"target": self.target, "text": text})

    def text(self, text: str) -> None:
        """Text from a server: JSON escapes its controls (``\\u001b``) on a terminal too, kept whole."""
        self.write(text)

    def sent(self, message: dict[str, Any]) -> None:
        self.base.sent({"target": self.target, **message})

    def event(self, event: dict[str, Any]) -> None:
        try:
            self.base.json({"target": self.target, **event})
        except OutputClosed:
            pass

    def error(self, where: str, text: str) -> None:
        self.base.error(f"{visible(self.target, one_line=True)}: {where}", text)


class _Buffer(io.StringIO):
    """A block in the making, which says it is a terminal when the real stdout is one.

    So text from a server is made visible (``Printer.text``) as it would be on the terminal.
    """

    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


class BlockPrinter(TargetPrinter):
    """``--format human``: one target's output, kept whole and printed under a heading when it ends."""

    def __init__(self, base: Printer, target: str) -> None:
        super().__init__(base, target, out=_Buffer(_is_terminal(base.out)))

    def error(self, where: str, text: str) -> None:
        self.base.error(f"{visible(self.target, one_line=True)}: {where}", text)

    def print_block(self) -> None:
        assert isinstance(self.out, io.StringIO)
        heading = visible(self.target, one_line=True)  # a socket's file name may hold ESC or a newline (S3)
        self.base.write(f"== {heading} ==\n{self.out.getvalue()}".rstrip("\n"))


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (OSError, ValueError):
        return False


def run_targets(targets: list[Target], run_one: RunOne, printer: Printer, *, parallel: int) -> int:
    """Run every target, ``parallel`` at a time; the worst exit status, failures summed up on stderr.

    The workers are daemon threads: Ctrl-C ends the run without waiting for a
    target that hangs.
    """
    statuses: list[int] = [EXIT_OK] * len(targets)
    jobs: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(targets)):
        jobs.put(index)
    finished = threading.Semaphore(0)

    def work() -> None:
        while True:
            try:
                index = jobs.get_nowait()
            except queue.Empty:
                return
            statuses[index] = _run_target(targets[index], run_one, printer)
            finished.release()

    for number in range(min(parallel, len(targets))):
        threading.Thread(target=work, name=f"target-{number}", daemon=True).start()
    for _ in targets:
        finished.acquire()
    _summarise(targets, statuses, printer)
    return max(statuses, default=EXIT_OK)


def _run_target(target: Target, run_one: RunOne, printer: Printer) -> int:
    if not printer.human:
        return _run_printed(target, run_one, TaggedPrinter(printer, target.label))
    block = BlockPrinter(printer, target.label)
    try:
        return _run_printed(target, run_one, block)
    finally:
        try:
            block.print_block()
        except OutputClosed:
            pass


def _run_printed(target: Target, run_one: RunOne, tagged: Printer) -> int:
    if target.problem is not None or target.address is None:
        problem = target.problem or UsageError("no address")
        tagged.error("", str(problem))
        return problem.exit_status
    try:
        return run_one(target.address, tagged)
    except QmpShellError as err:
        tagged.error("", str(err))
        return err.exit_status
    except OutputClosed:
        return EXIT_OK
    except Exception as err:  # noqa: BLE001 - one target's bug must not stop the others
        tagged.error("", f"internal error: {type(err).__name__}: {err}")
        return EXIT_FAILED


def _summarise(targets: list[Target], statuses: list[int], printer: Printer) -> None:
    failed = [
        f"{visible(target.label, one_line=True)} (exit {status})"
        for target, status in zip(targets, statuses, strict=True)
        if status
    ]
    if failed:
        printer.error("", f"{len(failed)} of {len(targets)} targets failed: {', '.join(failed)}")
