"""A script whose lines name their targets (``@NAME LINE``): its lines run in order across targets.

Against several targets a script normally runs on each of them, in parallel.
A migration needs the opposite: ``@dst migrate-incoming ...`` must be done
before ``@src migrate ...``, and ``/wait @dst MIGRATION status=completed``
after it.  So once a script has a prefixed line, every target is connected
first (one that cannot be reached fails the run before any line runs), then the
statements run one after another, each on the target it names; a line without
a prefix runs on every target in turn.  As in any script, nothing runs unless
every statement parses (each against its own target's schema), and the first
failure stops the run unless ``-k``.  Output is tagged as in any many-target
run; with ``--format human`` a ``== NAME ==`` heading comes whenever the target
changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack

from qmpshell.batch import Runner, report
from qmpshell.errors import EXIT_OK, EXIT_USAGE, QmpShellError, UsageError
from qmpshell.language.prefix import ALL, split_target
from qmpshell.language.requests import QmpRequest, Request, ShellRequest
from qmpshell.language.statements import Assembler, Statement
from qmpshell.migration import Side, migrate, parse_migrate
from qmpshell.printer import OutputClosed, Printer
from qmpshell.records import NamedTuple
from qmpshell.shell import Shell
from qmpshell.targets import TaggedPrinter, Target, TargetPrinter

Open = Callable[[Target, Printer], AbstractContextManager[Shell]]  # connects one target, closes it after


class Step(NamedTuple):
    """One statement and the name of the target it goes to ('' for every target)."""

    statement: Statement
    target: str


class Member(NamedTuple):
    """One connected target of the run."""

    name: str
    shell: Shell
    printer: Printer
    runner: Runner


def steps_of(lines: Iterable[str], *, hmp: bool, one_per_line: bool) -> Iterator[Step]:
    """The script's statements, each with the target its first line names (the prefix split off)."""
    if one_per_line:
        for number, line in enumerate(lines, start=1):
            target, text = split_target(line)
            yield Step(Statement(number, text), target)
        return
    assembler, target = Assembler(hmp=hmp), ""
    for number, line in enumerate(lines, start=1):
        if not assembler.pending:
            target, line = split_target(line)
        statement = assembler.feed(line, number)
        if statement is not None:
            yield Step(statement, target)
    last = assembler.finish()
    if last is not None:
        yield Step(last, target)


class HeadedPrinter(TargetPrinter):
    """``--format human``: output written at once, under ``== NAME ==`` whenever the target changes."""

    def __init__(self, base: Printer, target: str, last: list[str]) -> None:
        super().__init__(base, target, out=base.out)
        self._last = last  # shared by the run's printers: the target that wrote last

    def write(self, text: str) -> None:
        if self._last[:1] != [self.target]:
            self._last[:] = [self.target]
            text = f"== {self.target} ==\n{text}"
        self.base.write(text)

    def error(self, where: str, text: str) -> None:
        self.base.error(f"{self.target}: {where}", text)


def run_in_order(
    targets: list[Target], steps: list[Step], open_target: Open, printer: Printer, *, keep_going: bool
) -> int:
    """Connect every target, then run the steps in order; the worst exit status."""
    last: list[str] = []
    with ExitStack() as stack:
        members: dict[str, Member] = {}
        for target in targets:
            tagged = (
                HeadedPrinter(printer, target.label, last)
                if printer.human
                else TaggedPrinter(printer, target.label)
            )
            if target.problem is not None or target.address is None:
                problem = target.problem or UsageError("no address")
                tagged.error("", str(problem))
                return problem.exit_status
            try:
                shell = stack.enter_context(open_target(target, tagged))
            except QmpShellError as err:
                tagged.error("", str(err))
                return err.exit_status
            members[target.name] = Member(
                target.name, shell, tagged, Runner(shell, tagged, keep_going=keep_going)
            )
        try:
            return _run_steps(members, steps, printer)
        except OutputClosed:
            return EXIT_OK
    return EXIT_OK


def _run_steps(members: dict[str, Member], steps: list[Step], printer: Printer) -> int:
    parsed = list(_parse_all(members, steps, printer))
    if any(request is None for _, _, request in parsed):
        return EXIT_USAGE
    for step, member, request in parsed:
        assert member is not None and request is not None
        if isinstance(request, Migration):
            _migrate(members, step, request)
            if member.runner.stopped:
                break
            continue
        if isinstance(request, QmpRequest) and request.command == "qom-set":  # typed by what ran before
            try:
                request = member.shell.parse(step.statement.text)
            except QmpShellError as err:
                member.runner.failed(step.statement, err)
                break
        if request is not None:
            member.runner.run(step.statement, request)
            member.runner.flush()  # done before the next step, which may go to another target
        if member.runner.stopped:
            break
    return max(member.runner.status for member in members.values())


class Migration(NamedTuple):
    """``/migrate SRC DST [URI]`` in a script (``qmpshell.migration``)."""

    src: str
    dst: str
    uri: str


def _migrate(members: dict[str, Member], step: Step, migration: Migration) -> None:
    """Run a migration; its summary on stdout (the source's output), a failure as any line's."""
    src, dst = members[migration.src], members[migration.dst]
    try:
        info = migrate(
            Side(src.name, src.shell),
            Side(dst.name, dst.shell),
            migration.uri,
            timeout=src.shell.timeout,
            progress=src.shell.progress,
        )
    except QmpShellError as err:
        src.runner.failed(step.statement, err)
        return
    src.printer.text(info.text)


def _migration(members: dict[str, Member], step: Step, printer: Printer) -> Migration | None:
    """A ``/migrate`` step, checked against the run's targets (None, said on stderr, if it is wrong)."""
    where = f"{step.statement.lineno}: "
    try:
        spec = parse_migrate(step.statement.text.strip())
    except QmpShellError as err:
        printer.error(where, str(err))
        return None
    assert spec is not None
    for name in spec[:2]:
        if name not in members:
            printer.error(where, f"/migrate: no target named '{name}' (the targets: {', '.join(members)})")
            return None
    return Migration(*spec)


def _parse_all(
    members: dict[str, Member], steps: list[Step], printer: Printer
) -> Iterator[tuple[Step, Member | None, Request | Migration | None]]:
    """Every step parsed on each target it goes to, following ``/hmp`` and ``/qmp`` per target."""
    modes = {name: member.shell.hmp for name, member in members.items()}
    try:
        for step in steps:
            if not step.target and step.statement.text.lstrip().startswith("/migrate"):
                migration = _migration(members, step, printer)
                yield step, members[migration.src] if migration else None, migration
                continue
            chosen = _members_for(members, step, printer)
            if chosen is None:
                yield step, None, None
                continue
            for member in chosen:
                try:
                    request = member.shell.parse(step.statement.text)
                except QmpShellError as err:
                    report(member.printer, step.statement, err)
                    yield step, member, None
                    continue
                if isinstance(request, ShellRequest) and request.name in ("hmp", "qmp") and not request.rest:
                    member.shell.hmp = request.name == "hmp"
                if request is not None:
                    yield step, member, request
    finally:
        for name, member in members.items():
            member.shell.hmp = modes[name]


def _members_for(members: dict[str, Member], step: Step, printer: Printer) -> list[Member] | None:
    """The targets a step goes to; None (said on stderr) when it names one the run does not have."""
    if not step.target or step.target == ALL:
        return list(members.values())
    member = members.get(step.target)
    if member is None:
        known = ", ".join(members)
        printer.error(f"{step.statement.lineno}: ", f"no target named '{step.target}' (the targets: {known})")
        return None
    return [member]
