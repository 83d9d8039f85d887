"""R2 at the byte level: escape sequences in remote strings never reach the engineer's terminal.

SVG snapshots cannot show escape bytes, so this runs the real command in a pseudo-terminal and reads
every byte the app writes.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
import uuid
from pathlib import Path

import pytest

from tests.support.ui import post_alerts

pytestmark = pytest.mark.integration


def run_in_pty(argv: list[str], until: bytes, timeout: float = 60.0) -> bytes:
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.environ.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
        os.execv(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and until not in output:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    output += os.read(fd, 65536)
                except OSError:
                    break
        os.write(fd, b"q")
        end = time.monotonic() + 10
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                output += chunk
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    return output


def test_osc52_and_csi_from_alert_text_never_reach_the_terminal(bare_am):
    tag = uuid.uuid4().hex[:6]
    post_alerts(
        bare_am,
        [
            {
                "labels": {
                    "alertname": f"Bytes{tag}",
                    "severity": "critical",
                    "model": "evil\x1b]52;c;aGk=\x07m",
                },
                "annotations": {"summary": "clear\x1b[2Jscreen \x1b]52;c;cHduZWQ=\x1b\\ now"},
            }
        ],
    )
    exe = str(Path(sys.executable).with_name("mlcall-tui"))
    out = run_in_pty([exe, "--alertmanager", bare_am], until=f"Bytes{tag}".encode())
    assert f"Bytes{tag}".encode() in out, "the alert was never drawn"
    assert b"\x1b]52" not in out
    assert b"aGk=" not in out and b"cHduZWQ=" not in out
    assert b"\x1b[2J" not in out
    assert b"evilm" in out  # the model name, with the sequence stripped
