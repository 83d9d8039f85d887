"""`i` without servers: the key is in the help, the timeline screen opens for the highlighted alert, a drill
alert is marked DRILL in the table, detail and timeline, and `e` (end drill) exists only for drills and
never in read-only mode."""

from __future__ import annotations

from dataclasses import replace

import pytest

from oncall_tui.config import Settings
from oncall_tui.models import Alert, AlertState
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.screens.help import HelpScreen, binding_rows
from oncall_tui.ui.screens.incident import IncidentScreen
from tests.support.fixed_alerts import FIXED_ALERTS, FixedAlertsSource
from tests.support.ui import detail_text, plain, table_rows, wait_for

DRILL = Alert("fpd", {"alertname": "DataDriftDetected", "severity": "critical", "component": "data",
                      "model": "churn-predictor", "feature": "account_age_days", "drill": "true"},
              {"summary": "drill [b]x[/b]", "drill_id": "d1"}, state=AlertState.FIRING, source="prometheus")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def make_app(tmp_path, read_only: bool = False) -> MlcallApp:
    settings = replace(Settings(), audit_log=str(tmp_path / "audit.jsonl"), refresh=300.0, read_only=read_only)
    return MlcallApp(settings, prometheus=FixedAlertsSource((*FIXED_ALERTS, DRILL)))


async def drill_row(pilot, app) -> int:
    rows = await wait_for(pilot, lambda: len(table_rows(app)) > 5 and table_rows(app), what="alerts")
    (index,) = [i for i, r in enumerate(rows) if "DRILL" in r[1]]
    assert not any("DRILL" in r[1] for i, r in enumerate(rows) if i != index)  # its own row
    app.alerts_screen.table.move_cursor(row=index)
    await pilot.pause()
    return index


async def test_i_is_in_the_help_and_opens_the_drill_timeline_with_end_drill(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await drill_row(pilot, app)
        assert "DRILL" in detail_text(app) and "rollbacks are refused" in detail_text(app)
        assert any(r[0] == "i" and r[1] == "Incident" and r[4] == "alerts.incident"
                   for r in binding_rows(app.alerts_screen))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("escape")
        await pilot.press("i")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen, what="timeline")
        await wait_for(pilot, lambda: screen.timeline is not None, what="loaded")
        assert "DRILL" in plain(screen.query_one("#in-title").content)
        assert "drill [b]x[/b]" in plain(screen.query_one("#in-summary").content)  # literal, not markup
        assert "e" in screen.active_bindings and screen.active_bindings["e"].enabled


@pytest.mark.parametrize(("read_only", "on_drill"), [(False, False), (True, True)])
async def test_end_drill_is_absent_for_real_alerts_and_in_read_only_mode(tmp_path, read_only, on_drill):
    app = make_app(tmp_path, read_only=read_only)
    async with app.run_test(size=(120, 40)) as pilot:
        index = await drill_row(pilot, app)
        if not on_drill:
            app.alerts_screen.table.move_cursor(row=0 if index else 1)
            await pilot.pause()
        await pilot.press("i")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen, what="timeline")
        await wait_for(pilot, lambda: screen.timeline is not None, what="loaded")
        assert screen.timeline.drill is on_drill
        assert screen.resolve is None and not screen.check_action("end_drill", ())


async def test_capital_i_lists_the_session_incidents_and_enter_opens_a_timeline(tmp_path):
    from oncall_tui.ui.screens.session_incidents import SessionIncidentsScreen

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await drill_row(pilot, app)
        await pilot.press("I")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, SessionIncidentsScreen) and app.screen,
                                what="the session's incidents")
        table = screen.query_one("#si-table")
        rows = [[plain(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert len(rows) == len(FIXED_ALERTS) + 1 and all(r[0] == "open" for r in rows)
        assert sum("DRILL" in r[1] for r in rows) == 1
        await pilot.press("enter")
        timeline = await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen,
                                  what="a timeline")
        await wait_for(pilot, lambda: timeline.timeline is not None, what="loaded")
        assert timeline.timeline.name == screen.rows[0][0].name


def test_first_seen_survives_pending_to_firing_and_resolution_needs_a_readable_alertmanager():
    from datetime import datetime, timedelta, timezone

    from oncall_tui.ui.incidents_ui import IncidentsUI

    t0 = datetime(2026, 12, 3, 3, 0, tzinfo=timezone.utc)
    labels = {"alertname": "DataDriftDetected", "model": "churn"}
    pending = Alert("prom-fp", labels, state=AlertState.PENDING, source="prometheus")
    firing = Alert("am-fp", labels)
    ui = IncidentsUI(Settings(), None, silences=lambda: ())
    ui.observe([pending], now=t0)
    ui.observe([firing], now=t0 + timedelta(seconds=30))
    assert list(ui.tracked) == ["am-fp"] and ui.tracked["am-fp"].first_seen == t0
    ui.observe([], blind={""}, now=t0 + timedelta(seconds=40))
    assert ui.tracked["am-fp"].resolved_at is None  # Alertmanager down: nothing is known to be resolved
    ui.observe([], now=t0 + timedelta(seconds=50))
    assert ui.tracked["am-fp"].resolved_at == t0 + timedelta(seconds=50)
    ui.observe([firing], now=t0 + timedelta(seconds=60))
    assert ui.tracked["am-fp"].resolved_at is None and ui.tracked["am-fp"].first_seen == t0
