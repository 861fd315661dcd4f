"""Starting the full-screen shell on an open link: its events pane, the hand-over from the instant
prompt, then ``Repl.run``."""

from __future__ import annotations

from collections import deque

from prompt_toolkit.application import Application
from prompt_toolkit.input.typeahead import store_typeahead
from prompt_toolkit.input.vt100_parser import Vt100Parser
from prompt_toolkit.key_binding import KeyPress
from prompt_toolkit.keys import Keys

from qmpshell.config import Settings
from qmpshell.repl.app import Repl
from qmpshell.repl.connection import EventRelay, Link
from qmpshell.repl.instant import InstantPrompt
from qmpshell.repl.keeper import session_feed
from qmpshell.repl.layout import ESCAPE_WAIT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from qmpshell.protocol.launch import LaunchedQemu


def run_repl(
    link: Link,
    relay: EventRelay,
    settings: Settings,
    *,
    launched: LaunchedQemu | None = None,
    arrived: deque[tuple[str, str]] | None = None,
    instant: InstantPrompt | None = None,
) -> int:
    """Run the full-screen shell on ``link`` (whose events go to ``relay``) until Ctrl-D, /quit or a
    stop signal; the exit status.  The caller closes the link.

    ``arrived``: lines to show in the output as they come (others' traffic through ``--proxy``);
    ``instant``: the instant prompt on the screen (``repl.instant``), which the application replaces."""
    feed = session_feed(link, relay, settings)
    repl = Repl(link, feed, settings, launched=launched, arrived_lines=arrived)
    if instant is None:
        return repl.run()
    hand_over(instant, repl.app)
    return repl.run(screen_gone=instant.restore)


def hand_over(instant: InstantPrompt, app: Application[int]) -> None:
    """The application takes the terminal from the instant prompt: what was typed before and at
    the frame is its first input (prompt_toolkit's type-ahead, cut where the typing paused), and
    once it has drawn, leaving the alternate screen is its own job."""
    keys: list[KeyPress] = []
    parser = Vt100Parser(keys.append)
    for number, piece in enumerate(instant.take_typed(pause=ESCAPE_WAIT)):
        if number:  # a pause: an Esc before it is the Esc key, not Alt with the key after it
            keys.append(KeyPress(Keys.Ignore))  # a key prompt_toolkit ignores: ends a pending Esc
        parser.feed(piece.decode("utf-8", "surrogateescape"))  # as prompt_toolkit's own reader
        parser.flush()  # a lone Esc at the end of a piece is a key of its own
    if keys:
        store_typeahead(app.input, keys)
    app.after_render += lambda _app: instant.handed_over()
