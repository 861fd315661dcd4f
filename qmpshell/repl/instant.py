"""The instant prompt: the full screen's first frame, drawn before prompt_toolkit is even imported.

Python, prompt_toolkit's import and its first draw take about 150 ms on a 2-core machine: longer
than a person takes to start typing.  So, as zsh's powerlevel10k does, the shell first draws with
a few escape sequences what prompt_toolkit will draw at the same places (the alternate screen, the
rule above the input line, the prompt and the status bar) and puts the terminal in a mode where
the kernel echoes each typed character at once and keeps every byte unread:

- no line editing (``ICANON`` off): Backspace, Ctrl-U, Ctrl-D stay bytes in the queue;
- no signals from the keyboard (``ISIG`` off): Ctrl-C and Ctrl-Z are bytes, as in the application;
- no flow control (``IXON``), no ``\\r`` made ``\\n`` (``ICRNL``), no literal-next (``IEXTEN``);
- control characters echoed as themselves (``ECHOCTL`` off), not as ``^C``.

A thread reads what is typed while the frame stands, noting the pauses, and prompt_toolkit gets
it as typed keys (``start.hand_over``): a word and Enter typed at the instant prompt run as a
command once the application is up, Ctrl-C or Ctrl-D do what they do there, and Esc then ``/`` a
moment later stay two keys (read together by prompt_toolkit, they were one Meta-/).  Bytes typed
even earlier (while Python started, the terminal still in line mode) are read at the draw and
shown on the input line.

Nothing here imports prompt_toolkit (an import-linter contract says so).  ``restore`` puts the
terminal back as it was on every way out: the application's end, an error before it started, a
stop signal (``Stopped`` passes through ``shown``).  ``[interactive] instant_prompt = false`` in
the config file turns it off, for a terminal that misbehaves.
"""

from __future__ import annotations

import fcntl
import os
import select
import sys
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from qmpshell.records import NamedTuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

QMP_PROMPT = "qmp> "
HMP_PROMPT = "hmp> "
SEPARATOR = " \u2502 "  # between the status bar's fields
RULE = "\u2500"  # the line above the input line

ALTERNATE_SCREEN = "\x1b[?1049h\x1b[H\x1b[2J"
BRACKETED_PASTE = "\x1b[?2004h"  # as the application asks: a paste during the frame stays one paste
LEAVE_SCREEN = "\x1b[?2004l\x1b[?1049l"
_LFLAG, _IFLAG, _CC = 3, 0, 6  # indexes in termios.tcgetattr's list


class Frame(NamedTuple):  # not a dataclass: its import (inspect) costs 8 ms before the frame
    """What the first frame shows, in ``columns`` x ``rows``: the prompt, the status bar's text and
    the welcome line (the events pane's side of it comes with the application)."""

    prompt: str
    status: str
    columns: int
    rows: int
    colour: bool = True
    hmp: bool = False  # the prompt in HMP's colour
    welcome: str = ""  # the output's first line (``widgets.welcome_text``)
    events_columns: int = 0  # the events pane's width with its separator (0: hidden)

    def text(self) -> str:
        """The escape sequences that draw it, the cursor left after the prompt (the default
        palette's colours, or none: ``--color=never``, ``$NO_COLOR``)."""
        mode = "\x1b[0;1;35m" if self.hmp else "\x1b[0;1;32m"  # the default style's prompt, prompt.hmp
        prompt, grey = (mode, "\x1b[0;37m") if self.colour else ("\x1b[0;1m", "\x1b[0m")
        bar = _cut_left(self.status, self.columns).ljust(self.columns)
        return "".join(
            [
                ALTERNATE_SCREEN,
                BRACKETED_PASTE,
                *self._welcome(),
                *self._events_pane(grey),
                f"\x1b[{self.rows - 2};1H{grey}{RULE * self.columns}",
                f"\x1b[{self.rows};1H\x1b[0;7m{bar}",
                f"\x1b[{self.rows - 1};1H{prompt}{self.prompt}\x1b[0m",
            ]
        )

    def _welcome(self) -> list[str]:
        """The welcome line at the top of the output, wrapped where the application wraps it."""
        width = max(1, self.columns - self.events_columns)
        pieces = [self.welcome[start : start + width] for start in range(0, len(self.welcome), width)]
        return [f"\x1b[{row};1H\x1b[0m{piece}" for row, piece in enumerate(pieces[: self.rows - 3], 1)]

    def _events_pane(self, grey: str) -> list[str]:
        """The events pane's separator and title where the application puts them (no events yet)."""
        if not self.events_columns:
            return []
        column = self.columns - self.events_columns + 1
        title = " events  (F2 hides)"[: self.events_columns - 1]
        rule = [f"\x1b[{row};{column}H{grey}\u2502" for row in range(1, self.rows - 2)]
        return [*rule, f"\x1b[1;{column + 1}H\x1b[0;1m{title}"]


