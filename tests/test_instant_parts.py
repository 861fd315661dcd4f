"""The instant prompt's parts without a terminal (``qmpshell.repl.instant``): the typing mode's
flags, where the frame draws, and the events kept until the events pane exists."""

from __future__ import annotations

import re
import termios
import threading

from qmpshell.repl.connection import EventRelay
from qmpshell.repl.instant import Frame, typing_mode

# A terminal's usual modes: line editing, echo, signals, CR to NL, flow control.
COOKED = [
    termios.ICRNL | termios.IXON,
    termios.OPOST | termios.ONLCR,
    termios.CS8 | termios.CREAD,
    termios.ICANON | termios.ECHO | termios.ECHOE | termios.ECHOCTL | termios.ISIG | termios.IEXTEN,
    termios.B38400,
    termios.B38400,
    [b"\x00"] * 32,
]


def test_the_typing_mode_keeps_every_byte_for_the_application() -> None:
    mode = typing_mode(COOKED, echo=True)
    lflag, iflag = mode[3], mode[0]
    assert lflag & termios.ECHO and not lflag & termios.ECHOCTL  # echoed as typed, not as ^C
    for kept in (termios.ICANON, termios.ISIG, termios.IEXTEN):  # no line editing, no signals
        assert not lflag & kept
    for kept in (termios.ICRNL, termios.IXON):  # Enter stays \r; Ctrl-S and Ctrl-Q are keys
        assert not iflag & kept
    assert mode[6][termios.VMIN] == 1 and mode[6][termios.VTIME] == 0
    assert mode[1] == COOKED[1]  # output unchanged: \n still starts a line
    assert not typing_mode(COOKED, echo=False)[3] & termios.ECHO
    assert COOKED[6] == [b"\x00"] * 32  # the saved modes are not changed in place


def test_the_frame_draws_the_rule_the_prompt_and_the_status_bar_at_the_bottom() -> None:
    text = Frame(prompt="qmp> ", status=" s.sock │ QMP │ events: 0 ", columns=60, rows=20).text()
    rows = {int(row): rest for row, rest in re.findall(r"\x1b\[(\d+);1H(.*?)(?=\x1b\[\d+;1H|$)", text)}
    assert "\u2500" * 60 in rows[18]
    assert "qmp> " in rows[19]
    assert " s.sock │ QMP │ events: 0 ".ljust(60) in rows[20]
    assert text.index("\x1b[19;1H") > text.index("\x1b[20;1H")  # the cursor is left on the input line
    assert text.startswith("\x1b[?1049h")


def test_a_status_bar_too_wide_gives_way_from_the_left() -> None:
    status = " /very/long/path/qmp.sock │ QMP "
    text = Frame(prompt="qmp> ", status=status, columns=20, rows=10).text()
    assert "\x1b[0;7m\u2026" + status[-19:] + "\x1b[" in text  # 20 columns, the mode kept whole


def test_events_before_the_pane_exists_come_first_and_in_order() -> None:
    relay = EventRelay()
    seen: list[int] = []
    for number in range(100):
        relay({"n": number})
    producer = threading.Thread(target=lambda: [relay({"n": number}) for number in range(100, 5000)])
    producer.start()
    relay.attach(lambda event: seen.append(int(event["n"])))
    producer.join()
    assert seen == list(range(5000))
