"""Immutable models that sources return and the UI renders. No I/O, no textual."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from types import MappingProxyType
from typing import Mapping

EMPTY: Mapping[str, str] = MappingProxyType({})


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class AlertState(str, Enum):
    """Where an alert stands. Ordered by how much it needs a human right now."""

    FIRING = "firing"
    PENDING = "pending"  # about to fire (Prometheus, `for:` not yet elapsed)
    SILENCED = "silenced"
    INHIBITED = "inhibited"

    @property
    def rank(self) -> int:
        return _STATE_RANK[self]


_STATE_RANK = {AlertState.FIRING: 0, AlertState.PENDING: 1, AlertState.INHIBITED: 2, AlertState.SILENCED: 3}

SEVERITY_RANK = {"critical": 0, "error": 1, "warning": 2, "info": 3, "none": 4}


def severity_rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity.lower(), 5)


@dataclass(frozen=True)
class Alert:
    """One alert, from Alertmanager (firing/silenced/inhibited) or Prometheus (pending)."""

    fingerprint: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    state: AlertState = AlertState.FIRING
    starts_at: datetime | None = None
    updated_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str = ""
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    receivers: tuple[str, ...] = ()
    source: str = "alertmanager"
    value: str = ""  # Prometheus' current value of the expression, when known

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "none")

    @property
    def component(self) -> str:
        return self.labels.get("component", "")

    @property
    def summary(self) -> str:
        return self.annotations.get("summary", "") or self.annotations.get("description", "")

    @property
    def runbook_url(self) -> str:
        return self.annotations.get("runbook_url", "") or self.annotations.get("runbook", "")

    def label(self, name: str) -> str:
        return self.labels.get(name, "")


@dataclass(frozen=True)
class AlertGroup:
    """Alerts that share a name and key labels: one row on the alerts screen."""

    key: str
    name: str
    key_labels: Mapping[str, str]
    alerts: tuple[Alert, ...]

    @property
    def severity(self) -> str:
        return min((a.severity for a in self.alerts), key=severity_rank, default="none")

    @property
    def state(self) -> AlertState:
        return min((a.state for a in self.alerts), key=lambda s: s.rank, default=AlertState.FIRING)

    @property
    def starts_at(self) -> datetime | None:
        starts = [a.starts_at for a in self.alerts if a.starts_at is not None]
        return min(starts) if starts else None

    @property
    def count(self) -> int:
        return len(self.alerts)

    @property
    def first(self) -> Alert:
        return self.alerts[0]


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @property
    def operator(self) -> str:
        return {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[
            (self.is_regex, self.is_equal)
        ]

    def __str__(self) -> str:
        value = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.operator}"{value}"'


@dataclass(frozen=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    state: str = "active"  # active | pending | expired
    updated_at: datetime | None = None


class SourceHealth(str, Enum):
    UNKNOWN = "unknown"
    OK = "ok"
    STALE = "stale"
    NOT_CONFIGURED = "not configured"


@dataclass(frozen=True)
class SourceStatus:
    """What the status bar says about one backend."""

    name: str
    health: SourceHealth = SourceHealth.UNKNOWN
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    error: str = ""
    detail: str = ""  # e.g. the Alertmanager cluster state


@dataclass(frozen=True)
class AlertsSnapshot:
    """The result of one poll of one source: every alert it knows, at a moment."""

    source: str
    alerts: tuple[Alert, ...] = ()
    fetched_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class BackendCheck:
    """One line of `mlcall-tui check`."""

    name: str
    url: str
    ok: bool | None  # None: not configured
    version: str = ""
    latency_ms: float | None = None
    error: str = ""


# -- MLflow model registry ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelVersion:
    """One version of a registered model, with what its source run says about it."""

    name: str
    version: str  # MLflow's REST API wants a string
    status: str = ""  # READY | PENDING_REGISTRATION | FAILED_REGISTRATION
    aliases: tuple[str, ...] = ()  # filled from the registered model (search results carry none)
    created_at: datetime | None = None
    run_id: str = ""
    source: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    metrics: Mapping[str, float] = field(default_factory=lambda: EMPTY)  # the source run's latest metrics
    trained_at: datetime | None = None  # the source run's end (else start)

    @property
    def number(self) -> int:
        try:
            return int(self.version)
        except ValueError:
            return -1

    @property
    def ready(self) -> bool:
        return self.status.upper() == "READY"


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    aliases: Mapping[str, str] = field(default_factory=lambda: EMPTY)  # alias -> version
    latest_version: str = ""
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ModelServing:
    """What the model panel shows: the version behind the serving alias and the one before it."""

    model: RegisteredModel
    alias: str
    serving: ModelVersion | None  # None: the alias is not set
    previous: ModelVersion | None = None
    previous_why: str = ""  # how `previous` was found (tag history, or newest older READY version)
    fetched_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class RegistryRollbackPlan:
    """Move `alias` of `model` from `current` to `target`: what the confirm dialog shows."""

    model: str
    alias: str
    current: str  # the version the alias pointed to when the plan was made
    target: str
    target_why: str
    candidates: tuple[ModelVersion, ...]  # READY versions the user may pick instead (newest first)
    registry: str = ""  # the registry URI, without credentials
    undo_of: str = ""  # set when the target is where this tool moved the alias from (an undo)


@dataclass(frozen=True)
class RegistryRollbackResult:
    ok: bool
    outcome: str  # ok | failed | unknown (as audited)
    message: str
    audit_id: str = ""
    before: str = ""
    after: str = ""


# -- time series: the alert's own signal and its model's health (issue 7) ---------------------------
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
