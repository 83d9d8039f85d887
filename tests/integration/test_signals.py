"""Sparklines against a real Prometheus scraping the synthetic model service.

The latency and drift incidents run on a stack of this module's own (Prometheus + model service,
no Alertmanager): switching an incident on in the session `stack` would change what other tests assert
about it for the next five minutes (rate windows). The session `stack` is used read-only: its firing
alert's own sparkline and threshold are checked against the rule.
"""

from __future__ import annotations

import pytest
import yaml
from rich.text import Text

from oncall_tui.config import Settings
from oncall_tui.promql import split_comparison
from oncall_tui.resources import bundled
from oncall_tui.stack import LocalStack
from oncall_tui.stack.processes import wait_until
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.widgets.signal_panel import SignalPanel
from oncall_tui.ui.widgets.sparkline import BLOCKS, colour
from tests.support.ui import table_rows, wait_for

pytestmark = pytest.mark.integration
SIZE = (200, 50)  # a wide terminal: the sparkline gets ~40 columns, a 22 s step over 15 minutes
MODEL = "recsys-ranker"
P95 = f'histogram_quantile(0.95, sum by (le) (rate(model_inference_duration_seconds_bucket{{model="{MODEL}"}}[5m])))'


def rule_threshold(name: str) -> float:
    rules = yaml.safe_load((bundled("deploy") / "prometheus" / "ml-alerts.rules.yml").read_text())
    expr = next(r["expr"] for g in rules["groups"] for r in g["rules"] if r.get("alert") == name)
    return split_comparison(expr).threshold


@pytest.fixture(scope="module")
def signal_stack(tmp_path_factory: pytest.TempPathFactory):
    """Prometheus + model service, every model healthy except recsys-ranker's failing training job (so
    the model has an alert to highlight before anything else happens)."""
    local = LocalStack(tmp_path_factory.mktemp("signals"), alertmanager_peers=0, fast=True)
    try:
        local.start()
        local.model_service.set_incident(MODEL, "training-failure")
        yield local
    finally:
        local.stop()


def panel(app) -> SignalPanel:
    return app.alerts_screen.query_one(SignalPanel)


def panel_lines(app) -> list[Text]:
    content = panel(app).content
    return content.split("\n") if isinstance(content, Text) else []


def line_of(app, title: str) -> Text | None:
    return next((ln for ln in panel_lines(app) if ln.plain.startswith(title)), None)


def as_listed(title: str, width: int = 15) -> str:
    """A title as the panel writes it in its column (long ones end with …)."""
    return title if len(title) < width else title[:width - 2] + "…"


def block_styles(line: Text) -> list[tuple[str, str]]:
    """(glyph, style) of every block character of a panel line, left to right."""
    styles = {}
    for span in line.spans:
        for i in range(span.start, span.end):
            styles[i] = str(span.style)
    return [(ch, styles.get(i, "")) for i, ch in enumerate(line.plain) if ch in BLOCKS]


async def highlight(app, pilot, query: str) -> None:
    await pilot.press("slash", *query, "enter")
    await wait_for(pilot, lambda: len(table_rows(app)) == 1, timeout=120, what=f"the alert {query}")


