"""SVG snapshots of the signal/health panel and of the zoom view: fixed data from a fake Prometheus,
a frozen clock, so every run draws the same picture (badges, gaps, error types, thresholds, axes)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from textual.app import App, ComposeResult

from oncall_tui.models import Alert, Change, ChangeUndo, ChangeView
from oncall_tui.models.changes import ALIAS, ROLLOUT, VERSION
from oncall_tui.signals import SignalService
from oncall_tui.sources.prometheus_queries import RangeQuerier
from oncall_tui.ui import cells
from oncall_tui.ui.screens.zoom import ZoomScreen
from oncall_tui.ui.widgets.signal_panel import SignalPanel
from tests.support.fake_prometheus import Answer, FakePrometheus, alert_rule
from tests.support.ui import wait_for

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
RULE = "histogram_quantile(0.95, sum by (le, model) (rate(lat_bucket[5m]))) > 2"
LABELS = {"alertname": "ModelInferenceLatenessHigh", "model": "fraud-detector", "severity": "warning",
          "component": "inference"}
ALERT = Alert("fp-latency", LABELS)


def clock() -> float:
    return NOW


def fake() -> FakePrometheus:
    p = FakePrometheus(rules=[alert_rule("ModelInferenceLatenessHigh", RULE, {"severity": "warning",
                                                                            "component": "inference"})])
    minutes = lambda t: (t - NOW) / 60  # noqa: E731  (negative: minutes ago)
    p.route("lat_bucket", Answer([({"model": "fraud-detector"},
                                   lambda t: 0.3 + max(0.0, 4.2 + minutes(t) * 0.45) if minutes(t) > -12 else None)]))
    p.route("histogram_quantile(0.95, sum by (le) (rate(model_inference",
            Answer([({}, lambda t: math.nan if -9 < minutes(t) < -7 else 0.3 + max(0.0, 4.2 + minutes(t) * 0.45))]))
    p.route("histogram_quantile(0.5,", Answer([({}, lambda t: 0.15 + max(0.0, 1.2 + minutes(t) * 0.2))]))
    p.route("model_prediction_nan_total", Answer(status=422, error_type="execution",
                                                 error="query processing would load too many samples"))
    p.route("model_requests_total", Answer([({}, lambda t: 25.0 - 3 * math.sin(minutes(t)))]))
    p.route("mlflow_model_last_trained_timestamp", Answer([({}, lambda t: 1.2 + (t - NOW) / 86400)],
                                                          warnings=["one store gateway did not answer"]))
    p.route("dvc_metric_data_drift", Answer([({"feature": f}, lambda t, v=v: v + 0.002 * math.cos(minutes(t)))
                                             for f, v in (("card_age_days", 0.06), ("transaction_amount", 0.21),
                                                          ("hour_of_day", 0.04), ("merchant_category", 0.08))]))
    return p


def no_theme_palette() -> None:
    """The semantic colours are module state set by MlcallApp from its theme: start from none, so the
    picture does not depend on which test ran before."""
    cells.set_palette({})


def service(url: str) -> SignalService:
    return SignalService(RangeQuerier(url, timeout=5.0, ttl=3600.0, clock=clock), clock=clock)


class PanelApp(App):
    CSS = "SignalPanel { width: 70; height: 16; }"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.service = service(url)

    def compose(self) -> ComposeResult:
        yield SignalPanel(refresh=5.0, clock=clock)

    async def on_mount(self) -> None:
        no_theme_palette()
        panel = self.query_one(SignalPanel)
        panel.show_view(await self.service.view(ALERT, panel.spark_columns()))


class ZoomApp(App):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.service = service(url)

    def on_mount(self) -> None:
        no_theme_palette()
        self.push_screen(ZoomScreen(ALERT, self.service, refresh=5.0, clock=clock))


def test_detail_panel_snapshot(snap_compare):
    with fake() as prometheus:
        app = PanelApp(prometheus.url)

        async def loaded(pilot) -> None:
            await wait_for(pilot, lambda: app.query_one(SignalPanel).view is not None, what="the panel")

        assert snap_compare(app, terminal_size=(80, 18), run_before=loaded)


def test_zoom_view_snapshot(snap_compare):
    with fake() as prometheus:
        app = ZoomApp(prometheus.url)

        async def loaded(pilot) -> None:
            await wait_for(pilot, lambda: isinstance(app.screen, ZoomScreen) and app.screen.view is not None,
                           what="the zoom view")

        assert snap_compare(app, terminal_size=(120, 40), run_before=loaded)


# -- change marks ---------------------------------------------------------------------------------------
STARTED = Alert("fp-latency", LABELS, starts_at=datetime.fromtimestamp(NOW - 300, timezone.utc))
CHANGES = ChangeView((
    Change(NOW - 180, ROLLOUT, "fraud-detector revision 4 (fraud:1.4)", why="image 1.4",
           undo=ChangeUndo("deployment", "ml/fraud-detector back to revision 3", namespace="ml",
                           name="fraud-detector", revision=3)),
    Change(NOW - 600, ALIAS, "champion v6 → v7", who="alice", why="retrain [b]v7[/b]",
           undo=ChangeUndo("registry", "champion back to v6", model="fraud-detector", alias="champion", version="6")),
    Change(NOW - 780, ALIAS, "champion → v6", why="moved outside mlcall-tui (no history tag); previous version unknown",
           at_or_after=True),
    Change(NOW - 840, VERSION, "fraud-detector v7 registered (READY)"),
), missing=(("DVC metrics commits", "not configured"), ("training Job completions", "not configured")))


class MarkedZoomApp(App):  # not a ZoomApp subclass: Textual would run both on_mount handlers
    def __init__(self, url: str) -> None:
        super().__init__()
        self.service = service(url)

    def on_mount(self) -> None:
        no_theme_palette()
        self.push_screen(ZoomScreen(STARTED, self.service, refresh=5.0, clock=clock, changes=lambda alert: CHANGES))


def test_zoom_view_with_change_marks_snapshot(snap_compare):
    """▼ above the plot at −10m and −3m, ▽ (at or after) at −13m; the Changes list newest first relative to
    the alert's start (−5m), the likely trigger (the alias move, not the later rollout) and the silent
    sources; `[b]v7[/b]` is text, not markup."""
    with fake() as prometheus:
        app = MarkedZoomApp(prometheus.url)

        async def loaded(pilot) -> None:
            await wait_for(pilot, lambda: isinstance(app.screen, ZoomScreen) and app.screen.view is not None,
                           what="the zoom view")

        assert snap_compare(app, terminal_size=(120, 40), run_before=loaded)
