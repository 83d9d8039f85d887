"""Themes: the bundled palettes load, read well, and the choice is remembered; the `y` matcher string."""

from __future__ import annotations

import json
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.color import Color

from oncall_tui.clipboard import matcher_string, quote
from oncall_tui.ui import themes

SEMANTIC = ("sev-critical", "sev-warning", "sev-info", "state-firing", "state-pending", "state-silenced",
            "state-inhibited", "ok", "change-mark")
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000", "#999999"}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def luminance(value: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = Color.parse(value).rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def bundled() -> dict:
    return {name: themes.load_theme(path, name) for name, path in themes.theme_files().items()}


def test_the_four_bundled_themes_load_with_every_project_variable():
    loaded = bundled()
    assert set(themes.BUNDLED) <= set(loaded)
    assert {t.dark for t in loaded.values()} == {True, False}  # a dark and a light one
    for theme in loaded.values():
        assert set(themes.PROJECT_VARIABLES) <= set(theme.variables), theme.name


@pytest.mark.parametrize("name, minimum", [("dark", 4.5), ("light", 4.5), ("colour-blind-safe", 4.5),
                                           ("high-contrast", 7.0)])
def test_severity_and_state_colours_read_on_the_background(name, minimum):
    theme = bundled()[name]
    for ground in (theme.background, theme.surface):  # the alerts table sits on the surface colour
        for variable in SEMANTIC:
            ratio = contrast(theme.variables[variable], ground)
            assert ratio >= minimum, f"{name}: {variable} {theme.variables[variable]} on {ground}: {ratio:.2f}"
        assert contrast(theme.foreground, ground) >= minimum


def test_colour_blind_safe_uses_only_okabe_ito_colours_and_distinct_severities():
    theme = bundled()["colour-blind-safe"]
    used = {theme.variables[v].upper() for v in SEMANTIC}
    assert used <= OKABE_ITO
    severities = [theme.variables[v] for v in ("sev-critical", "sev-warning", "sev-info")]
    assert len(set(severities)) == 3


def test_a_theme_without_project_variables_gets_them_from_its_own_colours():
    from textual.theme import BUILTIN_THEMES

    variables = themes.fill_variables(BUILTIN_THEMES["nord"].to_color_system().generate())
    assert variables["sev-critical"] == variables["error"]
    assert variables["state-pending"] == variables["warning"]
    styles = themes.palette(variables)
    assert styles["sev-critical"].startswith("bold #") and styles["state-silenced"].startswith("#")


def test_a_user_theme_is_named_by_its_file_and_wins_over_a_bundled_one(tmp_path):
    directory = themes.user_dir()
    directory.mkdir(parents=True)
    (directory / "nord-night.toml").write_text('primary = "#88C0D0"\nbackground = "#2E3440"\n'
                                               '[variables]\nsev-critical = "#BF616A"\n')
    (directory / "light.toml").write_text('dark = false\nprimary = "#123456"\n')
    files = themes.theme_files()
    assert files["nord-night"].parent == directory and files["light"].parent == directory
    assert files["dark"].parent == themes.bundled("themes")
    loaded, errors = themes.load_all()
    by_name = {t.name: t for t in loaded}
    assert errors == []
    assert by_name["nord-night"].variables["sev-critical"] == "#BF616A"
    assert by_name["light"].primary == "#123456"


@pytest.mark.parametrize("text, message", [
    ('primary = "#12345G"\n', "not a colour"),
    ('background = "#000000"\n', "'primary' is required"),
    ('primary = "red"\ncolour = "blue"\n', "unknown key(s) colour"),
    ('primary = "red"\n[variables]\nsev-critical = "auto 60%"\n', "not a colour"),
    ('primary = "red"\ndark = "yes"\n', "dark must be true or false"),
    ("primary = \n", "theme "),
])
def test_a_broken_user_theme_is_reported_with_its_file_and_reason(text, message):
    directory = themes.user_dir()
    directory.mkdir(parents=True)
    (directory / "broken.toml").write_text(text)
    loaded, errors = themes.load_all()
    assert "broken" not in {t.name for t in loaded} and "dark" in {t.name for t in loaded}
    assert len(errors) == 1 and "broken.toml" in errors[0] and message in errors[0]


def test_choose_flag_then_remembered_then_default():
    available = {"dark": 1, "light": 2, "high-contrast": 3}
    assert themes.choose("light", available, "high-contrast") == ("light", "")
    assert themes.choose("", available, "high-contrast") == ("high-contrast", "")
    assert themes.choose("", available, "gone") == ("dark", "")
    name, error = themes.choose("nope", available, "light")
    assert name == "light" and "no theme 'nope'" in error and "high-contrast" in error


def test_the_choice_is_remembered_next_to_other_state():
    path = themes.state_file()
    path.parent.mkdir(parents=True)
    path.write_text('other = "kept"\ntheme = "dark"\n')
    assert themes.remembered_theme() == "dark"
    themes.remember_theme("light")
    assert tomllib.loads(path.read_text()) == {"other": "kept", "theme": "light"}
    assert themes.remembered_theme() == "light"
    assert [p.name for p in path.parent.iterdir()] == ["state.toml"]  # no temp file left behind


def test_matcher_string_alertname_first_values_quoted():
    labels = {"model": "fraud-detector", "alertname": "ModelInferenceLatenessHigh", "severity": "critical"}
    assert matcher_string(labels) == '{alertname="ModelInferenceLatenessHigh",model="fraud-detector",severity="critical"}'
    assert matcher_string({"a": 'x"y\\z\nw'}) == '{a="x\\"y\\\\z\\nw"}'
    assert matcher_string({"app.kubernetes.io/name": "m"}) == '{"app.kubernetes.io/name"="m"}'
    assert matcher_string({"a": "\x1b]52;c;AAAA\x07"}) == '{a="\\u001b]52;c;AAAA\\u0007"}'


@given(st.dictionaries(st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True), st.text(max_size=30),
                       max_size=5))
def test_matcher_values_round_trip_and_carry_no_control_characters(labels):
    text = matcher_string(labels)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)
    for name, value in labels.items():
        assert json.loads(quote(value)) == value  # the escapes are a subset of JSON's (and PromQL's)
        assert f"{name}={quote(value)}" in text


@pytest.mark.parametrize("name", ["dark", "light", "high-contrast", "colour-blind-safe", None])
def test_change_marks_read_in_every_bundled_theme_and_without_colour(name):
    """The ▼/▽ glyphs carry the meaning (NO_COLOR: None, no palette at all); a theme only colours them,
    in its own change-mark colour, distinct from the sparkline's ok/breach colours."""
    from oncall_tui.changes import Change
    from oncall_tui.ui import cells
    from oncall_tui.ui.widgets.change_marks import MARK, MARK_AT_OR_AFTER, marks

    variables = dict(bundled()[name].variables) if name else {}
    cells.set_palette(themes.palette(variables) if name else {})
    try:
        row = marks((Change(30.0, "alias", "a"), Change(70.0, "alias", "b", at_or_after=True)), 0.0, 100.0, 10)
        assert row.plain == f"   {MARK}   {MARK_AT_OR_AFTER}  "
        styles = {str(span.style) for span in row.spans}
        if name:
            mark = themes.palette(variables)["change-mark"]
            assert styles == {f"bold {mark}"}
            assert mark not in {themes.palette(variables)["ok"], themes.palette(variables)["error"]}
        else:
            assert all("bold" in s for s in styles)  # still bold, and the glyphs differ from every block
    finally:
        cells.set_palette({})
