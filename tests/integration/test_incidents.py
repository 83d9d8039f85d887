"""Incidents against the real servers: the timeline of an alert that fires, is silenced with a reason, has a
runbook step run and resolves; `report --since 1h` recomputed from the raw ALERTS series; Prometheus'
pending → firing → inactive on the timeline."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from textual.widgets import DataTable, Log

from oncall_tui.cli import main as cli_main
from oncall_tui.incidents.history import episodes, runs, union
from oncall_tui.models import Alert
from oncall_tui.stack.processes import wait_until
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.incidents_ui import IncidentsUI
from oncall_tui.ui.screens.incident import IncidentScreen
from oncall_tui.ui.screens.runbook import RunbookScreen
from oncall_tui.ui.widgets.confirm import ConfirmModal
from tests.support.silencing import USER, audit_records, form, open_alert, settings, silences_in
from tests.support.ui import plain, post_alerts, wait_for

pytestmark = pytest.mark.integration
SIZE = (120, 40)
POLL = 1.0  # the app's refresh: resolutions are seen within one poll
SLACK = 1.5  # scheduling on a loaded 2-core machine
EVIL = "[@click=app.quit]q[/] \x1b]52;c;aGk=\x07 `x`"  # markup, an OSC 52 clipboard write, a backtick
SENTINEL = "SENTINEL-TOKEN-7f3a"


def now() -> datetime:
    return datetime.now(timezone.utc)


def timeline_rows(screen: IncidentScreen) -> list[list[str]]:
    table = screen.query_one("#in-events", DataTable)
    return [[plain(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_timeline_of_an_alert_silenced_with_a_reason_a_step_run_and_resolved(stack, tmp_path):
    tag = uuid.uuid4().hex[:8]
    am = stack.alertmanager_urls[0]
    started = (now() - timedelta(seconds=90)).replace(microsecond=0)
    alert = {"labels": {"alertname": "DataDriftDetected", "severity": "critical", "component": "data",
                        "model": f"m-{tag}", "feature": "f1", "note": EVIL},
             "annotations": {"summary": "KS above 0.15 [red]x[/]",
                             "runbook_url": f"https://rb.invalid/data-drift.md?token={SENTINEL}"},
             "startsAt": started.isoformat()}
    post_alerts(am, [alert])
    audit = tmp_path / "audit.jsonl"
    app = MlcallApp(replace(settings(am, audit), prometheus_url=stack.prometheus_url, refresh=POLL))
    launched = now()
    async with app.run_test(size=SIZE) as pilot:
        await open_alert(pilot, app, tag)
        seen_by = now()
        reason = f"known drift {tag}"
        await pilot.press("s")
        await wait_for(pilot, lambda: form(app), what="the silence form")
        await pilot.click("#c-known-issue")  # dismiss vs. resolve: the category goes to the audit record
        app.screen.query_one("#reason").focus()
        before_silence = now()
        await pilot.press(*reason, "enter")
        await wait_for(pilot, lambda: form(app) is None, what="the form to close")
        after_silence = now()

        await pilot.press("r")
        runbook = await wait_for(pilot, lambda: isinstance(app.screen, RunbookScreen) and app.screen, what="runbook")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="confirm the step")
        before_step = now()
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: any(r.get("action") == "runbook.step" and r["phase"] == "result"
                                          for r in audit_records(audit)), timeout=60, what="the step's result")
        after_step = now()
        assert runbook.query_one("#rb-output", Log).lines
        await pilot.press("escape")

        await pilot.press("i")
        screen = await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen, what="timeline")
        await wait_for(pilot, lambda: screen.timeline is not None, what="the timeline loaded")
        post_alerts(am, [{**alert, "endsAt": now().isoformat()}])  # resolved
        resolved = now()
        await wait_for(pilot, lambda: screen.timeline and screen.timeline.resolved_at, timeout=30, what="resolved")
        t = screen.timeline
        kinds = [e.kind for e in t.events]
        assert kinds == ["start", "seen", "silence", "runbook", "step", "resolved"], kinds
        assert t.starts_at == started
        by_kind = {e.kind: e for e in t.events}
        assert launched <= by_kind["seen"].at <= seen_by
        silence = by_kind["silence"]
        assert silence.reason == reason and silence.actor == USER and silence.category == "known-issue"
        assert before_silence <= silence.at <= after_silence
        assert before_step <= by_kind["step"].at <= after_step and by_kind["step"].result == "ok"
        # MTTA: start → the silence in force; MTTR: start → the poll that saw it gone
        assert abs(t.mtta - (silence.at - started)) < timedelta(seconds=0.01)
        assert before_silence - started <= t.mtta <= after_silence - started
        assert resolved - started <= t.mttr <= resolved - started + timedelta(seconds=POLL + SLACK)
        rows = await wait_for(pilot, lambda: len(timeline_rows(screen)) == 6 and timeline_rows(screen),
                              what="six rows on screen")
        assert [r[1] for r in rows] == [t.relative(e.at) for e in t.events]
        assert rows[0][1] == "+0m00s" and rows[2][1] == t.relative(silence.at)
        assert reason in rows[2][4] and USER in rows[2][3] and "Resolved" in rows[5][2]
        assert "MTTA" in plain(screen.query_one("#in-summary").content)

        await pilot.press("w")
        await wait_for(pilot, lambda: screen.saved is not None, what="the note saved")
        note = screen.saved.read_text()
    assert "`KS above 0.15 [red]x[/]`" in note and reason in note and "## Timeline" in note
    assert "`` note=[@click=app.quit]q[/]  `x` ``" in note  # inert: a code span, the escape sequence gone
    assert SENTINEL not in note and "\x1b" not in note and "\x07" not in note
    assert "https://rb.invalid/data-drift.md?token=<secret>" in note
    made = silences_in(am, tag)
    records = [r for r in audit_records(audit) if r["action"] == "silence.create" and r["phase"] == "intent"]
    assert len(made) == 1 and records[0]["category"] == "known-issue"


def raw_firing(stack, key: tuple[str, str], window: str = "1h") -> list[tuple[float, float]]:
    """Firing runs of one alert from the raw ALERTS samples (the rules evaluate every second)."""
    body = httpx.get(f"{stack.prometheus_url}/api/v1/query",
                     params={"query": f'ALERTS{{alertstate="firing",alertname="{key[0]}",model="{key[1]}"}}[{window}]'},
                     timeout=10).json()
    stamps = [float(t) for s in body["data"]["result"] for t, _ in s["values"]]
    return [(a, b + 1.0) for a, b in runs(stamps, 1.0)]  # each evaluation stands for one interval


async def test_report_since_1h_matches_the_raw_alerts_series_and_folds_a_flap(stack, tmp_path, capsys):
    key = ("ModelStalenessHigh", "recsys-ranker")
    service = stack.model_service

    def firing() -> bool:
        return bool(stack.query(f'ALERTS{{alertstate="firing",alertname="{key[0]}",model="{key[1]}"}}'))

    try:
        for _flap in range(2):  # fire, stop, fire again within the flap gap: one incident, two runs
            service.set_incident(key[1], "stale")
            wait_until(firing, timeout=60, what="the stale alert firing")
            wait_until(lambda: stack.query(f'count_over_time(ALERTS{{alertstate="firing",alertname="{key[0]}",'
                                           f'model="{key[1]}"}}[1m]) >= 3'), timeout=30, what="3 s of firing")
            service.set_incident(key[1], "stale", on=False)
            wait_until(lambda: not firing(), timeout=30, what="the stale alert gone")
    finally:
        service.set_incident(key[1], "stale", on=False)
    # over at the report's resolution: no firing sample in the last 3 evaluations
    wait_until(lambda: not stack.query(f'count_over_time(ALERTS{{alertstate="firing",alertname="{key[0]}",'
                                       f'model="{key[1]}"}}[3s])'), timeout=30, what="3 s without firing")

    audit = tmp_path / "audit.jsonl"
    code = await asyncio.to_thread(cli_main, ["report", "--since", "1h", "--json", "--min-step", "1s", "--prometheus", stack.prometheus_url,
                     "--audit-log", str(audit)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["step_seconds"] == 1.0
    rows = {(r["alertname"], r["model"]): r for r in out["rules"]}
    raw = union(raw_firing(stack, key), 1.0)
    mine = rows[key]
    assert len(raw) >= 2 and mine["runs"] == len(raw)
    assert mine["fired"] == len(episodes(raw, 300)) == 1  # the flap counts once
    assert abs(mine["firing_seconds"] - sum(b - a for a, b in raw)) <= 2.0 * len(raw)
    (incident,) = mine["incidents"]
    assert abs(incident["ttr_seconds"] - (raw[-1][1] - raw[0][0])) <= 2.0
    # a steadily firing alert of the default scenario: one incident, still open, as long as its raw series
    drift = rows[("DataDriftDetected", "churn-predictor")]
    raw_drift = union(raw_firing(stack, ("DataDriftDetected", "churn-predictor")), 1.0)
    assert drift["fired"] == len(episodes(raw_drift, 300)) and drift["mttr"] is None
    assert abs(drift["firing_seconds"] - sum(b - a for a, b in raw_drift)) <= 3.0 * len(raw_drift)

    # the same history on the incident timeline: pending → firing → inactive, twice, in order
    first = datetime.fromtimestamp(raw[0][0], timezone.utc)
    ui = IncidentsUI(replace(settings(stack.alertmanager_urls[0], audit), prometheus_url=stack.prometheus_url),
                     app_audit(audit), silences=lambda: ())
    labels = {"alertname": key[0], "model": key[1], "severity": "warning", "component": "model"}
    t = await ui.timeline([Alert("x", labels, starts_at=first)])
    marks = [(e.kind, e.at.timestamp()) for e in t.events if e.kind in ("pending", "firing", "inactive")]
    assert [k for k, _ in marks] == ["pending", "firing", "inactive"] * 2, marks
    assert abs(marks[1][1] - raw[0][0]) <= 1.5 and abs(marks[4][1] - raw[1][0]) <= 1.5
    assert 4 <= marks[1][1] - marks[0][1] <= 7  # the fast stack's `for: 5s`


def app_audit(path):
    from oncall_tui.actions.audit import AuditLog

    return AuditLog(path, USER)


def test_report_markdown_and_table_outputs(stack, tmp_path, capsys):
    audit = tmp_path / "audit.jsonl"
    assert cli_main(["report", "--since", "1h", "--markdown", "--min-step", "1s",
                     "--prometheus", stack.prometheus_url, "--audit-log", str(audit)]) == 0
    md = capsys.readouterr().out
    assert "| `DataDriftDetected` | `churn-predictor` |" in md
    assert cli_main(["report", "--since", "1h", "--min-step", "1s", "--prometheus", stack.prometheus_url,
                     "--audit-log", str(audit)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split()[:3] == ["alert", "model", "fired"] and "DataDriftDetected" in text
