"""The signal panel and zoom view driven with Pilot against a fake Prometheus that answers what a real
one rarely does on demand: NaN/Inf series, empty results, a 422 execution error, warnings,
VictoriaMetrics' isPartial, and slowness (timeout shown while the UI stays responsive)."""

from __future__ import annotations

import math
import time
from pathlib import Path

from rich.text import Text
from textual.worker import WorkerState

from oncall_tui.config import Settings
from oncall_tui.models import Chart, QueryResult, Series
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.screens.zoom import ZoomScreen
from oncall_tui.ui.widgets.signal_panel import SignalPanel
from oncall_tui.ui.widgets.sparkline import BLOCKS, line, rasterize
from tests.support.fake_prometheus import Answer, FakePrometheus, alert_rule, firing_alert
from tests.support.ui import table_rows, wait_for

SIZE = (160, 40)  # the detail row holds five panels; at 160 columns this one gets ~50
LATENCY_RULE = "histogram_quantile(0.95, sum by (le, model) (rate(lat_bucket[5m]))) > 2"
RULE_LABELS = {"severity": "warning", "component": "inference"}


def alerts(*models: str) -> list[dict]:
    return [firing_alert("ModelInferenceLatenessHigh", {"model": m, **RULE_LABELS}) for m in models]


def nan_and_inf(t: float) -> float:
    """A p95 series with NaN every third minute and +Inf every seventh (e.g. an empty histogram)."""
    minute = int(t) // 60
    return math.nan if minute % 3 == 0 else math.inf if minute % 7 == 0 else 0.3


def rising(t: float) -> float:
    """0.5 s until five minutes ago, then 4 s: crosses the 2 s threshold."""
    return 0.5 if t < time.time() - 300 else 4.0


def fake_prometheus(*models: str) -> FakePrometheus:
    fake = FakePrometheus(alerts=alerts(*models), rules=[alert_rule("ModelInferenceLatenessHigh", LATENCY_RULE,
                                                                    RULE_LABELS)])
    fake.route("lat_bucket", Answer([({"model": m}, rising) for m in models] + [({"model": "zz"}, lambda t: 9.0)]))
    return fake


def settings(url: str, **kw) -> Settings:
    return Settings(prometheus_url=url, **{"refresh": 5.0, "timeout": 1.0, **kw})


def panel_text(app) -> str:
    content = app.alerts_screen.query_one(SignalPanel).content
    return content.plain if isinstance(content, Text) else str(content)


def panel_lines(app) -> dict[str, str]:
    return {ln[:10].strip(): ln for ln in panel_text(app).splitlines()}


async def shown(pilot, app, what: str, timeout: float = 30.0) -> str:
    return await wait_for(pilot, lambda: what in panel_text(app) and panel_text(app), timeout=timeout, what=what)


async def test_honest_panel_nan_empty_422_warning_and_partial():
    fake = fake_prometheus("fraud")
    fake.route("histogram_quantile(0.95, sum by (le) (rate(model_inference", Answer([({}, nan_and_inf)]))
    fake.route("histogram_quantile(0.5,", Answer([]))  # an empty result: a gap, not zero
    fake.route("model_prediction_nan_total", Answer(status=422, error_type="execution",
                                                    error="query processing would load too many samples"))
    fake.route("model_requests_total", Answer([]))  # not every service exports it
    fake.route("mlflow_model_last_trained_timestamp", Answer([({}, lambda t: 1.2)], warnings=["store down"]))
    fake.route("dvc_metric_data_drift", Answer(
        [({"feature": f}, lambda t, v=v: v) for f, v in (("a", 0.05), ("drifting", 0.4), ("b", 0.07))],
        extra={"isPartial": True}))
    with fake:
        app = MlcallApp(settings(fake.url))
        async with app.run_test(size=SIZE) as pilot:
            text = await shown(pilot, app, "Model health")
            lines = panel_lines(app)
            assert "PARTIAL" in lines["Signal · l"]  # warnings and isPartial raise the badge
            assert "✖ execution" in lines["NaN rate"]  # the error type in place of the chart
            assert "NaN×" in lines["p95 lat"]  # NaN/Inf drawn as gaps, with a note
            assert "gap" in lines["p50 lat"] and "no such series" in text
            assert "not exported" in lines["requests"]
            order = [ln[:10].strip() for ln in text.splitlines()[-3:]]
            assert order == ["drifting", "b", "a"]  # highest KS first
            assert "thr > 2" in text and "crossed" in text  # threshold from the rule, crossing time


