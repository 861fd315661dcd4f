"""Run a program in a real terminal: a detached tmux session of fixed size, driven by send-keys.

``wait_for`` polls ``capture-pane`` until the screen shows what is expected,
with a deadline; tests never sleep a fixed time.  Each session uses its own
tmux server socket (``-L``), so tests cannot see each other or the user's tmux.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from tests.qemu_support import alive, children, wait_until


class Tmux:
    """One detached session running ``argv`` with ``env`` set, ``width`` x ``height`` cells."""

    def __init__(
        self, argv: list[str], *, env: Mapping[str, str], width: int = 140, height: int = 40
    ) -> None:
        self.server = f"qmpshell-test-{uuid.uuid4().hex[:12]}"
        exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
        command = f"env {exports} {shlex.join(argv)}; echo EXITED=$?; sleep 600"
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height), command)

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.server, "-f", "/dev/null", *args], capture_output=True, text=True, timeout=10
        )
        if result.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def send(self, *keys: str) -> None:
        """tmux key names (``Enter``, ``Tab``, ``C-c``, ``F2``) or literal text."""
        self._tmux("send-keys", "-t", "0", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "0", "-l", text)

    def enter(self, line: str) -> None:
        """Type ``line``, then Enter: as two key bursts, the way a person does."""
        self.type(line)
        self.send("Enter")

    def paste(self, text: str) -> None:
        """Paste ``text`` as a terminal does: bracketed (``paste-buffer -p``) when the program asked."""
        self._tmux("set-buffer", "-b", "qmpshell-test", "--", text)
        self._tmux("paste-buffer", "-p", "-d", "-b", "qmpshell-test", "-t", "0")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "0")

    def resize(self, width: int, height: int) -> None:
        """The terminal becomes ``width`` x ``height`` cells (the program gets SIGWINCH)."""
        self._tmux("resize-window", "-t", "0", "-x", str(width), "-y", str(height))

    def scrollback(self) -> str:
        """The whole history of the pane, as the terminal keeps it after the program left."""
        return self._tmux("capture-pane", "-p", "-t", "0", "-S", "-")

    def wait_for(self, test: str | Callable[[str], bool], *, timeout: float = 15.0) -> str:
        """The screen, once it contains ``test`` (or ``test(screen)`` holds)."""
        check = test if callable(test) else (lambda screen: test in screen)

        def ready() -> str | None:
            screen = self.screen()
            return screen if check(screen) else None

        try:
            return str(wait_until(ready, timeout=timeout, what=f"{test!r} on the screen"))
        except AssertionError:
            raise AssertionError(
                f"timed out waiting for {test!r}; the screen shows:\n{self.screen()}"
            ) from None

    def display(self, format: str) -> str:
        """A tmux format about the pane (``#{alternate_on}``, ``#{pane_pid}``, ``#{pane_tty}``)."""
        return self._tmux("display-message", "-p", "-t", "0", format).strip()

    def input_line(self) -> str:
        """The line holding the prompt (the input line)."""
        lines = [line for line in self.screen().splitlines() if line.startswith(("qmp>", "hmp>", "...>"))]
        return lines[-1] if lines else ""

    def close(self) -> None:
        """End the terminal (its programs get SIGHUP) and wait until the program it ran has ended:
        a QEMU monitor serves one client at a time, and a shell still leaving under load held a
        module-wide QEMU's monitor past the next test's connect timeout."""
        try:
            running = children(int(self.display("#{pane_pid}")))
        except (RuntimeError, ValueError):
            running = []  # closed already
        subprocess.run(["tmux", "-L", self.server, "kill-server"], capture_output=True, timeout=10)
        wait_until(lambda: not any(map(alive, running)), timeout=20, what="the terminal's program to end")


READY = "events: "  # the status bar is drawn once the application runs


def shell_env(root: Path) -> dict[str, str]:
    """XDG directories under ``root``, this checkout importable, a 256-colour terminal."""
    env = {name: str(root / name.lower()) for name in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    env["TERM"] = "xterm-256color"
    return env


def start_qmpshell(root: Path, *args: str, width: int = 140, height: int = 40, config: str = "") -> Tmux:
    """``python -m qmpshell ARGS`` in a new terminal of ``width`` x ``height``, once its screen is up;
    ``config``: the text of its ``config.toml`` (under ``root``'s XDG config directory)."""
    if config:
        directory = root / "xdg_config_home" / "qmpshell"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.toml").write_text(config)
    tmux = Tmux([sys.executable, "-m", "qmpshell", *args], env=shell_env(root), width=width, height=height)
    tmux.wait_for(READY)
    return tmux


NO_NAME = "this machine has no name (it was started without -name)"  # query-name's reply, a harmless probe


def reply_line(text: str) -> Callable[[str], bool]:
    """A screen test: some line of the output pane is ``text`` (a short reply such as ``running``)."""
    pattern = re.compile(rf"^{re.escape(text)}(?: *$| +\u2502)", re.M)
    return lambda screen: bool(pattern.search(screen))
