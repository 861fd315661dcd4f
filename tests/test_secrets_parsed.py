"""S1, S2, S5, S6: what is secret is decided on the parsed request, one rule for every copy.

Against a real QEMU: secrets typed in every form QEMU accepts (quotes, JSON
escapes, HMP inside ``human-monitor-command`` and in HMP mode, ``qom-set`` of a
secret's ``data``, a token in an https URL) reach none of the history file,
the ``-l`` log, the exit transcript, ``/save``, nor ``-v``; neither does the
plaintext a ``qom-get`` of ``data`` returns, nor a libvirt URI's password.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.qemu_support import Qemu, run_qmpshell
from tests.tmux_support import reply_line, start_qmpshell

# Each line carries a secret value SEKRITn that QEMU receives; none may be kept anywhere.
QMP_LINES = [
    "object-add qom-type='secret' id=s1 data=SEKRIT1",
    "qom-set path=/objects/s1 property=data value=SEKRIT2",
    'human-monitor-command command-line="object_add secret,id=s3,data=SEKRIT3"',
    '{"execute": "object-add", "arguments": {"qom-type": "secr\\u0065t", "id": "s4", "data": "SEKRIT4"}}',
    "blockdev-add driver=https url=https://SEKRIT5@127.0.0.1:1/x.img node-name=h5",
    "qom-get path=/objects/s4 property=data",  # QEMU returns SEKRIT4 in clear
]
HMP_LINES = [
    "/hmp object_add secret,id=s6,data=SEKRIT6",
    "/hmp qom-set /objects/s6 data SEKRIT7",
    "/hmp",  # HMP mode: lines go to the human monitor as typed
    "object_add secret,id=s8,data=SEKRIT8",
    "/qmp",
]


def _no_secret(where: str, text: str) -> None:
    assert "SEKRIT" not in text, f"a secret reached the {where}:\n{text}"


def test_typed_secrets_reach_no_history_log_transcript_or_saved_file(
    qemu: Qemu, tmp_path: Path, short_dir: Path
) -> None:
    log, saved, history = tmp_path / "qmp.log", tmp_path / "saved.txt", tmp_path / "history"
    tmux = start_qmpshell(tmp_path, "-l", str(log), "--history", str(history), qemu.socket)
    try:
        for line in [*QMP_LINES, *HMP_LINES, "query-status"]:
            tmux.enter(line)
        screen = tmux.wait_for(reply_line("running"), timeout=30)
        assert "SEKRIT4" in screen  # the screen shows what was typed and answered
        tmux.enter(f"/save {saved}")
        tmux.wait_for("saved ")
        tmux.send("C-d")
        transcript = tmux.wait_for("EXITED=0", timeout=15) and tmux.scrollback()
    finally:
        tmux.close()
    _no_secret("transcript", transcript)
    assert "<redacted>" in transcript and "query-status" in transcript
    _no_secret("/save file", saved.read_text())
    _no_secret("history file", history.read_text())
    assert "query-status" in history.read_text()
    _no_secret("log", log.read_text())
    sent = [json.loads(line)["message"] for line in log.read_text().splitlines()]
    assert {
        "execute": "qom-set",
        "arguments": {"path": "/objects/s1", "property": "data", "value": "<redacted>"},
    } in [{k: v for k, v in message.items() if k != "id"} for message in sent]


def test_verbose_shows_the_sent_command_with_its_secret_redacted(qemu: Qemu) -> None:
    result = run_qmpshell("-v", "-k", *[arg for line in QMP_LINES[:4] for arg in ("-c", line)], qemu.socket)
    _no_secret("-v output", result.stdout)
    assert result.stdout.count("<redacted>") >= 4, result.stdout


def test_a_libvirt_uri_password_is_not_printed(tmp_path: Path, private_xdg: Path) -> None:
    uri = "qemu+tcp://admin:SEKRIT8@127.0.0.1:1/system"
    failed = run_qmpshell("--libvirt-uri", uri, "-c", "query-status", "libvirt:nosuch", env=dict(os.environ))
    assert failed.returncode != 0
    _no_secret("stderr", failed.stderr)
    assert "qemu+tcp://<redacted>@127.0.0.1:1/system" in failed.stderr
    printed = run_qmpshell("--libvirt-uri", uri, "--print-config", env=dict(os.environ))
    assert printed.returncode == 0, printed.stderr
    _no_secret("--print-config output", printed.stdout)
    assert "<redacted>@127.0.0.1" in printed.stdout
