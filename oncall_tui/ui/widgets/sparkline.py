"""Sparklines and block charts drawn with ▁▂▃▄▅▆▇█ into rich Text (no textual widget here).

Honest drawing: a column without a sample, or with only NaN/±Inf samples, is a GAP (blank), counted in
a note — never a zero. Cells beyond the threshold take the error colour; the threshold is always
written as a number. A chart whose data is older than twice the refresh interval is dimmed.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.text import Text

from ...models import Chart, Series
from ...promql import breaches
from ...safe_text import safe
from ..cells import style

BLOCKS = "▁▂▃▄▅▆▇█"
GAP = " "


def colour(name: str, fallback: str) -> str:
    return style(name) or fallback


def fmt(value: float | None, unit: str = "") -> str:
    """A value with its unit, compact: 280ms, 4.06s, 2.5min, 1.20%, 10.0d, 25.1/s, 0.35."""
    if value is None:
        return "–"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if unit == "s":
        if abs(value) < 1:
            return f"{value * 1000:.0f}ms"
        return f"{value:.2f}s" if abs(value) < 60 else f"{value / 60:.1f}min"
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "days":
        return f"{value:.1f}d"
    if unit == "req/s":
        return f"{value:.1f}/s"
    number = f"{value:.3g}" if abs(value) >= 0.001 or value == 0 else f"{value:.1e}"
    return f"{number}{unit}"


def clock_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%H:%M:%S")


@dataclass(frozen=True)
class Raster:
    """A series spread over `width` columns: the max finite value per column, or None (a gap)."""

    cells: tuple[float | None, ...]
    nonfinite: int = 0  # columns whose only samples were NaN/±Inf
    gaps: int = 0  # columns without any sample, between the first and the last sample
    leading: int = 0  # columns before the first sample (the series began inside the window)
    trailing: int = 0  # columns after the last sample (the series stopped)

    @property
    def values(self) -> list[float]:
        return [v for v in self.cells if v is not None]


def rasterize(series: Series | None, start: float, end: float, step: float, width: int) -> Raster:
    """Each sample goes to its own column (max of the finite ones; NaN/Inf flag the column). A column
    no sample falls in (points sparser than columns) takes the sample nearest its middle, if that is
    within half a step — so a NaN sample is never hidden behind a neighbour's value."""
    width = max(1, width)
    cells: list[float | None] = [None] * width
    bad = [False] * width
    span = max(end - start, 1e-9)
    points = list(series.points) if series is not None else []

    def put(col: int, v: float) -> None:
        if math.isfinite(v):
            old = cells[col]
            cells[col] = v if old is None else max(old, v)
        else:
            bad[col] = True

    for t, v in points:
        put(min(width - 1, max(0, math.floor((t - start) / span * width))), v)
    times = [t for t, _ in points]
    for col in range(width):
        if cells[col] is None and not bad[col] and times:
            middle = start + (col + 0.5) * span / width
            i = bisect.bisect_left(times, middle)
            near = min((j for j in (i - 1, i) if 0 <= j < len(times)), key=lambda j: abs(times[j] - middle))
            if abs(times[near] - middle) <= step / 2 + 1e-9:
                put(col, points[near][1])
    sampled = [i for i in range(width) if cells[i] is not None or bad[i]]
    if not sampled:
        return Raster(tuple(cells), leading=width)
    first, last = sampled[0], sampled[-1]
    nonfinite = sum(1 for i in range(width) if cells[i] is None and bad[i])
    gaps = sum(1 for i in range(first, last + 1) if cells[i] is None and not bad[i])
    return Raster(tuple(cells), nonfinite, gaps, first, width - 1 - last)


def scale(raster: Raster, threshold: float | None) -> tuple[float, float]:
    """(low, high) of the drawing: the data's range, widened to include the threshold."""
    values = raster.values + ([threshold] if threshold is not None and math.isfinite(threshold) else [])
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        return lo - 1.0, hi + 1.0
    return lo, hi


