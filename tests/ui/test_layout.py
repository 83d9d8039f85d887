"""The alerts screen uses its space (issue 11): the table is as tall as its rows (at most half the
screen), the panels get the rest; at 120×40 the alert detail, Signals, Model and Deployment are all on
screen without a key (a 2×2 grid); at 200×50 side by side; at 80×24 folded, `v` cycles. Snapshots are
deterministic (fixed alerts, no start times, frozen status-bar clock, no network)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from oncall_tui.config import Settings
from oncall_tui.models import utcnow
from oncall_tui.ui import cells
from oncall_tui.ui.app import AGE_EVERY, MlcallApp
from oncall_tui.ui.widgets import alert_table
from tests.support.fixed_alerts import FIXED_ALERTS, FixedAlertsSource, freeze_clock
from tests.support.ui import detail_text, status_text, wait_for

FOUR = tuple(a for a in FIXED_ALERTS if a.fingerprint in {"fp1", "fp2", "fp4", "fp5"})  # four rows
PANELS = ("detail", "signal-panel", "model-panel", "deployment-panel")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    freeze_clock(monkeypatch)


def make_app(tmp_path, alerts=FOUR) -> MlcallApp:
    settings = Settings(audit_log=str(tmp_path / "audit.jsonl"), refresh=300.0, timeout=5.0)
    return MlcallApp(settings, prometheus=FixedAlertsSource(tuple(alerts)))


def rows_shown(app, count: int):
    tables = app.alerts_screen.query("AlertTable")
    return bool(tables) and tables.first().row_count == count


def on_screen(app) -> dict[str, tuple[int, int]]:
    """Panels that take room on screen: id → (width, height)."""
    row = app.alerts_screen.query_one("#detail-row")
    return {w.id: (w.region.width, w.region.height) for w in row.children if w.display and w.region.area}


def layout_settled(app, rows: int):
    def check():
        table = app.alerts_screen.table
        return rows_shown(app, rows) and table.region.height == rows + 1 + (table.show_horizontal_scrollbar or 0)
    return check


async def test_120x40_four_alerts_every_panel_visible_without_a_key(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: rows_shown(app, 4) and len(on_screen(app)) == 4, what="four rows, four panels")
        await pilot.pause()
        shown = on_screen(app)
        assert set(shown) == set(PANELS)
        assert all(width >= 50 and height >= 12 for width, height in shown.values()), shown
        table = app.alerts_screen.table
        assert table.region.height <= 7  # header + four rows (+ a scrollbar), not half the screen
        assert not app.screen.active_bindings.get("v") or not app.screen.check_action("next_panel", ())
        assert status_text(app).endswith("4 alerts")


async def test_a_silence_joins_the_grid_below_the_four_panels(tmp_path):
    silenced = replace(FIXED_ALERTS[0], silenced_by=("s-1",))
    app = make_app(tmp_path, alerts=(silenced, *FOUR[1:]))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "silence-info" in on_screen(app) and len(on_screen(app)) == 5,
                       what="the silence panel with the other four")
        shown = on_screen(app)
        assert shown["silence-info"][0] >= 100 and all(shown[p][1] >= 8 for p in PANELS), shown


async def test_many_alerts_keep_the_table_at_half_the_screen(tmp_path):
    many = tuple(replace(FIXED_ALERTS[0], fingerprint=f"fp-{i}", labels={**FIXED_ALERTS[0].labels,
                                                                          "alertname": f"Alert{i:02d}"})
                 for i in range(30))
    app = make_app(tmp_path, alerts=many)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: rows_shown(app, 30), what="thirty rows")
        await pilot.pause()
        main = app.alerts_screen.query_one("#main").region.height
        assert app.alerts_screen.table.region.height <= main // 2 + 1
        assert set(on_screen(app)) == set(PANELS)


async def test_one_alert_is_one_alert_and_its_age_moves(tmp_path, monkeypatch):
    started = utcnow() - timedelta(minutes=3)
    one = (replace(FIXED_ALERTS[0], starts_at=started),)
    app = make_app(tmp_path, alerts=one)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: rows_shown(app, 1) and "ago)" in detail_text(app), what="the alert")
        assert status_text(app).endswith("1 alert")
        assert "(3m ago)" in detail_text(app)
        later = started + timedelta(minutes=13)
        monkeypatch.setattr(cells, "utcnow", lambda: later)  # the detail's clock
        monkeypatch.setattr(alert_table, "utcnow", lambda: later)  # the Age column's
        for _ in range(AGE_EVERY):  # the app's one-second tick
            app._tick()
        await wait_for(pilot, lambda: "(13m ago)" in detail_text(app), what="the detail's age moving")
        assert "13m" in [str(c) for c in app.alerts_screen.table.get_row_at(0)]


async def test_80x24_folds_and_v_cycles_the_four_panels(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: rows_shown(app, 4) and list(on_screen(app)) == ["detail"], what="folded")
        seen = []
        for _ in range(4):
            seen.append(next(iter(on_screen(app))))
            await pilot.press("v")
            await wait_for(pilot, lambda: next(iter(on_screen(app))) != seen[-1], what="the next panel")
        assert seen == list(PANELS) and list(on_screen(app)) == ["detail"]  # and round again


# -- snapshots -------------------------------------------------------------------------------------
def test_snapshot_120x40_four_alerts(snap_compare, tmp_path):
    app = make_app(tmp_path)

    async def ready(pilot):
        await wait_for(pilot, lambda: rows_shown(app, 4) and len(on_screen(app)) == 4, what="four panels")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=ready)


def test_snapshot_200x50(snap_compare, tmp_path):
    app = make_app(tmp_path)

    async def ready(pilot):
        await wait_for(pilot, lambda: rows_shown(app, 4) and len(on_screen(app)) == 4, what="four panels")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(200, 50), run_before=ready)


@pytest.mark.parametrize("presses", [0, 1])
def test_snapshot_80x24_folded(snap_compare, tmp_path, presses):
    app = make_app(tmp_path)

    async def ready(pilot):
        await wait_for(pilot, lambda: rows_shown(app, 4) and len(on_screen(app)) == 1, what="folded")
        for _ in range(presses):
            await pilot.press("v")
        await wait_for(pilot, lambda: list(on_screen(app)) == [PANELS[presses]], what=PANELS[presses])
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)