def test_nan_and_inf_are_blank_columns_never_zero():
    series = Series({}, tuple((t, math.nan if t in (120, 180) else math.inf if t == 240 else 1.0)
                              for t in range(0, 601, 60)))
    raster = rasterize(series, 0, 600, 60, 11)
    assert raster.cells[2] is None and raster.cells[3] is None and raster.cells[4] is None
    assert raster.nonfinite == 3 and raster.cells[0] == 1.0
    result = QueryResult("q", 0, 600, 60, (series,), fetched_at=600)
    drawn = line(Chart("k", "title", "", result, series), 60, now=600, refresh=5, title_width=10)
    blocks = drawn.plain[10:10 + 30]
    assert blocks.count(" ") >= 3 and BLOCKS[0] not in blocks  # no low block stands in for a NaN


def test_a_series_covering_a_small_part_of_the_window_says_since_when_the_data_exists():
    end = 1_796_300_000.0  # 2026-12-03 12:13:20 UTC
    window = 6 * 3600.0
    fresh = Series({}, tuple((end - 600 + t, 0.3) for t in range(0, 601, 60)))  # the last 10 minutes only
    result = QueryResult("q", end - window, end, 600, (fresh,), fetched_at=end)
    drawn = line(Chart("k", "p95 lat", "s", result, fresh), 100, now=end, refresh=5, title_width=10).plain
    assert "since 12:03" in drawn
    full = Series({}, tuple((end - window + t, 0.3) for t in range(0, int(window) + 1, 600)))
    drawn = line(Chart("k", "p95 lat", "s", result, full), 100, now=end, refresh=5, title_width=10).plain
    assert "since" not in drawn


async def test_slow_prometheus_shows_timeout_and_the_ui_stays_responsive():
    fake = fake_prometheus("fraud", "churn")
    fake.routes.clear()
    fake.route("lat_bucket", Answer(delay=30))  # hangs far beyond the 1 s timeout
    with fake:
        app = MlcallApp(settings(fake.url))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: len(table_rows(app)) == 2, what="two alerts")
            started = time.monotonic()
            detail = app.alerts_screen.query_one("#detail")
            first = detail.content.plain
            await pilot.press("j")  # while the signal query hangs
            await wait_for(pilot, lambda: detail.content.plain != first, timeout=5, what="the next alert")
            assert time.monotonic() - started < 1.0  # moving on never waits for Prometheus
            text = await shown(pilot, app, "✖ timeout", timeout=15)
            assert "Model health" in text  # the other charts are drawn meanwhile


async def test_only_the_highlighted_alert_is_fetched_and_moving_on_cancels():
    models = [f"m{i}" for i in range(6)]
    fake = fake_prometheus(*models)
    with fake:
        app = MlcallApp(settings(fake.url, refresh=60.0))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: len(table_rows(app)) == 6, what="six alerts")
            await shown(pilot, app, "crossed")
            table = app.alerts_screen.table
            before = len(fake.queries())
            for _ in range(5):  # key repeat faster than the debounce: no fetch for the rows passed
                table.action_cursor_down()
            last = table_rows(app)[table.cursor_row][3]
            await wait_for(pilot, lambda: app.signals.alert and app.signals.alert.labels["model"] == last
                           and app.alerts_screen.query_one(SignalPanel).view is not None, what="last alert")
            asked = {q for q in fake.queries()[before:] if "model_inference" in q}
            assert asked and all(f'model="{last}"' in q for q in asked)
            await pilot.press("k")
            await wait_for(pilot, lambda: app.alerts_screen.query_one(SignalPanel).view is not None, what="a view")
            hits = app.signals.service.hits
            await pilot.press("j", "k")  # back and forth over fetched alerts: drawn from the cache
            await wait_for(pilot, lambda: app.signals.service.hits >= hits + 2, what="two cache hits")

            # A fetch still in flight when the cursor moves on is cancelled (the request too).
            fake.routes[:] = [("lat_bucket", Answer(delay=30))]
            app.signals.service.querier.clear()
            await pilot.press("j")
            worker = await wait_for(pilot, lambda: next((w for w in app.workers if w.group == "signals"), None),
                                    what="the fetch in flight")
            await pilot.press("k")
            await wait_for(pilot, lambda: worker.state == WorkerState.CANCELLED, what="the fetch cancelled")


