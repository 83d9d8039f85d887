"""R2 at the byte level for the log tail: an OSC 52 clipboard write (and a screen clear) inside a pod's log
never reaches the engineer's terminal. The real `mlcall-tui` runs in a 120x40 pseudo-terminal against a real
Alertmanager and kmock; every byte it writes is read. (SVG snapshots cannot show escape bytes.)

The keys are typed the way an engineer types them, each after the screen shows it is time: the filter box
has the keys once the key bar stops offering `d Diagnose` (Textual hides the letters a focused input
takes), and the alerts table has them back once the key bar offers it again. Keys typed earlier are
delivered to whatever had the focus when they arrived (a `/model=…` typed in one go runs `m`, `d`… on
the alerts screen). At 120 columns the detail row shows the alert beside one other panel: `v` brings
the Deployment panel."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Callable

import pytest

from tests.integration.test_cluster import NS, alert, new_name, seed
from tests.support.pty import drive
from tests.support.ui import post_alerts

pytestmark = pytest.mark.integration

COLUMNS, ROWS = 120, 40
_MOVE = re.compile(rb"\x1b\[(\d+);(\d+)H")


def key_bar(drawn: bytes) -> bytes | None:
    """The bottom row (the footer: the keys that act now) as last drawn whole in `drawn`, or None."""
    moves = list(_MOVE.finditer(drawn))
    for i in range(len(moves) - 1, -1, -1):
        if (int(moves[i][1]), int(moves[i][2])) == (ROWS, 1):
            end = next((m.start() for m in moves[i + 1:] if int(m[1]) != ROWS), None)
            if end is not None:  # the row is complete (the next frame part moved to another row)
                return drawn[moves[i].end():end]
    return None


class After:
    """A step's marker: `test` holds for what was drawn after the previous step's keys were typed (the
    driver first asks right after typing them), so a frame drawn earlier never answers for the keys."""

    def __init__(self, what: str, test: Callable[[bytes], bool]) -> None:
        self.what, self.test, self.start = what, test, None

    def __call__(self, output: bytes) -> bool:
        if self.start is None:
            self.start = len(output)
        return self.test(output[self.start:])

    def __repr__(self) -> str:
        return self.what


def drawn(marker: bytes) -> After:
    return After(repr(marker), lambda new: marker in new)


def offers_diagnose(yes: bool) -> After:
    return After(f"a key bar {'with' if yes else 'without'} 'Diagnose'",
                 lambda new: (bar := key_bar(new)) is not None and (b"Diagnose" in bar) == yes)


def test_osc52_in_a_pod_log_never_reaches_the_terminal(bare_am, kube, tmp_path):
    name = new_name()
    seeded = seed(kube, name)
    kube.api.logs[(NS, seeded["crashing"])] += "wipe\x1b[2Jscreen \x1b]52;c;cHduZWQ=\x1b\\ tail-marker-end\n"
    post_alerts(bare_am, [alert(name)])  # bare_am is shared: other tests' alerts are there too
    exe = str(Path(sys.executable).with_name("mlcall-tui"))
    env = {"TERM": "xterm-256color", "KUBECONFIG": str(kube.kubeconfig(tmp_path)),
           "MLCALL_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_STATE_HOME": str(tmp_path / "state")}
    out = drive([exe, "--alertmanager", bare_am, "--kube-context", "kmock", "--namespace", NS], [
        (b"ModelInferenceLatenessHigh", b"/"),  # the alerts are drawn: open the filter
        (offers_diagnose(False), f"model={name}\r".encode()),  # the filter box has the keys: filter, enter
        (offers_diagnose(True), b"vv"),  # the table has the keys again: Signals → Model → Deployment panel
        (drawn(b"OOMKilled"), b"d"),  # the Deployment panel drew this alert's pods: diagnose
        (drawn(b"tail-marker-end"), b""),  # the log tail is drawn
    ], env=env, size=(COLUMNS, ROWS), timeout=60.0, linger=2.0)
    assert b"\x1b]52" not in out
    assert b"clipboard-payload-end" in out and b"tail-marker-end" in out, "the log tail was never drawn"
    assert b"ZXZpbC1jbGlwYm9hcmQ=" not in out and b"cHduZWQ=" not in out
    assert b"\x1b[2J" not in out
    assert b"wipescreen" in out  # the text around the sequences is kept
