"""The small formatted texts: the prompt (which language, continuation) and the status bar.

The status bar is laid out by priority for the width it has: the connection
state (DISCONNECTED, reconnecting, waiting for the reply) and the mode are
always shown whole; then the run state, the address (shortened from the left,
where a socket path differs least), the QEMU version and the events count, in
that order, as long as they fit.
"""

from __future__ import annotations

from qmpshell.output.safe import visible
from qmpshell.repl.connection import Status
from qmpshell.repl.instant import HMP_PROMPT, QMP_PROMPT, SEPARATOR

TYPE_CHECKING = False
if TYPE_CHECKING:  # the instant prompt draws the status bar and the prompt before prompt_toolkit loads
    from prompt_toolkit.formatted_text import StyleAndTextTuples

CONTINUATION = "...> "
ELLIPSIS = "\u2026"
_SHORTEST_ADDRESS = 12


def prompt_fragments(hmp: bool, continuing: bool, *, target: str = "") -> StyleAndTextTuples:
    """``qmp>`` or ``hmp>``, or ``...>`` while a statement is unfinished; with several targets
    the current one's name first (``src qmp>``)."""
    named: StyleAndTextTuples = [("class:prompt.target", f"{target} ")] if target else []
    if continuing:
        return [("class:prompt.continuation", CONTINUATION)]
    if hmp:
        return [*named, ("class:prompt.hmp", HMP_PROMPT)]
    return [*named, ("class:prompt", QMP_PROMPT)]


def short_version(version: str) -> str:
    """``7.2.22`` from ``7.2.22 (Debian 1:7.2+dfsg-7)``: the package string is for ``/help``."""
    return version.split(" (", 1)[0].strip()


def status_fragments(
    status: Status,
    *,
    busy: bool,
    width: int = 80,
    reconnecting: bool = False,
    exited: bool = False,
    awaited: str = "",
) -> StyleAndTextTuples:
    """address | server and version | run state | mode | events seen, then what is going on, in ``width``.

    A server without a run state (the storage daemon, the guest agent) has no run-state field.

    ``exited``: the QEMU of a ``--launch`` session is gone, so nothing is retried (``/relaunch``).
    ``awaited``: what a ``/wait`` or ``/job`` waits for, said instead of "waiting for the reply".
    """
    state_style, state = _state(status, busy=busy, reconnecting=reconnecting and not exited, exited=exited)
    if state_style == "class:status.busy" and awaited:
        state = f"{awaited} (Ctrl-C stops waiting)"
    fields = _fields_that_fit(status, width - (len(_label(state)) + 2 if state else 0))
    fragments: StyleAndTextTuples = [("class:status", " " + SEPARATOR.join(fields) + " ")]
    if state:
        used = sum(len(text) for _, text, *_ in fragments)
        fragments.append((state_style, " " + _cut_state(state, width - used - 2) + " "))
    return fragments


def _state(status: Status, *, busy: bool, reconnecting: bool, exited: bool) -> tuple[str, str]:
    if status.lost:
        doing = " (QEMU exited)" if exited else " (reconnecting)" if reconnecting else ""
        return "class:status.lost", f"DISCONNECTED{doing}: {status.lost}"
    if busy:
        return "class:status.busy", "waiting for the reply (Ctrl-C stops waiting)"
    return "", ""


def _label(state: str) -> str:
    """The part of the state that is never cut: ``DISCONNECTED (reconnecting)``, ``waiting``."""
    return state.split(":", 1)[0] if state.startswith("DISCONNECTED") else state.split(" (", 1)[0]


def _cut_state(state: str, room: int) -> str:
    """The state in ``room``, but never less than its label."""
    label = _label(state)
    return label if room < len(label) + 8 else _cut(state, room)


def _fields_that_fit(status: Status, room: int) -> list[str]:
    """The bar's fields in display order, keeping the most important ones that fit in ``room``."""
    mode = "HMP" if status.hmp else "QMP"
    run = "?" if status.lost else (status.run_state or "?")
    wanted = {
        "run": run,
        "address": status.address,
        "version": f"{status.server or 'QEMU'} {short_version(status.version) or '?'}",
        "events": f"events: {status.events}",
    }
    chosen: dict[str, str] = {"mode": mode}
    if status.run_state:  # the storage daemon and the guest agent have none
        # The run state is never dropped, only cut (a server's long status string took the whole
        # room and the state vanished from the bar, W12); it is the server's text: made visible.
        run_room = max(2, min(_LONGEST_RUN_STATE, room - _length({"mode": mode}) - len(SEPARATOR)))
        chosen["run"] = _cut(visible(wanted["run"], one_line=True), run_room)
    for name in ("address", "version", "events"):
        text = wanted[name]
        if name == "address" and len(text) > _SHORTEST_ADDRESS:
            text = ELLIPSIS + text[-(_SHORTEST_ADDRESS - 1) :]
        if _length({**chosen, name: text}) <= room:
            chosen[name] = text
    if "address" in chosen:
        spare = room - _length(chosen) + len(chosen["address"])
        chosen["address"] = _cut_left(status.address, spare)
    order = ("address", "version", "run", "mode", "events")
    return [chosen[name] for name in order if name in chosen]