async def test_t_cycles_the_window_and_the_step_keeps_under_11000_points():
    with fake_prometheus("fraud") as fake:
        app = MlcallApp(settings(fake.url))
        async with app.run_test(size=SIZE) as pilot:
            await shown(pilot, app, "last 15m")
            for label in ("1h", "6h", "24h", "15m"):
                await pilot.press("t")
                await shown(pilot, app, f"last {label}")
                await shown(pilot, app, "Model health")
            sent = [p for path, p, _ in fake.requests if path == "/api/v1/query_range" and "end" in p]
            spans = [(float(p["end"]) - float(p["start"]), float(p["step"])) for p in sent]
            windows = {next(w for w in (900, 3600, 21600, 86400) if w <= span < w + step) for span, step in spans}
            assert windows == {900, 3600, 21600, 86400}  # each window, stretched by < 1 step to end at now
            assert all((float(p["end"]) - float(p["start"])) / float(p["step"]) + 1 <= 11000 for p in sent)


async def test_enter_on_a_single_alert_zooms_and_escape_returns():
    with fake_prometheus("fraud") as fake:
        app = MlcallApp(settings(fake.url))
        async with app.run_test(size=SIZE) as pilot:
            await shown(pilot, app, "crossed")
            await pilot.press("enter")
            zoom = await wait_for(pilot, lambda: isinstance(app.screen, ZoomScreen) and app.screen, what="zoom")
            body = await wait_for(pilot, lambda: "UTC" in zoom.query_one("#zoom-body").content.plain
                                  and zoom.query_one("#zoom-body").content.plain, what="zoomed charts")
            assert "┤" in body and "┈" in body and "thr > 2" in body  # axis, threshold line and number
            assert "PromQL: histogram_quantile(0.95, sum by (le, model) (rate(lat_bucket[5m])))" in body
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.alerts_screen, what="back")


async def test_headers_and_bearer_token_from_config_reach_prometheus_but_never_the_screen(tmp_path: Path):
    token = tmp_path / "token"
    token.write_text("sentinel-7f3a")
    config = tmp_path / "config.toml"
    with fake_prometheus("fraud") as fake:
        config.write_text(f'[prometheus]\nurl = "{fake.url}"\nheaders = {{ "X-Scope-OrgID" = "ml-team" }}\n'
                          f'authorization = {{ type = "Bearer", credentials_file = "{token}" }}\n')
        from oncall_tui.config import load

        app = MlcallApp(load({"config": str(config), "refresh": 5.0, "timeout": 1.0}, env={}))
        async with app.run_test(size=SIZE) as pilot:
            await shown(pilot, app, "crossed")
            svg = app.export_screenshot()
        seen = [(path, h) for path, _, h in fake.requests]
    assert {path for path, _ in seen} >= {"/api/v1/alerts", "/api/v1/rules", "/api/v1/query_range"}
    assert all(h.get("Authorization") == "Bearer sentinel-7f3a" and h.get("X-Scope-OrgID") == "ml-team"
               for _, h in seen)
    assert "sentinel" not in svg


async def test_a_hanging_prometheus_leaves_the_old_data_dimmed_and_says_since_when():
    fake = fake_prometheus("fraud")
    with fake:
        app = MlcallApp(settings(fake.url, refresh=1.5, timeout=1.0))
        async with app.run_test(size=SIZE) as pilot:
            await shown(pilot, app, "crossed")
            fake.routes[:] = [("", Answer(delay=30))]  # every query now hangs
            text = await shown(pilot, app, "stale since", timeout=30)
            assert "timeout" in text and "crossed" in text  # the last good data stays on screen

            def dimmed() -> bool:
                content = app.alerts_screen.query_one(SignalPanel).content
                signal = next((ln for ln in content.split("\n") if ln.plain.startswith("signal")), None)
                return signal is not None and any("dim" in str(s.style) and s.start == 0 and s.end >= len(signal)
                                                  for s in signal.spans)

            await wait_for(pilot, dimmed, timeout=30, what="the old values dimmed (older than 2× refresh)")


async def test_ctrl_r_asks_prometheus_again_at_once():
    with fake_prometheus("fraud") as fake:
        app = MlcallApp(settings(fake.url, refresh=60.0))
        async with app.run_test(size=SIZE) as pilot:
            await shown(pilot, app, "crossed")
            asked = len(fake.queries())
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: len(fake.queries()) >= asked + 7, what="the view asked again")
            await shown(pilot, app, "crossed")


async def test_tls_verification_switched_off_is_said_in_red(tmp_path: Path):
    from oncall_tui.config import load

    config = tmp_path / "config.toml"
    with fake_prometheus("fraud") as fake:
        config.write_text(f'[prometheus]\nurl = "{fake.url}"\ntls_config = {{ insecure_skip_verify = true }}\n')
        app = MlcallApp(load({"config": str(config), "refresh": 5.0, "timeout": 1.0}, env={}))
        async with app.run_test(size=SIZE) as pilot:
            text = await shown(pilot, app, "crossed")
            assert text.splitlines()[0].strip() == "TLS verification towards Prometheus is OFF (insecure_skip_verify)"
