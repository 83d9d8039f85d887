"""`r` on a firing DataDriftDetected alert: the drift runbook, filled in, and a step run for real."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from textual.widgets import Log, Markdown

from oncall_tui.config import Settings
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.screens.runbook import RunbookScreen
from oncall_tui.ui.widgets.confirm import ConfirmModal
from tests.support.ui import table_rows, wait_for

pytestmark = pytest.mark.integration


async def test_r_opens_the_drift_runbook_and_a_step_runs_against_prometheus(stack, tmp_path):
    stack.wait_for_alert("DataDriftDetected", timeout=120)
    audit_path = tmp_path / "audit.jsonl"
    settings = replace(Settings(), alertmanager_urls=tuple(stack.alertmanager_urls),
                       prometheus_url=stack.prometheus_url, refresh=1.0, audit_log=str(audit_path))
    app = MlcallApp(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash", *"alertname=DataDriftDetected", "enter")
        await wait_for(pilot, lambda: [r[1].strip() for r in table_rows(app)] == ["DataDriftDetected"],
                       timeout=60, what="the drift alert alone")
        await pilot.press("r")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, RunbookScreen) and app.screen,
                                what="the runbook screen")
        markdown = "\n".join(m.source for m in screen.query(Markdown))
        assert "churn-predictor" in markdown and "account_age_days" in markdown
        assert "{{" not in markdown
        assert screen.resolution.runbook.name == "data-drift"

        await pilot.press("enter")  # the first runnable step: promtool asks the real Prometheus
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal) and app.screen, what="confirm")
        assert modal.focused.id == "cancel"
        await pilot.click("#confirm")
        log = screen.query_one("#rb-output", Log)
        await wait_for(pilot, lambda: any("account_age_days" in line and "=>" in line for line in log.lines),
                       timeout=60, what="promtool output")
    records = [json.loads(line) for line in audit_path.read_text().splitlines()]
    steps = [r for r in records if r["action"] == "runbook.step"]
    assert [r["phase"] for r in steps] == ["intent", "result"]
    assert steps[0]["id"] == steps[1]["id"] and steps[1]["result"] == "ok"
    assert steps[0]["argv"][:3] == ["promtool", "query", "instant"]
