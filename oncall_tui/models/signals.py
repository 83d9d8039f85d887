"""Time series: the alert's own signal and its model's health."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .alerts import EMPTY


@dataclass(frozen=True)
class Series:
    """One series of a range query: (unix seconds, value) points as Prometheus sent them.

    NaN and ±Inf stay what they are (they are drawn as gaps with a note, never as zeros); a timestamp
    missing from the step grid is a gap.
    """

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...] = ()

    def finite(self) -> list[tuple[float, float]]:
        return [(t, v) for t, v in self.points if v == v and v not in (float("inf"), float("-inf"))]

    def last(self) -> tuple[float, float] | None:
        """The newest finite point."""
        good = self.finite()
        return good[-1] if good else None


@dataclass(frozen=True)
class QueryResult:
    """What one `query_range` answered, honestly: partial answers and failures are flagged, not hidden.

    On a failed refresh `series` may hold the last good answer (fetched at `fetched_at`) while
    `error_type`/`error` say why this attempt failed.
    """

    query: str
    start: float
    end: float
    step: float
    series: tuple[Series, ...] = ()
    warnings: tuple[str, ...] = ()
    partial: bool = False  # warnings, Thanos partial_response or VictoriaMetrics isPartial
    error_type: str = ""  # bad_data | execution | timeout | canceled | internal | http 502 | connection refused…
    error: str = ""
    fetched_at: float | None = None  # unix seconds of the answer `series` came from

    @property
    def ok(self) -> bool:
        return not self.error_type


@dataclass(frozen=True)
class AlertRule:
    """An alerting rule as Prometheus evaluates it, split into its signal and threshold."""

    name: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    signal_expr: str = ""
    op: str = ""
    threshold: float | None = None
    note: str = ""  # why there is no numeric threshold, when there is none
    group: str = ""
    duration: float = 0.0
    alerts: tuple[Mapping[str, str], ...] = ()  # label sets of its active alerts (tells same-named rules apart)


@dataclass(frozen=True)
class Chart:
    """One labelled sparkline: the series to draw, its unit and the threshold it is judged against."""

    key: str  # "signal", "p95_latency", "drift_ks:account_age_days"…
    title: str
    unit: str
    result: QueryResult
    series: Series | None = None  # None: the series does not exist (drawn as a gap, with `note`)
    threshold: float | None = None
    op: str = ""
    note: str = ""
    extra: int = 0  # further series matched but not drawn


@dataclass(frozen=True)
class SignalView:
    """Everything the signal and health panels show for one alert over one time window."""

    fingerprint: str
    alert_name: str
    model: str
    window: float  # seconds
    signal: Chart | None = None
    health: tuple[Chart, ...] = ()
    drift: tuple[Chart, ...] = ()  # highest current KS first
    rule: AlertRule | None = None
    note: str = ""

    @property
    def charts(self) -> tuple[Chart, ...]:
        return ((self.signal,) if self.signal else ()) + self.health + self.drift

    @property
    def partial(self) -> bool:
        return any(c.result.partial for c in self.charts)
