"""While the filter is typed, the detail and the panels wait for a pause before following the highlighted
alert (a keystroke redraws the table, not four panels for rows only passed through); Enter makes them
follow at once, so an action on the alert never sees a stale panel."""

from __future__ import annotations

from dataclasses import replace

import pytest

from oncall_tui.config import Settings
from oncall_tui.ui.app import MlcallApp
from tests.support.fixed_alerts import FixedAlertsSource
from tests.support.ui import detail_text, table_rows, wait_for


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


async def test_panels_follow_after_a_pause_in_typing_and_at_once_on_enter(tmp_path):
    settings = replace(Settings(), audit_log=str(tmp_path / "audit.jsonl"), refresh=300.0)
    app = MlcallApp(settings, prometheus=FixedAlertsSource())
    followed = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.highlight_listeners.append(followed.append)
        screen = app.alerts_screen
        await wait_for(pilot, lambda: len(table_rows(app)) >= 5, what="the alerts")
        await wait_for(pilot, lambda: "ModelInferenceLatenessHigh" in detail_text(app), what="the top alert's detail")

        screen.follow_after_typing = 600.0  # a slow typist (and a loaded machine) never pauses here
        await pilot.press("slash", *"job")  # the training alert only
        await wait_for(pilot, lambda: len(table_rows(app)) == 1, what="one row left")
        assert "ModelInferenceLatenessHigh" in detail_text(app)  # still typing: the panels have not moved
        assert not followed or followed[-1].name != "TrainingJobFailed"
        await pilot.press("enter")
        assert "TrainingJobFailed" in detail_text(app)  # on Enter at once, no pause needed
        assert followed[-1].name == "TrainingJobFailed"

        screen.follow_after_typing = 0.15
        await pilot.press("slash", *["backspace"] * 3, *"stale")  # pause in typing: the panels catch up
        await wait_for(pilot, lambda: "ModelStalenessHigh" in detail_text(app), what="the panels after the pause")
        assert followed[-1].name == "ModelStalenessHigh"
