"""Zoom (`enter` on a single alert or an alert row, or `z`): the same series full-screen, with larger
charts, axes and UTC timestamps, and the PromQL behind each chart (to paste into Grafana)."""

from __future__ import annotations

import time
from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...changes import alert_start
from ...models import Alert, ChangeView, Chart, SignalView
from ...safe_text import safe
from ...signals import SignalService, window_label
from ..widgets.block_chart import AXIS, block_chart
from ..widgets.change_marks import changes_section
from ..widgets.sparkline import colour

SIGNAL_ROWS = 10
HEALTH_ROWS = 4
SPLIT_ROWS = 3


def render_zoom(view: SignalView, width: int, *, now: float, refresh: float, changes: ChangeView | None = None,
                started: float | None = None) -> Text:
    """Every chart with its PromQL; with `changes`, marks above each plot and the full Changes list under
    the first chart (the alert's own signal when there is one)."""
    out = Text(end="")
    listed = changes is None
    if view.note:
        out.append_text(safe(view.note, "italic", single_line=True, max_len=400))
        out.append("\n\n")
    sections: list[tuple[str, tuple[Chart, ...], int]] = [
        ("The alert's own signal", (view.signal,) if view.signal else (), SIGNAL_ROWS),
        ("Model health", view.health, HEALTH_ROWS),
        ("Per feature, highest first", view.drift, SPLIT_ROWS),
    ]
    for title, charts, rows in sections:
        if not charts:
            continue
        out.append(f"{title}\n", style="bold underline")
        for chart in charts:
            marks = changes.changes if changes is not None and chart.series is not None else None
            out.append_text(block_chart(chart, width, rows, now=now, refresh=refresh, changes=marks))
            out.append("\n")
            if not listed and marks is not None:
                listed = True
                out.append_text(changes_section(changes, chart.result.start, chart.result.end, started, width,
                                                limit=None))
                out.append("\n")
            query = Text("  PromQL: ", style="dim", end="")
            query.append_text(safe(chart.result.query, "dim", single_line=True, max_len=2000))
            query.truncate(width, overflow="ellipsis")
            out.append_text(query)
            out.append("\n\n")
    return out


class ZoomScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.pop_screen", "Back", show=False),
        Binding("t", "cycle_window", "Range 15m/1h/6h/24h"),
        Binding("ctrl+r", "reload", "Refresh"),
    ]

    def __init__(self, alert: Alert, service: SignalService | None, *, refresh: float = 5.0,
                 clock: Callable[[], float] = time.time,
                 changes: Callable[[Alert], ChangeView | None] | None = None) -> None:
        """`changes`: an instant lookup of the alert's changes (ui/changes_ui.py; None: not shown)."""
        super().__init__()
        self.changes = changes
        self.alert = alert
        self.service = service
        self.refresh_interval = refresh
        self.clock = clock
        self.view: SignalView | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="zoom-title")
        with VerticalScroll(id="zoom-scroll"):
            yield Static(Text("loading…", style="dim"), id="zoom-body")
        yield Footer()

    def _title(self) -> Text:
        title = Text("Zoom · ", style="bold", end="")
        title.append_text(safe(self.alert.name, "bold", single_line=True, max_len=120))
        model = self.service.model_of(self.alert) if self.service else ""
        if model:
            title.append(" · model ")
            title.append_text(safe(model, "bold", single_line=True, max_len=80))
        if self.service:
            title.append(f" · last {window_label(self.service.window)}")
        if self.view is not None and self.view.partial:
            title.append("  ")
            title.append(" PARTIAL ", style=f"bold reverse {colour('sev-warning', 'yellow')}")
        return title

    def on_mount(self) -> None:
        if self.service is None:
            self.query_one("#zoom-body", Static).update(Text("Prometheus is not configured.", style="dim"))
            return
        self.action_reload()
        self.set_interval(self.refresh_interval, self.action_reload)

    def plot_width(self) -> int:
        return max(30, (self.size.width or 100) - 4)

    def action_reload(self) -> None:
        if self.service is None:
            return
        cached = self.service.cached_view(self.alert, self._columns())
        if cached is not None:
            self._show(cached)
            return
        self.run_worker(self._fetch(), group="zoom", exclusive=True, exit_on_error=False)

    def _columns(self) -> int:
        return self.plot_width() - AXIS - 1

    async def _fetch(self) -> None:
        assert self.service is not None
        window = self.service.window
        view = await self.service.view(self.alert, self._columns())
        if window == self.service.window:
            self._show(view)

    def _show(self, view: SignalView) -> None:
        self.view = view
        self.query_one("#zoom-title", Static).update(self._title())
        changes = self.changes(self.alert) if self.changes is not None else None
        body = render_zoom(view, self.plot_width(), now=self.clock(), refresh=self.refresh_interval,
                           changes=changes, started=alert_start(self.alert))
        self.query_one("#zoom-body", Static).update(body)

    def action_cycle_window(self) -> None:
        if self.service is None:
            return
        self.service.cycle_window()
        self.view = None
        self.query_one("#zoom-title", Static).update(self._title())
        self.query_one("#zoom-body", Static).update(Text("loading…", style="dim"))
        self.action_reload()

    def on_resize(self) -> None:
        if self.view is not None:
            self._show(self.view)