def spark(raster: Raster, threshold: float | None, op: str, lo: float, hi: float) -> Text:
    """One line of blocks; cells beyond the threshold in the error colour, gaps blank."""
    out = Text(end="")
    normal, breach = colour("ok", "green"), colour("error", "red")
    for v in raster.cells:
        if v is None:
            out.append(GAP)
            continue
        level = int(round((v - lo) / (hi - lo) * (len(BLOCKS) - 1)))
        out.append(BLOCKS[max(0, min(len(BLOCKS) - 1, level))], style=breach if breaches(v, op, threshold) else normal)
    return out


def trend(series: Series | None, window: float) -> str:
    """↑ ↓ → : the newest value against the one a tenth of the window earlier."""
    points = series.finite() if series else []
    if len(points) < 2:
        return " "
    t_last, v_last = points[-1]
    earlier = [v for t, v in points if t <= t_last - window / 10] or [points[0][1]]
    before = earlier[-1]
    tolerance = max(abs(before), abs(v_last)) * 0.05
    if v_last > before + tolerance:
        return "↑"
    if v_last < before - tolerance:
        return "↓"
    return "→"


def crossing(series: Series | None, op: str, threshold: float | None) -> str:
    """When the signal crossed its threshold, in words, from the points themselves."""
    points = series.finite() if series else []
    if threshold is None or not op or not points:
        return ""
    states = [breaches(v, op, threshold) for _, v in points]
    if states[-1]:
        i = len(states) - 1
        while i > 0 and states[i - 1]:
            i -= 1
        if i == 0:
            return f"beyond it since ≤ {clock_time(points[0][0])} UTC (the window's first sample)"
        return f"crossed ≈ {clock_time(points[i][0])} UTC"
    if any(states):
        last = max(i for i, s in enumerate(states) if s)
        return f"back within it since ≈ {clock_time(points[last + 1][0])} UTC"
    return "never crossed in this window"


def gap_note(raster: Raster, chart: Chart, *, long: bool = False) -> str:
    """What the blank columns mean: NaN/Inf samples, missing samples, a series that stopped."""
    if chart.series is None and chart.result.ok:
        return chart.note or "no data"
    parts = []
    if raster.nonfinite:
        parts.append(f"{raster.nonfinite} col NaN/Inf" if long else f"NaN×{raster.nonfinite}")
    if raster.gaps:
        parts.append(f"{raster.gaps} col without samples" if long else f"gap×{raster.gaps}")
    if raster.trailing:
        last = chart.series.points[-1][0] if chart.series and chart.series.points else None
        when = clock_time(last) if last is not None else "?"
        parts.append(f"no sample since {when} UTC" if long else f"ends {when[:5]}")
    first = chart.series.points[0][0] if chart.series and chart.series.points else None
    if raster.leading and long:
        parts.append(f"no sample before {clock_time(first)} UTC" if first is not None else "no sample")
    elif first is not None and raster.leading * 3 >= len(raster.cells):
        # The series covers at most two thirds of the window (a new service, a fresh Prometheus): say
        # since when the data exists, so a short line is not read as the whole window.
        parts.append(f"since {clock_time(first)[:5]}")
    return ", ".join(parts)


def is_stale(chart: Chart, now: float, refresh: float) -> bool:
    fetched = chart.result.fetched_at
    return fetched is not None and now - fetched > 2 * refresh


def stale_since(chart: Chart, now: float, refresh: float) -> float | None:
    """When the data shown was fetched, if it is stale: this refresh failed, or it is older than 2×refresh."""
    fetched = chart.result.fetched_at
    if fetched is not None and (chart.result.error_type or now - fetched > 2 * refresh):
        return fetched
    return None


def badges(chart: Chart, now: float, refresh: float, *, long: bool = False) -> Text:
    """PARTIAL, and a stale marker (the panel's header says since when and why; `long` says it here)."""
    out = Text(end="")
    if chart.result.partial:
        out.append(" PARTIAL " if long else "PARTIAL", style=f"bold reverse {colour('sev-warning', 'yellow')}")
        out.append(" ")
    since = stale_since(chart, now, refresh)
    if since is not None and long:
        out.append(f"stale since {clock_time(since)} UTC", style="dim")
        if chart.result.error_type:
            out.append(" · ")
            out.append_text(safe(chart.result.error_type, "bold", single_line=True, max_len=30))
        out.append(" ")
    elif since is not None:
        out.append("stale ", style="dim")
    return out


