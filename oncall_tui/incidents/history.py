"""What Prometheus remembers about alerts: the `ALERTS` series (pending/firing per evaluation) read with
range queries whose step keeps every answer under Prometheus' 11,000-points-per-series limit.

Alertmanager forgets resolved alerts; Prometheus keeps `ALERTS{alertstate="pending"|"firing"}` for its
retention, with a stale marker when an alert stops, so a range query shows each firing run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence

from ..models import Series
from ..promql import quote

MAX_POINTS = 10_000  # Prometheus refuses > 11,000 points per series; stay clearly below


def step_for(seconds: float, min_step: float = 1.0, max_points: int = MAX_POINTS) -> float:
    """The smallest whole-second step ≥ min_step that keeps (seconds / step) points under max_points."""
    return float(max(math.ceil(min_step), math.ceil(seconds / max_points)))


def selector(metric: str, labels: Mapping[str, str], **extra: str) -> str:
    """`ALERTS{alertname="X",model="m",…}` from an alert's labels (empty values are left out)."""
    items = {**{k: v for k, v in labels.items() if v and k != "alertstate"}, **extra}
    return metric + "{" + ",".join(f"{k}={quote(v)}" for k, v in sorted(items.items())) + "}"


def runs(points: Sequence[float], step: float) -> list[tuple[float, float]]:
    """Contiguous runs of timestamps on the step grid: (first, last). A missing step ends a run."""
    out: list[tuple[float, float]] = []
    for t in sorted(points):
        if out and t - out[-1][1] <= step * 1.5:
            out[-1] = (out[-1][0], t)
        else:
            out.append((t, t))
    return out


def union(intervals: Iterable[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """Intervals of several series of one alert merged where they overlap or touch."""
    out: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1] + step * 1.5:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


@dataclass(frozen=True)
class Episode:
    """One incident of an alert: firing runs separated by less than the flap gap count once."""

    start: float
    end: float
    firing: float  # seconds actually firing (gaps between flaps excluded)
    runs: int  # 1 + the number of flaps folded in

    @property
    def duration(self) -> float:
        return self.end - self.start


def episodes(intervals: Sequence[tuple[float, float]], flap_gap: float) -> list[Episode]:
    out: list[Episode] = []
    for start, end in intervals:
        if out and start - out[-1].end <= flap_gap:
            last = out[-1]
            out[-1] = Episode(last.start, end, last.firing + (end - start), last.runs + 1)
        else:
            out.append(Episode(start, end, end - start, 1))
    return out


def transitions(series: Iterable[Series], step: float, end: float) -> list[tuple[datetime, str]]:
    """pending → firing → inactive moments from a range query of `ALERTS{…}` (both states)."""
    marks: list[tuple[float, str]] = []
    firing_runs: list[tuple[float, float]] = []
    for s in series:
        state = s.labels.get("alertstate", "")
        if state not in ("pending", "firing"):
            continue
        found = runs([t for t, _v in s.points], step)
        marks += [(first, state) for first, _last in found]
        if state == "firing":
            firing_runs += found
    for _first, last in union(firing_runs, step):
        if last < end - 1.5 * step:  # the last grid point (> end - step) had no sample: no longer firing
            marks.append((last + step, "inactive"))
    return [(datetime.fromtimestamp(t, timezone.utc), state) for t, state in sorted(marks)]


def active_since(series: Iterable[Series]) -> datetime | None:
    """`ALERTS_FOR_STATE`'s value is the unix time the alert became active (pending began)."""
    values = [v for s in series for _t, v in s.points if v == v and v > 0]
    return datetime.fromtimestamp(min(values), timezone.utc) if values else None