_LONGEST_RUN_STATE = 20  # QEMU's longest is 14 (finish-migrate, guest-panicked)


def _length(fields: dict[str, str]) -> int:
    return sum(len(text) for text in fields.values()) + len(SEPARATOR) * (len(fields) - 1) + 2


def _cut(text: str, room: int) -> str:
    """``text`` in ``room`` cells, ending in ``…`` when it had to be cut."""
    return text if len(text) <= room else text[: max(0, room - 1)] + ELLIPSIS


def _cut_left(text: str, room: int) -> str:
    return text if len(text) <= room else ELLIPSIS + text[len(text) - max(0, room - 1) :]


def server_text(name: str, version: str) -> str:
    """``QEMU 7.2.22``, ``qemu-storage-daemon 7.2.22``, ``qemu-ga 7.2.22``, or ``a QMP server``."""
    if version:
        return f"{name or 'QEMU'} {short_version(version)}"
    return name if name and name != "QMP server" else "a QMP server"


def welcome_text(address: str, version: str, *, server: str = "", tab: bool = True, width: int = 0) -> str:
    """The one line shown at start: what the shell is connected to and the three keys to know.

    ``server`` names the kind (``qemu-storage-daemon``; QEMU when empty).  In ``width``
    columns (0: any) the address gives way from the left (a ``--launch`` socket's long
    temporary directory), so that the line stays one line.
    """
    server = server_text(server, version)
    keys = "/help, Tab completes, Ctrl-D quits" if tab else "/help, Ctrl-D quits"
    text = f"{server} at {address} \u2014 {keys}"
    if width and len(text) > width:
        room = max(_SHORTEST_ADDRESS, width - (len(text) - len(address)))
        text = f"{server} at {_cut_left(address, room)} \u2014 {keys}"
    return text


_NOTICE_FORMS = (
    ("{} (Ctrl-F older, Ctrl-B newer, Esc ends)", "\u2193 scrolled back (PageDown, Enter: to the end)"),
    ("{} (Ctrl-F, Ctrl-B, Esc)", "\u2193 scrolled back (PageDown)"),
    ("{}", "\u2193 scrolled back"),
)


def output_notice(*, following: bool, searching: str, width: int = 0) -> str:
    """The line under the output pane: the search's place, and whether the view is scrolled back.

    In ``width`` columns (0: any) the key hints give way first; what is left ends in ``…``.
    """
    text = ""
    for find, back in _NOTICE_FORMS:
        parts = ([find.format(searching)] if searching else []) + ([] if following else [back])
        text = SEPARATOR.join(parts)
        if not width or len(text) <= width:
            return text
    return _cut(text, width)


def pane_columns(width: float, terminal: int) -> int:
    """``events.pane_width`` in columns: as given, or a fraction of the terminal; the output keeps 20."""
    columns = int(width) if width >= 1 else round(width * terminal)
    return max(10, min(columns, terminal - 20))


NARROWEST_WITH_EVENTS = 100  # columns: below this the events pane starts hidden (events.pane_min_columns)


class EventsVisibility:
    """Whether the events pane is shown: by choice (F2, ``/events on|off``) or by the width."""

    def __init__(self, *, shown: bool, min_columns: int = NARROWEST_WITH_EVENTS) -> None:
        self.choice: bool | None = None if shown else False  # None: shown when wide enough
        self.min_columns = min_columns  # events.pane_min_columns

    def shown(self, width: int) -> bool:
        return self.choice if self.choice is not None else width >= self.min_columns

    def toggle(self, width: int) -> None:
        self.choice = not self.shown(width)

    def describe(self, width: int) -> str:
        if self.shown(width):
            return "shown (F2 hides it)"
        if self.choice is None:
            return f"hidden below {self.min_columns} columns (F2 shows it)"
        return "hidden (F2 or /events on shows it)"
