"""The alerts screen driven with Pilot against a real Alertmanager (and fakes for broken answers)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from oncall_tui.config import Settings
from oncall_tui.stack import LocalStack
from oncall_tui.ui.app import MlcallApp
from tests.support.ui import FakeServer, detail_text, post_alerts, status_text, table_rows, wait_for

pytestmark = pytest.mark.integration
SIZE = (120, 40)


def settings(**kw) -> Settings:
    return Settings(refresh=0.5, timeout=2.0, **kw)


def alert(name, severity, component, model, summary="", minutes_ago=0, **labels):
    starts = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    return {"labels": {"alertname": name, "severity": severity, "component": component, "model": model,
                       **labels}, "annotations": {"summary": summary, "runbook_url": "https://r.invalid/x.md"},
            "startsAt": starts.isoformat()}


async def test_alerts_from_alertmanager_appear_grouped_and_sorted(bare_am):
    tag = uuid.uuid4().hex[:6]
    post_alerts(bare_am, [
        alert("ModelStalenessHigh", "warning", "model", f"m1-{tag}", "stale", minutes_ago=1),
        alert("DataDriftDetected", "critical", "data", f"m1-{tag}", "drift age", 10, feature="age"),
        alert("DataDriftDetected", "critical", "data", f"m1-{tag}", "drift income", 9, feature="income"),
        alert("TrainingJobFailed", "critical", "training", f"m2-{tag}", "training failed", minutes_ago=2),
    ])
    app = MlcallApp(settings(alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        def mine():
            return [r for r in table_rows(app) if tag in r[3]]

        rows = await wait_for(pilot, lambda: len(mine()) == 3 and mine(), what="3 groups of this test")
        # severity first, then state, then age (newest first)
        assert [(r[0], r[1].strip(" ▸"), r[4], r[5].strip(), r[6]) for r in rows] == [
            ("▲ CRIT", "TrainingJobFailed", "● firing", "1", "2m"),
            ("▲ CRIT", "DataDriftDetected", "● firing", "2", "10m"),
            ("◆ WARN", "ModelStalenessHigh", "● firing", "1", "1m"),
        ]
        assert "Alertmanager ·" in status_text(app) and "stale" not in status_text(app)

        # enter expands the drift group into its two alerts
        await pilot.press("slash", *f"model=m1-{tag}", "enter")
        await wait_for(pilot, lambda: len(table_rows(app)) == 2, what="filtered rows")
        await pilot.press("enter")  # the cursor is on the drift group, the first row
        rows = await wait_for(pilot, lambda: len(table_rows(app)) == 4 and table_rows(app), what="expanded")
        assert [r[1].strip() for r in rows] == [
            "▾ DataDriftDetected", "└ feature=income", "└ feature=age", "ModelStalenessHigh"]
        assert "Labels" in detail_text(app) and f"m1-{tag}" in detail_text(app)


async def test_filter_free_text_and_label_matchers(bare_am):
    tag = uuid.uuid4().hex[:6]
    post_alerts(bare_am, [
        alert("DataDriftDetected", "critical", "data", f"f-{tag}", "KS high", feature="age"),
        alert("ModelInferenceLatenessHigh", "warning", "inference", f"f-{tag}", "p95 latency 4s"),
    ])
    app = MlcallApp(settings(alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: sum(tag in r[3] for r in table_rows(app)) == 2, what="alerts")
        await pilot.press("slash", *tag, " ", *"latency")
        rows = await wait_for(pilot, lambda: len(table_rows(app)) == 1 and table_rows(app), what="free text")
        assert "ModelInferenceLatenessHigh" in rows[0][1]
        app.alerts_screen.query_one("#filter").value = f"model={'f-' + tag} severity!=warning"
        await wait_for(pilot, lambda: [r[1].strip() for r in table_rows(app)] == ["DataDriftDetected"],
                       what="only the critical alert of this model")
        app.alerts_screen.query_one("#filter").value = "model=~("
        await wait_for(pilot, lambda: "regular expression" in str(
            app.alerts_screen.query_one("#filter-error").content), what="filter error")
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: len(table_rows(app)) >= 2, what="filter cleared")
        assert app.is_running


INJECTED = {
    "model": "x[/]",
    "team": "[red]boom[/]",
    "owner": "[@click=app.quit]q[/]",
}


async def test_injected_labels_render_literally_and_run_nothing(bare_am):
    tag = uuid.uuid4().hex[:6]
    post_alerts(bare_am, [{
        "labels": {"alertname": f"Injection{tag}", "severity": "critical", **INJECTED},
        "annotations": {"summary": "osc\x1b]52;c;aGk=\x07 [link=https://evil.invalid]y[/link]"},
    }])
    app = MlcallApp(settings(alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *tag, "enter")
        row = await wait_for(pilot, lambda: len(table_rows(app)) == 1 and table_rows(app)[0], what="the alert")
        assert row[3] == "x[/]"
        assert row[7] == "osc [link=https://evil.invalid]y[/link]"
        detail = detail_text(app)
        for key, value in INJECTED.items():
            assert f"{key} = {value}" in detail
        assert "\x1b" not in detail and "aGk=" not in detail
        await pilot.click("#detail")  # clicking the injected [@click=…] text runs no action
        await pilot.pause(0.2)
        assert app.is_running


async def test_a_killed_alertmanager_turns_stale_and_the_app_keeps_working(tmp_path):
    stack = LocalStack(tmp_path / "am", prometheus=False, model_service=False)
    stack.start()
    try:
        url = stack.alertmanager_urls[0]
        post_alerts(url, [alert("TrainingJobFailed", "critical", "training", "doomed", "it failed")])
        app = MlcallApp(settings(alertmanager_urls=(url,)))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: any("doomed" in r[3] for r in table_rows(app)), what="the alert")
            stack.alertmanager_peer(0).kill()
            await wait_for(pilot, lambda: "stale" in status_text(app), timeout=30, what="stale status")
            assert "connection refused" in status_text(app) or "cannot connect" in status_text(app)
            assert any("doomed" in r[3] for r in table_rows(app)), "last good data stays on screen"
            await pilot.press("slash", *"doomed", "enter", "j", "k")
            assert app.is_running and len(table_rows(app)) == 1
    finally:
        stack.stop()


@pytest.mark.parametrize("body,expected", [
    ("{not json", "bad json"),
    ('[{"labels": 5}]', "bad data"),
    ('{"alerts": "nope"}', "bad data"),
])
async def test_malformed_answers_give_a_clear_error_not_a_crash(body, expected):
    with FakeServer(body=body) as fake:
        app = MlcallApp(settings(alertmanager_urls=(fake.url,), prometheus_url=fake.url))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: status_text(app).count("unreachable") == 2,
                           what="both sources unreachable (no good answer yet), side by side")
            assert expected in status_text(app)
            assert app.is_running and table_rows(app) == []


async def test_keys_are_in_the_command_palette_and_help(bare_am):
    app = MlcallApp(settings(alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Filter", "Refresh", "Help", "Quit", "Expand/Zoom", "Theme"} <= titles
        assert "Screenshot" not in titles  # an SVG of the screen is never written behind the user's back
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette", what="palette")
        await pilot.press(*"filter", "enter")
        await wait_for(pilot, lambda: app.alerts_screen.query_one("#filter").has_focus, what="filter from palette")
        await pilot.press("escape", "question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen", what="the help screen")


async def test_pending_alerts_from_prometheus_show_as_pending(tmp_path):
    """A real Prometheus evaluating the deploy rules: the latency alert is pending for its `for:`."""
    stack = LocalStack(tmp_path / "prom", alertmanager_peers=0)
    stack.start()
    try:
        stack.model_service.set_incident("fraud-detector", "latency")
        app = MlcallApp(settings(prometheus_url=stack.prometheus_url))
        async with app.run_test(size=SIZE) as pilot:
            row = await wait_for(pilot, lambda: next(
                (r for r in table_rows(app) if "ModelInferenceLatenessHigh" in r[1]), None),
                timeout=120, what="the latency alert")
            assert row[4] == "◌ pending" and row[3] == "fraud-detector"
            assert "Alertmanager · not configured" in status_text(app)
            assert "from prometheus" in detail_text(app)
    finally:
        stack.stop()