async def test_latency_sparkline_rises_and_crosses_the_drawn_threshold(signal_stack: LocalStack):
    threshold = rule_threshold("ModelInferenceLatenessHigh")
    # Healthy p95 for a while first, so the window holds points below the threshold.
    wait_until(lambda: [r for r in signal_stack.query(f"count_over_time(({P95})[5m:1s]) >= 45")],
               timeout=180, what="45 s of healthy p95")
    app = MlcallApp(Settings(prometheus_url=signal_stack.prometheus_url, refresh=2.0, timeout=4.0))
    async with app.run_test(size=SIZE) as pilot:
        await highlight(app, pilot, f"alertname=TrainingJobFailed model={MODEL}")
        healthy = await wait_for(pilot, lambda: line_of(app, "p95 lat"), what="the p95 line")
        assert ">2.00s" in healthy.plain  # the latency rule's threshold, on the model-health p95 line
        # (TrainingJobFailed's own signal may have crossed its `> 0`: it fires; latency has not crossed)
        assert f"thr > {threshold:.2f}s · crossed" not in panel(app).content.plain
        signal_stack.model_service.set_incident(MODEL, "latency")
        try:
            # The same panel, refreshed every 2 s, shows the rise: the newest blocks beyond the threshold.
            error = colour("error", "red")
            rose = await wait_for(pilot, lambda: (ln := line_of(app, "p95 lat")) and block_styles(ln)
                                  and block_styles(ln)[-1][1] == error and ln, timeout=120,
                                  what="p95 above the threshold")
            drawn = block_styles(rose)
            assert drawn[0][1] != error and drawn[0][0] == BLOCKS[0]  # it started low, under the threshold
            chart = next(c for c in panel(app).view.health if c.key == "p95_latency")
            values = [v for _, v in chart.series.finite()]
            assert chart.threshold == threshold and values[0] < threshold < values[-1]

            # The alert itself fires; its own sparkline crosses the threshold parsed from the rule.
            signal_stack.wait_for_alert("ModelInferenceLatenessHigh", source="prometheus", labels={"model": MODEL},
                                        timeout=120)
            await pilot.press("escape")
            await highlight(app, pilot, f"alertname=ModelInferenceLatenessHigh model={MODEL}")
            text = await wait_for(pilot, lambda: "crossed ≈" in panel(app).content.plain and panel(app).content.plain,
                                  timeout=60, what="the alert's own signal crossing")
            signal = panel(app).view.signal
            assert signal.threshold == threshold and signal.op == ">" and signal.series.labels["model"] == MODEL
            own = [v for _, v in signal.series.finite()]
            assert own[0] < threshold < own[-1]
            assert f"thr > {threshold:.2f}s · crossed ≈" in text
        finally:
            signal_stack.model_service.set_incident(MODEL, "latency", on=False)


async def test_drift_panel_lists_the_drifting_feature_first(signal_stack: LocalStack):
    app = MlcallApp(Settings(prometheus_url=signal_stack.prometheus_url, refresh=2.0, timeout=4.0))
    features = signal_stack.model_service.features(MODEL)
    async with app.run_test(size=SIZE) as pilot:
        await highlight(app, pilot, f"alertname=TrainingJobFailed model={MODEL}")
        await wait_for(pilot, lambda: len(panel(app).view.drift if panel(app).view else ()) == len(features),
                       what="one drift line per feature")
        before = [c.title for c in panel(app).view.drift]
        drifting = before[-1]  # the feature drifting least so far
        signal_stack.model_service.set_incident(MODEL, "drift", feature=drifting)
        try:
            def listed() -> list[str]:
                lines = [ln.plain for ln in panel_lines(app)]
                start = next((i for i, ln in enumerate(lines) if ln.startswith("Drift KS")), None)
                return [ln.split()[0] for ln in lines[start + 1:]] if start is not None else []

            order = await wait_for(pilot, lambda: listed() and listed()[0] == as_listed(drifting) and listed(),
                                   timeout=60, what=f"{drifting} listed first")
            assert set(order) == {as_listed(f) for f in features} and order[0] != as_listed(before[0])
            top = panel(app).view.drift[0]
            assert top.series.last()[1] > top.threshold == rule_threshold("DataDriftDetected")
        finally:
            signal_stack.model_service.set_incident(MODEL, "drift", on=False)


async def test_the_firing_alerts_own_sparkline_carries_the_rules_threshold(stack: LocalStack):
    """Read-only on the session stack: DataDriftDetected fires for churn-predictor (default scenario)."""
    stack.wait_for_alert("DataDriftDetected", labels={"model": "churn-predictor"}, timeout=120)
    app = MlcallApp(Settings(prometheus_url=stack.prometheus_url, alertmanager_urls=tuple(stack.alertmanager_urls),
                             refresh=2.0, timeout=4.0))
    async with app.run_test(size=SIZE) as pilot:
        await highlight(app, pilot, "alertname=DataDriftDetected model=churn-predictor")
        text = await wait_for(pilot, lambda: line_of(app, "signal") and panel(app).content.plain,
                              what="the alert's own sparkline")
        signal = panel(app).view.signal
        assert signal.threshold == rule_threshold("DataDriftDetected") == 0.15
        assert signal.series is not None, (signal.note, signal.result, text)
        assert signal.series.labels == {"model": "churn-predictor", "feature": "account_age_days"}
        assert "thr > 0.15 ·" in text
        assert [ch for ch, _ in block_styles(line_of(app, "signal"))]  # blocks are drawn
