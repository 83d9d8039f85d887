"""Themes and terminal ergonomics driven through the real app with Pilot: a user theme and keymap from a
config dir, the remembered palette choice, the generated help, the danger profile on every screen and
dialog, small terminals, vim keys, and `y`. No network: the alerts come through the normal poll loop."""

from __future__ import annotations

import tomllib

import pytest
from rich.text import Text

from oncall_tui import config
from oncall_tui.config import Settings
from oncall_tui.models import Alert
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.profile import ProfileBanner
from oncall_tui.ui.screens.help import HelpScreen, binding_rows
from oncall_tui.ui.themes import state_file
from oncall_tui.ui.widgets.confirm import ConfirmModal
from tests.support.fixed_alerts import FIXED_ALERTS, FixedAlertsSource
from tests.support.ui import wait_for

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for var in ("MLCALL_CONFIG", "MLCALL_PROFILE", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)


def make_app(tmp_path, alerts=FIXED_ALERTS, settings: Settings | None = None, **kw) -> MlcallApp:
    settings = settings or Settings(**kw)
    from dataclasses import replace

    settings = replace(settings, audit_log=str(tmp_path / "audit.jsonl"), refresh=300.0, timeout=5.0)
    return MlcallApp(settings, prometheus=FixedAlertsSource(tuple(alerts)))


async def rows_shown(pilot, app) -> None:
    await wait_for(pilot, lambda: app.alerts_screen.query("AlertTable")
                   and app.alerts_screen.table.row_count > 0, what="alerts on screen")
    await pilot.pause()


def span_styles(cell: Text) -> str:
    return " ".join(str(span.style) for span in cell.spans)


