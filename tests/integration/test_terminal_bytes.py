"""R2 at the byte level: escape sequences in remote strings never reach the engineer's terminal.

SVG snapshots cannot show escape bytes, so this runs the real command in a pseudo-terminal and reads
every byte the app writes.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from tests.support.pty import drive
from tests.support.ui import post_alerts

pytestmark = pytest.mark.integration


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
    out = drive([exe, "--alertmanager", bare_am], [(f"Bytes{tag}".encode(), b"q")],
                env={"TERM": "xterm-256color"})
    assert f"Bytes{tag}".encode() in out, "the alert was never drawn"
    assert b"\x1b]52" not in out
    assert b"aGk=" not in out and b"cHduZWQ=" not in out
    assert b"\x1b[2J" not in out
    assert b"evilm" in out  # the model name, with the sequence stripped
