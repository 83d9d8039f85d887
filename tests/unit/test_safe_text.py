"""safe_text: remote strings are data — never markup, never terminal control sequences (R1, R2)."""

import re

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from oncall_tui.safe_text import TRUNCATION_MARKER, redact_url, safe, sanitize

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
INJECTIONS = ["x[/]", "[red]boom[/]", "[@click=app.quit]q[/]", "[link=https://evil]y[/link]", "oops\\"]


@given(st.text())
def test_sanitized_text_never_holds_a_control_character(value):
    assert not CONTROL.search(sanitize(value))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc",))))
def test_printable_text_is_kept_exactly(value):
    # C1 and C0 are the control category Cc; everything else passes through unchanged.
    assert sanitize(value) == value


@given(st.text())
def test_safe_renders_the_sanitized_string_literally(value):
    assert safe(value).plain == sanitize(value)


def test_markup_is_shown_literally():
    console = Console(width=200, color_system=None, record=True)
    for value in INJECTIONS:
        console.print(safe(value))
    out = console.export_text()
    for value in INJECTIONS:
        assert value in out


def test_escape_sequences_are_removed_whole():
    assert sanitize("a\x1b]52;c;aGk=\x07b") == "ab"  # OSC 52 clipboard write, BEL-terminated
    assert sanitize("a\x1b]52;c;aGk=\x1b\\b") == "ab"  # ... ST-terminated
    assert sanitize("\x1b[2Jcleared") == "cleared"  # CSI erase display
    assert sanitize("\x1b]8;;https://evil\x1b\\click\x1b]8;;\x1b\\") == "click"  # OSC 8 hyperlink
    assert sanitize("\x1bPq#0;2;0;0;0\x1b\\after") == "after"  # DCS (sixel)
    assert sanitize("x\x9b31my") == "xy"  # 8-bit CSI
    assert sanitize("tab\tand\nnewline") == "tab\tand\nnewline"


def test_single_line_and_truncation():
    assert sanitize("a\nb\tc", single_line=True) == "a b c"
    long = sanitize("x" * 1000, max_len=50)
    assert len(long) == 50 and long.endswith(TRUNCATION_MARKER)


def test_credentials_are_dropped_from_urls():
    assert redact_url("https://user:s3cret@am.example:9093/path") == "https://am.example:9093/path"
    assert redact_url("http://127.0.0.1:9093") == "http://127.0.0.1:9093"