async def test_a_user_theme_and_keymap_from_the_config_dir(tmp_path):
    home = config.config_dir()
    (home / "themes").mkdir(parents=True)
    (home / "themes" / "nord-night.toml").write_text(
        'primary = "#88C0D0"\nbackground = "#2E3440"\nforeground = "#ECEFF4"\n'
        '[variables]\nsev-critical = "#BF616A"\nsev-warning = "#EBCB8B"\n', encoding="utf-8")
    (home / "config.toml").write_text('theme = "nord-night"\n[keys]\n"alerts.copy-matcher" = "c"\n'
                                      '"alerts.filter" = "f"\n"nav.down" = "n"\n', encoding="utf-8")
    settings = config.load({}, env={})
    assert settings.theme == "nord-night" and config.keymap(settings)["alerts.copy-matcher"] == "c"
    app = make_app(tmp_path, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await rows_shown(pilot, app)
        assert app.theme == "nord-night"
        first = app.alerts_screen.table.get_row_at(0)
        assert first[0].plain == "▲ CRIT" and "#BF616A" in span_styles(first[0])  # the user's colour
        await pilot.press("c")
        assert app.clipboard.startswith('{alertname="ModelInferenceLatenessHigh"')
        await pilot.press("n", "y")  # n moves down now; y no longer copies
        assert app.alerts_screen.table.cursor_row == 1
        assert "ModelInferenceLatenessHigh" in app.clipboard
        await pilot.press("slash")
        assert not app.alerts_screen.query_one("#filter").display
        await pilot.press("f")
        await wait_for(pilot, lambda: app.alerts_screen.query_one("#filter").has_focus, what="filter on f")
        await pilot.press("escape", "escape", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        rows = {r[4]: r[0] for r in app.screen.rows}
        assert rows["alerts.filter"] == "f" and rows["alerts.copy-matcher"] == "c" and rows["nav.down"] == "n"


async def test_a_mistyped_keymap_id_is_reported(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[keys]\n"alerts.silense" = "x"\n', encoding="utf-8")
    app = make_app(tmp_path, settings=config.load({"config": str(path)}, env={}))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any("alerts.silense" in str(n.message) for n in app._notifications),
                       what="a warning naming the unknown id")


async def test_the_palette_theme_switch_is_remembered_and_redraws_the_cells(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await rows_shown(pilot, app)
        assert app.theme == "dark" and not state_file().exists()
        before = span_styles(app.alerts_screen.table.get_row_at(0)[0])
        await pilot.press("ctrl+p", *"theme", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="theme picker")
        await pilot.press(*"high-contrast")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.theme == "high-contrast", what="the theme to change")
        await wait_for(pilot, lambda: state_file().exists(), what="state.toml")
        assert tomllib.loads(state_file().read_text())["theme"] == "high-contrast"
        await wait_for(pilot, lambda: span_styles(app.alerts_screen.table.get_row_at(0)[0]) != before,
                       what="the severity cell in the new theme's colour")
        assert app.theme_variables["sev-critical"] in span_styles(app.alerts_screen.table.get_row_at(0)[0])
    again = make_app(tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "high-contrast"
    flagged = make_app(tmp_path, theme="light")  # --theme wins over the remembered choice
    async with flagged.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert flagged.theme == "light"


async def test_an_unknown_theme_is_reported_and_the_app_still_starts(tmp_path):
    app = make_app(tmp_path, theme="no-such-theme")
    async with app.run_test(size=SIZE) as pilot:
        await rows_shown(pilot, app)
        assert app.theme == "dark"
        assert any("no theme 'no-such-theme'" in str(n.message) for n in app._notifications)


async def test_help_is_generated_from_the_active_bindings(tmp_path):
    app = make_app(tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await rows_shown(pilot, app)
        expected = binding_rows(app.alerts_screen)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        help_screen = app.screen
        assert help_screen.rows == expected
        ids = {r[4] for r in expected}
        assert {"alerts.filter", "alerts.copy-matcher", "alerts.expand", "alerts.help", "nav.page-down"} <= ids
        assert "nav.down" not in ids  # shadowed by the table's own j: only the key that acts is listed
        assert "alerts.silence" not in ids  # read-only: the action does not exist, so neither does its row
        table = help_screen.query_one("DataTable")
        assert table.row_count >= len(expected)
        start = table.cursor_row
        await pilot.press("j", "j")  # vim keys on a screen that binds none itself
        assert table.cursor_row == start + 2
        await pilot.press("k")
        assert table.cursor_row == start + 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.alerts_screen, what="back to the alerts")


async def test_a_danger_profile_marks_every_screen_and_dialog(tmp_path):
    app = make_app(tmp_path, profile="prod", danger=True)
    async with app.run_test(size=SIZE) as pilot:
        await rows_shown(pilot, app)
        title = app.alerts_screen.query_one("#title")
        assert app.alerts_screen.has_class("danger") and "⚠ PROFILE prod" in title.content.plain
        assert not app.alerts_screen.query(ProfileBanner)  # its own title bar turns red instead
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen.query(ProfileBanner),
                       what="the banner on the help screen")
        assert "⚠ PROFILE prod" in app.screen.query_one(ProfileBanner).content.plain
        await pilot.press("escape")
        app.push_screen(ConfirmModal("Expire this silence?", Text("body"), "Expire", danger=True))
        await wait_for(pilot, lambda: app.screen.query(".danger-dialog"), what="the dialog marked danger")
        dialog = app.screen.query_one(".danger-dialog")
        assert dialog.id == "dialog" and "prod" in str(dialog.border_title)
        assert app.screen.focused.id == "cancel"  # still opens on Cancel


async def test_a_profile_without_danger_looks_normal(tmp_path):
    app = make_app(tmp_path, profile="staging")
    async with app.run_test(size=SIZE) as pilot:
        await rows_shown(pilot, app)
        app.push_screen(ConfirmModal("Expire?", Text("body"), "Expire"))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="dialog")
        await pilot.pause()
        assert not app.screen.query(".danger-dialog") and not app.alerts_screen.has_class("danger")


def shown_panels(app) -> list[str]:
    return [w.id for w in app.alerts_screen.query_one("#detail-row").children if w.display and w.size.width > 0]


async def test_80x24_folds_the_panels_and_keeps_the_columns_that_matter(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await rows_shown(pilot, app)
        assert app.has_class("-narrow") and app.has_class("-short")
        await wait_for(pilot, lambda: shown_panels(app) == ["detail"], what="only the alert detail shown")
        row = app.alerts_screen.query_one("#detail-row")
        assert str(row.border_title).startswith("Alert 1/")
        table = app.alerts_screen.table
        keys = [k.value for k in table.columns]
        width = sum(table.columns[k].get_render_width(table) for k in table.columns if k.value != "summary")
        assert keys.index("age") < keys.index("summary") and width <= 80 - 2  # room for the scrollbar
        await pilot.press("v")
        await wait_for(pilot, lambda: shown_panels(app) and shown_panels(app) != ["detail"], what="next panel")
        assert len(shown_panels(app)) == 1
        await pilot.resize_terminal(200, 50)
        await wait_for(pilot, lambda: not app.has_class("-narrow") and len(shown_panels(app)) >= 3,
                       what="panels side by side")
        assert row.border_title is None and table.columns[next(iter(table.columns))].width == 6


async def test_y_copies_a_properly_escaped_matcher(tmp_path):
    hostile = Alert("fpx", {"alertname": "Drift[/]", "model": 'a"b\\c', "note": "line1\nline2\x1b]52;c;QQ==\x07",
                            "severity": "critical"}, state=FIXED_ALERTS[0].state, source="prometheus")
    app = make_app(tmp_path, alerts=[hostile])
    async with app.run_test(size=SIZE) as pilot:
        await rows_shown(pilot, app)
        await pilot.press("y")
        assert app.clipboard == ('{alertname="Drift[/]",model="a\\"b\\\\c",'
                                 'note="line1\\nline2\\u001b]52;c;QQ==\\u0007",severity="critical"}')
        assert app.is_running  # the notification showing it did not read "[/]" as markup
