"""The real command in a real pseudo-terminal at 80×24: TERM=xterm-256color, TERM=screen (what tmux and
screen set), and NO_COLOR. Reads every byte the app writes; SVG snapshots cannot show these."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.support.pty import drive

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("ModelInferenceLatenessHigh", "TrainingJobFailed", "DataDriftDetected", "ModelRegistryPushFailed")
SGR = re.compile(rb"\x1b\[([0-9;]*)m")


def run_app(tmp_path: Path, env: dict[str, str], timeout: float = 90.0) -> bytes:
    """Start the app on the fixed alerts in an 80×24 pty; return its output once every name is on screen."""
    argv = [sys.executable, "-m", "tests.support.fixed_alerts", "--theme", "dark"]
    every_name = lambda out: all(n.encode() in out for n in NAMES)  # noqa: E731
    return drive(argv, [(every_name, b"q")], size=(80, 24), cwd=ROOT, timeout=timeout,
                 drop_env=("NO_COLOR", "COLORTERM", "TERM"),
                 env={"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state"), **env})


def colours(output: bytes) -> list[tuple]:
    """Every colour an SGR sequence sets: ("basic", code), ("256", n) or ("rgb", r, g, b)."""
    found: list[tuple] = []
    for match in SGR.finditer(output):
        params = [int(p) if p else 0 for p in match.group(1).split(b";")]
        i = 0
        while i < len(params):
            p = params[i]
            if p in (38, 48) and i + 1 < len(params):
                if params[i + 1] == 5:
                    found.append(("256", params[i + 2]))
                    i += 3
                    continue
                if params[i + 1] == 2:
                    found.append(("rgb", *params[i + 2:i + 5]))
                    i += 5
                    continue
            if 30 <= p <= 37 or 40 <= p <= 47 or 90 <= p <= 97 or 100 <= p <= 107:
                found.append(("basic", p))
            i += 1
    return found


def is_grey(colour: tuple) -> bool:
    if colour[0] == "basic":
        return colour[1] % 10 in (0, 7)  # black, white, grey, bright white
    if colour[0] == "256":
        return colour[1] in (0, 7, 8, 15, 16, 231) or colour[1] >= 232
    return colour[1] == colour[2] == colour[3]


@pytest.mark.parametrize("term", ["xterm-256color", "screen"])
def test_the_alerts_show_in_a_plain_terminal(tmp_path, term):
    output = run_app(tmp_path, {"TERM": term})
    text = output.decode("utf-8", "replace")
    for name in NAMES:
        assert name in text
    assert "CRIT" in text and "WARN" in text and "Traceback" not in text
    used = colours(output)
    assert any(not is_grey(c) for c in used)  # severities are in colour …
    if term == "screen":  # … with the 16 colours such a terminal has
        assert {c[0] for c in used} == {"basic"}


def test_no_color_gives_no_colour(tmp_path):
    output = run_app(tmp_path, {"TERM": "xterm-256color", "NO_COLOR": "1"})
    text = output.decode("utf-8", "replace")
    assert all(name in text for name in NAMES) and "▲ CRIT" in text  # severity still told by glyph and word
    used = colours(output)
    assert used and all(is_grey(c) for c in used), sorted({c for c in used if not is_grey(c)})[:10]
