"""The highlighted alert's own signal and its model's health, beside the alert's detail.

A read-only widget: the screen fetches (see ui/signal_feed.py) and hands it `SignalView`s.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

from rich.text import Text
from textual.widgets import Static

from ...models import ChangeView, Chart, SignalView
from ...safe_text import safe
from ...signals import window_label
from .change_marks import changes_section, marks
from .sparkline import badges, colour, crossing, line, spark_columns, stale_summary, threshold_text

TITLE_WIDTH = 15


def title_width(width: int) -> int:
    return TITLE_WIDTH if width >= 48 else 10


def _section(text: str, extra: Text | None = None) -> Text:
    out = Text(text, style="bold underline", end="")
    if extra is not None:
        out.append(" ")
        out.append_text(extra)
    return out


def _split_header(view: SignalView) -> str:
    first = view.drift[0]
    key = first.key.split(":")[0]
    text = "Drift KS per feature, highest first" if key == "drift_ks" else f"{key}, highest first"
    return text + (f" · {threshold_text(first)}" if first.threshold is not None else "")


def mark_line(chart: Chart, changes: ChangeView, width: int, title_width: int) -> Text:
    """The row above a sparkline: ▼ in the column of each change (same columns as `line` draws)."""
    out = Text("changes".ljust(title_width), style="dim", end="")
    columns = min(spark_columns(width, title_width), max(8, width - title_width))
    out.append_text(marks(changes.changes, chart.result.start, chart.result.end, columns))
    return out


def render_view(view: SignalView, width: int, *, now: float, refresh: float, changes: ChangeView | None = None,
                alert_start: float | None = None) -> Text:
    """The whole panel as one Text: the alert's signal (with change marks and the Changes list under it),
    then model health, then drift."""
    out = Text(end="", no_wrap=True, overflow="ellipsis")
    head = Text(f"Signal · last {window_label(view.window)}", style="bold", end="")
    if view.partial:
        head.append("  ")
        head.append(" PARTIAL ", style=f"bold reverse {colour('sev-warning', 'yellow')}")
    stale = stale_summary(view.charts, now, refresh)
    if stale:
        head.append("  ")
        head.append_text(stale)
    elif width - head.cell_len >= 24:
        head.append("  t: range · z: zoom", style="dim")
    out.append_text(head)
    kw = dict(now=now, refresh=refresh, title_width=title_width(width), window=view.window)
    marked = view.signal or next((c for c in view.health if c.series is not None), None)
    if view.signal is not None:
        if changes is not None and view.signal.series is not None:
            out.append("\n")
            out.append_text(mark_line(view.signal, changes, width, title_width(width)))
        out.append("\n")
        out.append_text(line(replace(view.signal, title="signal"), width, **kw))
        out.append("\n")
        out.append_text(_signal_detail(view.signal, width, title_width(width)))
        if changes is not None:
            out.append("\n")
            out.append_text(changes_section(changes, marked.result.start, marked.result.end, alert_start, width))
    if view.note:
        out.append("\n")
        out.append_text(safe(view.note, "dim italic", single_line=True, max_len=300))
    if view.health:
        out.append("\n")
        out.append_text(_section("Model health ·", safe(view.model, "bold", single_line=True, max_len=60)))
        for chart in view.health:
            if changes is not None and chart is marked and view.signal is None:  # no signal: mark this one
                out.append("\n")
                out.append_text(mark_line(chart, changes, width, title_width(width)))
            out.append("\n")
            out.append_text(line(chart, width, **kw))
        if changes is not None and view.signal is None and marked is not None:
            out.append("\n")
            out.append_text(changes_section(changes, marked.result.start, marked.result.end, alert_start, width))
    if view.drift:
        out.append("\n")
        out.append_text(_section(_split_header(view)))
        for chart in view.drift:
            out.append("\n")
            out.append_text(line(chart, width, show_threshold=False, **kw))
    return out


def _signal_detail(chart: Chart, width: int, indent: int) -> Text:
    """Under the signal: its threshold as a number and when it crossed, or why there is no threshold."""
    out = Text(" " * indent, end="")
    when = crossing(chart.series, chart.op, chart.threshold)
    if chart.threshold is not None:
        out.append(threshold_text(chart), style=f"bold {colour('sev-warning', 'yellow')}")
        out.append(" · ")
    if when:
        out.append(when, style="bold" if when.startswith("crossed") else "")
    elif chart.note:
        out.append_text(safe(chart.note, "dim", single_line=True, max_len=200))
    else:
        out.append("no threshold", style="dim")
    out.truncate(width, overflow="ellipsis")
    return out


class SignalPanel(Static):
    """Shows a SignalView; re-renders itself when resized or when its data turns stale."""

    DEFAULT_CSS = """
    SignalPanel {
        width: 1.5fr;
        min-width: 34;
        height: 100%;
        padding: 0 1;
        border-left: solid $primary;
        overflow-y: auto;
    }
    """

    def __init__(self, *, refresh: float = 5.0, clock: Callable[[], float] = time.time, **kwargs) -> None:
        super().__init__(Text("No alert selected.", style="dim"), **kwargs)
        self.refresh_interval = refresh
        self.clock = clock
        self.view: SignalView | None = None
        self.banner = ""  # program text only
        self._stale = False
        self.changes: ChangeView | None = None  # the highlighted alert's changes (ui/changes_ui.py)
        self.changes_for = ""  # the fingerprint they belong to: drawn only beside that alert's view
        self.alert_start: float | None = None

    def spark_columns(self) -> int:
        """Columns a sparkline gets at the current width (the step is chosen for it)."""
        width = self.content_size.width or 60
        return spark_columns(width, title_width(width))

    def show_view(self, view: SignalView) -> None:
        self.view = view
        self.redraw()

    def show_changes(self, fingerprint: str, changes: ChangeView | None, alert_start: float | None) -> None:
        if (fingerprint, changes, alert_start) == (self.changes_for, self.changes, self.alert_start):
            return
        self.changes_for, self.changes, self.alert_start = fingerprint, changes, alert_start
        if self.view is not None and self.view.fingerprint == fingerprint:
            self.redraw()

    def show_loading(self, alert_name: str, window: float) -> None:
        self.view = None
        text = Text(f"Signal · last {window_label(window)}\n", style="bold", end="")
        text.append_text(safe(alert_name, single_line=True, max_len=120))
        text.append(" · loading…", style="dim")
        self.update(self._with_banner(text))

    def show_message(self, message: Text) -> None:
        self.view = None
        self.update(self._with_banner(message))

    def _with_banner(self, text: Text) -> Text:
        """A red line first when TLS verification towards Prometheus is off (DESIGN §7)."""
        if not self.banner:
            return text
        out = Text(self.banner, style=f"bold reverse {colour('error', 'red')}", end="")
        out.append("\n")
        out.append_text(text)
        out.no_wrap, out.overflow = text.no_wrap, text.overflow
        return out

    def redraw(self) -> None:
        if self.view is None:
            return
        now = self.clock()
        self._stale = self._any_stale(now)
        width = self.content_size.width or 60
        mine = self.changes if self.changes_for == self.view.fingerprint else None
        self.update(self._with_banner(render_view(self.view, width, now=now, refresh=self.refresh_interval,
                                                  changes=mine, alert_start=self.alert_start)))

    def _any_stale(self, now: float) -> bool:
        return any(badges(c, now, self.refresh_interval).plain.strip() for c in (self.view.charts if self.view else ()))

    def tick(self) -> None:
        """Called every second: redraw only when a chart's staleness changed (dimming, "stale since")."""
        if self.view is not None and self._any_stale(self.clock()) != self._stale:
            self.redraw()

    def on_resize(self) -> None:
        self.redraw()
