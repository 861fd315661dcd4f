"""Key bindings, over a narrow protocol so the keys can be tested without the whole app.

Ctrl-C stops waiting for a reply, else clears the line; a bracketed paste
goes to the application, which runs each pasted line; Enter with the
completion menu open takes the chosen completion (see ``completion.enter_in_menu``); Ctrl-D on an empty
line leaves; Ctrl-L clears the output; PageUp/PageDown scroll it; F2 shows or
hides the events pane.  Everything else (editing, Ctrl-R history search, Tab
completion) is prompt_toolkit's emacs or vi defaults.
"""

from __future__ import annotations

from prompt_toolkit.filters import Condition
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys

from qmpshell.records import Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class KeyActions(Protocol):
    """What the keys do; implemented by the application."""

    def interrupt(self) -> None: ...

    def paste(self, data: str) -> None: ...

    def completing(self) -> bool: ...

    def enter_in_menu(self) -> None: ...

    def input_is_empty(self) -> bool: ...

    def quit(self) -> None: ...


class PaneActions(Protocol):
    """What the output-pane keys do (``panekeys.PaneKeys``)."""

    def clear_output(self) -> None: ...

    def toggle_events(self) -> None: ...

    def page_up(self) -> None: ...

    def page_down(self) -> None: ...


def build_key_bindings(actions: KeyActions, pane: PaneActions) -> KeyBindings:
    bindings = KeyBindings()
    empty = Condition(actions.input_is_empty)

    @bindings.add("c-c", eager=True)
    def _interrupt(event: KeyPressEvent) -> None:
        actions.interrupt()

    @bindings.add("enter", filter=Condition(actions.completing), eager=True)
    def _enter_in_menu(event: KeyPressEvent) -> None:
        actions.enter_in_menu()

    @bindings.add(Keys.BracketedPaste)
    def _paste(event: KeyPressEvent) -> None:
        actions.paste(event.data)

    @bindings.add("c-d", filter=empty, eager=True)
    def _quit(event: KeyPressEvent) -> None:
        actions.quit()

    @bindings.add("c-l")
    def _clear(event: KeyPressEvent) -> None:
        pane.clear_output()

    @bindings.add("f2")
    def _events(event: KeyPressEvent) -> None:
        pane.toggle_events()

    @bindings.add("pageup")
    def _up(event: KeyPressEvent) -> None:
        pane.page_up()

    @bindings.add("pagedown")
    def _down(event: KeyPressEvent) -> None:
        pane.page_down()

    return bindings


def editing_mode(name: str) -> Any:
    """prompt_toolkit's editing mode for ``interactive.key_bindings`` (vi or emacs)."""
    from prompt_toolkit.enums import EditingMode

    return EditingMode.VI if name == "vi" else EditingMode.EMACS
