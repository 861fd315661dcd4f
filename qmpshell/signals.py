"""The few signal functions a one-shot needs, taken from CPython's ``_signal`` itself.

``import signal`` makes three enum classes (``Signals``, ``Handlers``,
``Sigmasks``) out of ``_signal``'s constants: 0.8 ms, about 3 % of a whole
``qmpshell SOCK -c query-status`` (issue 26), which sets two handlers and never
needs a signal's name unless it was stopped by one.  The functions are the same
objects ``signal`` re-exports (its ``signal()`` only turns the old handler into
an enum member, and an int is as good to give back); mypy sees ``signal``'s
typed names.  ``signal_name`` loads ``signal`` for the one message that names one.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from signal import SIGHUP as SIGHUP
    from signal import SIGQUIT as SIGQUIT
    from signal import SIGTERM as SIGTERM
    from signal import signal as signal
else:
    from _signal import SIGHUP as SIGHUP
    from _signal import SIGQUIT as SIGQUIT
    from _signal import SIGTERM as SIGTERM
    from _signal import signal as signal


def signal_name(number: int) -> str:
    """``SIGTERM`` for 15: for the message that says which signal stopped the run."""
    import signal as named  # its enums: only on this way out

    return named.Signals(number).name