def stale_summary(charts, now: float, refresh: float) -> Text:
    """One line for a panel's header: since when its data is stale and why (error types)."""
    stale = [(s, c) for c in charts if (s := stale_since(c, now, refresh)) is not None]
    out = Text(end="")
    if stale:
        out.append(f"stale since {clock_time(min(s for s, _ in stale))} UTC", style="bold")
        kinds = sorted({c.result.error_type for _, c in stale if c.result.error_type})
        if kinds:
            out.append(" · ")
            out.append_text(safe(", ".join(kinds), f"bold {colour('error', 'red')}", single_line=True, max_len=60))
    return out


def error_text(chart: Chart, width: int) -> Text:
    """A failed query's error type, in place of the chart."""
    out = Text("✖ ", style=colour("error", "red"), end="")
    out.append_text(safe(chart.result.error_type, f"bold {colour('error', 'red')}", single_line=True, max_len=30))
    if chart.result.error:
        out.append(": ")
        out.append_text(safe(chart.result.error, "dim", single_line=True, max_len=300))
    out.truncate(max(1, width), overflow="ellipsis")
    return out


def threshold_text(chart: Chart) -> str:
    if chart.threshold is None:
        return ""
    return f"thr {chart.op} {fmt(chart.threshold, chart.unit)}"


def spark_columns(width: int, title_width: int) -> int:
    """Columns of blocks in a `line` of this width (the step is chosen so one point fills one column):
    about 3/5 of what the title leaves, and room for the value, trend, threshold and a gap note."""
    body = width - title_width
    return max(8, min(body * 3 // 5, body - 24))


def line(chart: Chart, width: int, *, now: float, refresh: float, title_width: int = 14,
         window: float | None = None, show_threshold: bool = True) -> Text:
    """`title  ▁▂▃▆█  4.06s ↑ >2.00s NaN×2  280ms–4.20s` in `width` columns: the title, the blocks, the
    newest value with its trend, the threshold as a number, gap notes and badges always; min–max
    when there is room. (Split charts share one threshold, written once in their section header.)"""
    result = chart.result
    title = safe(chart.title, "bold", single_line=True)
    title.truncate(title_width - 1, overflow="ellipsis")
    title.pad_right(title_width - title.cell_len)
    out = Text(end="")
    out.append_text(title)
    body_width = max(8, width - title_width)
    if not result.ok and result.fetched_at is None:
        out.append_text(error_text(chart, body_width))
        return out
    if chart.series is None:
        note = Text(f"(gap: {chart.note or 'no data'})", style="dim", end="")
        note.truncate(body_width, overflow="ellipsis")
        out.append_text(note)
        return out
    columns = min(spark_columns(width, title_width), body_width)
    raster = rasterize(chart.series, result.start, result.end, result.step, columns)
    lo, hi = scale(raster, chart.threshold)
    out.append_text(spark(raster, chart.threshold, chart.op, lo, hi))
    last = chart.series.last()
    right = Text(f" {fmt(last[1] if last else None, chart.unit):>6} ", end="")
    right.append(trend(chart.series, window or (result.end - result.start)))
    right.append(" ")
    if show_threshold and chart.threshold is not None:
        right.append(f"{chart.op}{fmt(chart.threshold, chart.unit)} ", style=colour("sev-warning", "yellow"))
    note = gap_note(raster, chart)
    if note:
        right.append(f"{note} ", style="italic")
    right.append_text(badges(chart, now, refresh))
    values = [v for _, v in chart.series.finite()]
    optional = []
    if values:
        optional.append(Text(f" {fmt(min(values), chart.unit)}–{fmt(max(values), chart.unit)}", style="dim", end=""))
    if chart.extra:
        optional.append(Text(f" +{chart.extra} series", style="dim", end=""))
    room = width - out.cell_len - right.cell_len
    for piece in optional:
        if piece.cell_len <= room:
            right.append_text(piece)
            room -= piece.cell_len
    out.append_text(right)
    out.truncate(width, overflow="ellipsis")
    if is_stale(chart, now, refresh):
        out.stylize("dim")
    return out
