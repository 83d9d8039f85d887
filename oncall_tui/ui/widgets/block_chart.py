"""The zoom view's charts: several rows of ▁▂▃▄▅▆▇█ with a y axis (max, threshold, min), a dotted
threshold line, and an x axis with UTC timestamps. Same honesty rules as the sparkline: NaN/±Inf and
missing samples are gaps (NaN columns are marked × on the axis), never zeros."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from rich.text import Text

from ...models import Change, Chart
from ...promql import breaches
from ...safe_text import safe
from .sparkline import (
    BLOCKS,
    badges,
    colour,
    crossing,
    error_text,
    fmt,
    gap_note,
    is_stale,
    rasterize,
    scale,
    threshold_text,
    trend,
)

AXIS = 12  # y-axis label width


def _hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%H:%M")


def header(chart: Chart, *, now: float, refresh: float) -> Text:
    out = safe(chart.title, "bold", single_line=True, max_len=80)
    if chart.unit:
        out.append(f" ({chart.unit})", style="dim")
    last = chart.series.last() if chart.series else None
    values = [v for _, v in chart.series.finite()] if chart.series else []
    out.append(f"  now {fmt(last[1] if last else None, chart.unit)} {trend(chart.series, chart.result.end - chart.result.start)}")
    if values:
        out.append(f"  min {fmt(min(values), chart.unit)}  max {fmt(max(values), chart.unit)}")
    if chart.threshold is not None:
        out.append(f"  {threshold_text(chart)}", style=colour("sev-warning", "yellow"))
        when = crossing(chart.series, chart.op, chart.threshold)
        if when:
            out.append(f"  {when}")
    if chart.extra:
        out.append(f"  +{chart.extra} more series", style="dim")
    out.append("  ")
    out.append_text(badges(chart, now, refresh, long=True))
    return out


def block_chart(chart: Chart, width: int, height: int, *, now: float, refresh: float,
                changes: tuple[Change, ...] | None = None) -> Text:
    """`height` rows of plot plus header, axis and time labels, `width` columns in all; with `changes`,
    a row of change marks (▼/▽) right above the plot, in the columns the changes fall in."""
    result = chart.result
    out = header(chart, now=now, refresh=refresh)
    plot_width = max(10, width - AXIS - 1)
    if not result.ok and result.fetched_at is None:
        out.append("\n")
        out.append_text(error_text(chart, width))
        return out
    for warning in result.warnings[:3]:
        out.append("\n  warning: ", style=colour("sev-warning", "yellow"))
        out.append_text(safe(warning, single_line=True, max_len=width))
    if chart.series is None:
        out.append(f"\n  (gap: {chart.note or 'no data'})", style="dim")
        return out
    raster = rasterize(chart.series, result.start, result.end, result.step, plot_width)
    lo, hi = scale(raster, chart.threshold)
    total = height * len(BLOCKS)
    thr_row = None
    if chart.threshold is not None and math.isfinite(chart.threshold):
        level = (chart.threshold - lo) / (hi - lo) * total
        thr_row = height - 1 - min(height - 1, max(0, int(level // len(BLOCKS))))
    normal, breach, warn = colour("ok", "green"), colour("error", "red"), colour("sev-warning", "yellow")
    if changes is not None:
        from .change_marks import marks

        out.append("\n")
        out.append(f"{'changes':>{AXIS - 1}}  ", style="dim")
        out.append_text(marks(changes, result.start, result.end, plot_width))
    for row in range(height):
        label = ""
        if row == thr_row:
            label = fmt(chart.threshold, chart.unit)
        elif row == 0:
            label = fmt(hi, chart.unit)
        elif row == height - 1:
            label = fmt(lo, chart.unit)
        out.append("\n")
        out.append(f"{label:>{AXIS - 1}} ", style=warn if row == thr_row else "dim")
        out.append("┤" if label else "│", style="dim")
        bottom = (height - 1 - row) * len(BLOCKS)
        for v in raster.cells:
            if v is not None:
                eighths = max(1, round((v - lo) / (hi - lo) * total))
                fill = eighths - bottom
                if fill > 0:
                    glyph = BLOCKS[-1] if fill >= len(BLOCKS) else BLOCKS[fill - 1]
                    out.append(glyph, style=breach if breaches(v, chart.op, chart.threshold) else normal)
                    continue
            out.append("┈" if row == thr_row else " ", style=warn)
    nonfinite_cols = _nonfinite_columns(chart, plot_width)
    axis = "".join("×" if i in nonfinite_cols else "─" for i in range(plot_width))
    out.append("\n" + " " * AXIS + "└" + axis, style="dim")
    start, end = result.start, result.end
    left, mid, right = _hhmm(start), _hhmm((start + end) / 2), _hhmm(end) + " UTC"
    pad = max(1, plot_width - len(left) - len(mid) - len(right))
    labels = left + " " * (pad // 2) + mid + " " * (pad - pad // 2) + right
    out.append("\n" + " " * (AXIS + 1) + labels, style="dim")
    note = gap_note(raster, chart, long=True)
    if note:
        out.append(f"\n  blank columns: {note} (never drawn as zero)", style="dim")
    if is_stale(chart, now, refresh):
        out.stylize("dim")
    return out


def _nonfinite_columns(chart: Chart, width: int) -> set[int]:
    result, series = chart.result, chart.series
    if series is None:
        return set()
    span = max(result.end - result.start, 1e-9)
    return {min(width - 1, max(0, int((t - result.start) / span * width)))
            for t, v in series.points if not math.isfinite(v)}