class InstantPrompt:
    """The frame on the screen and the terminal's typing mode, until prompt_toolkit takes over."""

    def __init__(self, stdin: int, stdout: int, saved: list[Any]) -> None:
        self._stdin, self._stdout, self._saved = stdin, stdout, saved
        self.early = b""  # typed before the frame was drawn: prompt_toolkit's first input
        self._screen_ours = True  # the alternate screen and bracketed paste are ours to undo
        self._typed: list[tuple[float, bytes]] = []  # read while the frame stands, and when
        self._reading = threading.Event()
        self._reader: threading.Thread | None = None

    @classmethod
    def draw(cls, frame: Frame, *, stdin: int, stdout: int) -> InstantPrompt | None:
        """The frame drawn and typing echoed; None when ``stdin`` is not a terminal."""
        try:
            saved = termios.tcgetattr(stdin)
        except termios.error:
            return None
        shown = cls(stdin, stdout, saved)
        try:
            # Echo off while the frame is drawn and what came before is read (else it would be
            # echoed twice), on once it stands: a character typed in between shows at the full draw.
            termios.tcsetattr(stdin, termios.TCSANOW, typing_mode(saved, echo=False))
            _write(stdout, frame.text())
            shown.early = _unread(stdin)
            _write(stdout, _printable_start(shown.early)[: max(0, frame.columns - len(frame.prompt) - 1)])
            termios.tcsetattr(stdin, termios.TCSANOW, typing_mode(saved, echo=True))
            shown._start_reading()
        except BaseException:
            shown.restore()
            raise
        return shown

    def _start_reading(self) -> None:
        self._reading.set()
        self._reader = threading.Thread(target=self._read, name="qmpshell-typed-ahead", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        """Read what is typed, with when, until ``take_typed`` (the kernel has echoed it already)."""
        while self._reading.is_set():
            try:
                ready, _, _ = select.select([self._stdin], [], [], 0.02)
                data = os.read(self._stdin, 4096) if ready else b""
            except OSError:
                return  # the terminal went away: the application will find out
            if data:
                self._typed.append((time.monotonic(), data))

    def _stop_reading(self) -> None:
        self._reading.clear()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join()

    def take_typed(self, *, pause: float) -> list[bytes]:
        """Everything typed until now, once, cut where the typing paused longer than ``pause``
        seconds: the application reads each piece as keys typed together (Esc alone, or Esc
        starting an Alt key or an arrow's sequence, as prompt_toolkit would have told them)."""
        self._stop_reading()
        pieces = [self.early] if self.early else []
        last = -pause - 1.0
        for when, data in self._typed:
            if pieces and when - last <= pause:
                pieces[-1] += data
            else:
                pieces.append(data)
            last = when
        self.early, self._typed = b"", []
        return pieces

    def handed_over(self) -> None:
        """prompt_toolkit has drawn: the alternate screen and bracketed paste are its to undo."""
        self._screen_ours = False

    def restore(self) -> None:
        """The terminal's modes as they were; the normal screen again unless prompt_toolkit drew.

        Not ``TCSAFLUSH``: what is typed and unread stays for whoever reads next."""
        self._stop_reading()
        try:
            if self._screen_ours:
                self._screen_ours = False
                _write(self._stdout, LEAVE_SCREEN)
            termios.tcsetattr(self._stdin, termios.TCSANOW, self._saved)
        except (OSError, termios.error):
            pass  # the terminal went away: nothing is left to restore


@contextmanager
def shown(frame: Frame, *, enabled: bool, stdin: int, stdout: int) -> Iterator[InstantPrompt | None]:
    """The instant prompt while the block runs (None: turned off, or not a terminal); the terminal
    restored however the block ends."""
    prompt = InstantPrompt.draw(frame, stdin=stdin, stdout=stdout) if enabled else None
    try:
        yield prompt
    finally:
        if prompt is not None:
            prompt.restore()


def typing_mode(saved: list[Any], *, echo: bool) -> list[Any]:
    """``saved`` with the kernel keeping every byte for the application, and echoing if ``echo``."""
    mode = [*saved[:_CC], list(saved[_CC])]
    lflag = mode[_LFLAG] & ~(termios.ICANON | termios.ISIG | termios.IEXTEN | termios.ECHOCTL)
    mode[_LFLAG] = lflag | termios.ECHO if echo else lflag & ~termios.ECHO
    mode[_IFLAG] &= ~(termios.IXON | termios.IXOFF | termios.ICRNL | termios.INLCR | termios.IGNCR)
    mode[_CC][termios.VMIN], mode[_CC][termios.VTIME] = 1, 0
    return mode


def _unread(fd: int) -> bytes:
    """The bytes waiting to be read on the terminal ``fd``, without waiting for more."""
    count = int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, bytes(4)), sys.byteorder, signed=True)
    return os.read(fd, count) if count > 0 else b""


def _printable_start(data: bytes) -> str:
    """What the input line shows of ``data``: the text up to its first control character."""
    text = data.decode("utf-8", "replace")
    for position, char in enumerate(text):
        if char < " " or "\x7f" <= char < "\xa0":
            return text[:position]
    return text


def _cut_left(text: str, room: int) -> str:
    return text if len(text) <= room else "\u2026" + text[len(text) - max(0, room - 1) :]


def _write(fd: int, text: str) -> None:
    data = text.encode("utf-8", "replace")
    while data:
        data = data[os.write(fd, data) :]
