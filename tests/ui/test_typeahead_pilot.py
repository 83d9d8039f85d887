"""Keys that arrive in one go, before the screen reacts to the first (ui/typeahead.py), as the terminal
driver delivers a burst: all queued at once. The real-terminal version (tmux, real Alertmanager and
MLflow) is tests/integration/test_typeahead.py."""

from __future__ import annotations

import pytest
from textual import events

from oncall_tui.config import Settings
from oncall_tui.ui.app import MlcallApp
from tests.support.fixed_alerts import FIXED_ALERTS, FixedAlertsSource
from tests.support.ui import status_text, table_rows, wait_for


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def burst(app, text: str) -> None:
    """Queue every key of `text` at once, as a terminal read of one write does ("\\r" is Enter)."""
    names = {"/": "slash", "\r": "enter", " ": "space", "-": "minus", "=": "equals_sign"}
    for ch in text:
        app._driver.send_message(events.Key(names.get(ch, ch), None if ch == "\r" else ch))


async def test_a_burst_after_slash_goes_into_the_filter_and_runs_nothing(tmp_path):
    app = MlcallApp(Settings(audit_log=str(tmp_path / "audit.jsonl"), refresh=300.0),
                    prometheus=FixedAlertsSource())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(table_rows(app)) == 5, what="the fixed alerts")
        box = app.alerts_screen.query_one("#filter")
        burst(app, "/fraud")  # r: runbook, a: ack form, d: diagnose — if they leaked
        await wait_for(pilot, lambda: box.value == "fraud", what="'fraud' in the filter box")
        assert app.screen is app.alerts_screen and box.has_focus
        assert [r[3].strip() for r in table_rows(app)] == ["fraud-detector"]
        box.value = ""
        await pilot.press("escape")
        await wait_for(pilot, lambda: not box.display, what="the box closed")
        burst(app, "/stale\rj")  # s: silence form, enter: its submit — if they leaked; j after enter moves
        await wait_for(pilot, lambda: "filter: stale" in status_text(app) and app.alerts_screen.table.has_focus,
                       what="filtered, the table focused again")
        await pilot.pause()
        assert box.value == "stale" and app.screen is app.alerts_screen
        assert len(app.screen_stack) == 1
        assert all("Staleness" in r[1] for r in table_rows(app)) and len(FIXED_ALERTS) > len(table_rows(app))
