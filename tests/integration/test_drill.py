"""A fire drill end to end: `mlcall-tui drill` (a real process) posts to a real Alertmanager, the TUI shows
DRILL and refuses a rollback, the engineer acks, opens the runbook and ends the drill on the timeline; the
drill command sees it, resolves the alert and its report has the times the test measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import httpx
import pytest

from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.screens.incident import IncidentScreen
from oncall_tui.ui.screens.rollback import RollbackChooser
from oncall_tui.ui.screens.runbook import RunbookScreen
from oncall_tui.ui.widgets.confirm import ConfirmModal
from tests.support.silencing import audit_records, form, settings
from tests.support.ui import detail_text, plain, table_rows, wait_for

pytestmark = pytest.mark.integration
SIZE = (120, 40)
POLL = 0.5  # the drill command's poll
SLACK = 1.5


def now() -> datetime:
    return datetime.now(timezone.utc)


def drill_alerts(am: str, drill_id: str = "") -> list[dict]:
    body = httpx.get(f"{am}/api/v2/alerts", params={"filter": 'drill="true"'}, timeout=10).json()
    return [a for a in body if not drill_id or a["annotations"].get("drill_id") == drill_id]


async def test_drill_is_marked_refuses_rollback_and_ends_with_ack_and_resolve(bare_am, tmp_path):
    audit = tmp_path / "audit.jsonl"
    report = tmp_path / "drill.md"
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    argv = [sys.executable, "-m", "oncall_tui.cli", "drill", "--scenario", "drift", "--alertmanager", bare_am,
            "--audit-log", str(audit), "--repost", "2s", "--poll", "0.5s", "--time-limit", "3m",
            "--report", str(report), "--user", "drill-lead@jump"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        app = MlcallApp(settings(bare_am, audit))
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.press("slash", *"drill=true", "enter")
            rows = await wait_for(pilot, lambda: len(table_rows(app)) == 1 and table_rows(app), timeout=60,
                                  what="the drill alert")
            assert "DRILL" in rows[0][1] and "DataDriftDetected" in rows[0][1] and rows[0][3] == "churn-predictor"
            assert "DRILL" in detail_text(app) and "ml-drills" in detail_text(app)  # routed to its own receiver
            looks = await wait_for(pilot, lambda: [r for r in audit_records(audit) if r["action"] == "drill.look"],
                                   what="the first look noted")
            (posted,) = drill_alerts(bare_am, looks[0]["target"]["drill_id"])
            assert [r["name"] for r in posted["receivers"]] == ["ml-drills"]
            assert posted["annotations"]["summary"].startswith("Input feature account_age_days of churn-predictor")

            await pilot.press("R")  # production is never touched for a synthetic alert
            await wait_for(pilot, lambda: any("rollbacks are refused" in str(n.message) for n in app._notifications),
                           what="the refusal")
            assert not isinstance(app.screen, RollbackChooser)

            await pilot.press("a")
            await wait_for(pilot, lambda: form(app), what="the ack form")
            assert app.screen.category() == "drill"  # a drill's silence is categorised as such by default
            before_ack = now()
            await pilot.press(*"drill: on it", "enter")
            await wait_for(pilot, lambda: form(app) is None, what="the ack written")
            after_ack = now()

            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, RunbookScreen), what="the runbook")
            await pilot.press("escape")

            await pilot.press("i")
            screen = await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen,
                                    what="the timeline")
            await wait_for(pilot, lambda: screen.timeline is not None, what="loaded")
            assert "DRILL" in plain(screen.query_one("#in-title").content)
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="confirm the end")
            before_resolve = now()
            await pilot.click("#confirm")
            await wait_for(pilot, lambda: any(r["action"] == "drill.resolve" for r in audit_records(audit)),
                           what="resolve noted")
            after_resolve = now()
            await wait_for(pilot, lambda: proc.poll() is not None, timeout=60, what="the drill command to finish")
            # the drill resolved its alert in Alertmanager: it leaves the screen; the timeline says resolved
            await wait_for(pilot, lambda: screen.timeline and screen.timeline.resolved_at, timeout=30,
                           what="the drill resolved on the timeline")
        output = proc.stdout.read()
        assert proc.returncode == 0, output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = json.loads(report.with_suffix(".json").read_text())
    started = datetime.fromisoformat(result["started"].replace("Z", "+00:00"))
    (a,) = result["alerts"]
    look_at = datetime.fromisoformat(looks[0]["ts"])
    assert abs(a["time_to_first_look"] - (look_at - started).total_seconds()) < 0.01
    assert (before_ack - started).total_seconds() - SLACK <= a["time_to_ack"] <= (after_ack - started).total_seconds()
    assert a["acknowledged_by"] == "oncall-tester@jump-1" and a["ack_comment"] == "ACK: drill: on it"
    assert a["runbook_opened"] is True and a["steps_run"] == []
    assert (before_resolve - started).total_seconds() <= a["time_to_resolve"] <= (after_resolve - started).total_seconds()
    assert result["timed_out"] is False and "first look" in report.read_text()
    assert drill_alerts(bare_am, result["drill_id"]) == []  # resolved in Alertmanager
    ack = [r for r in audit_records(audit) if r["action"] == "silence.ack" and r["phase"] == "intent"]
    assert ack[0]["category"] == "drill"
