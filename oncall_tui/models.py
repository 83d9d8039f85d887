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
    run_error: str = ""  # why the source run could not be read (its metrics and training time are unknown)

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


# -- Kubernetes: the alert's Deployment, diagnosis and rollback (issue 8) ---------------------------
def freeze(value: object) -> object:
    """A read-only deep copy of a decoded API object (dicts → mappings, lists → tuples)."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: object) -> object:
    """The inverse of `freeze`: plain dicts and lists again, e.g. to send back in a patch."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class ContainerState:
    name: str
    image: str = ""
    ready: bool = False
    restarts: int = 0
    state: str = ""  # running | waiting | terminated
    reason: str = ""  # of the current state: CrashLoopBackOff, ImagePullBackOff, OOMKilled, Error…
    message: str = ""
    last_reason: str = ""  # lastState.terminated: why the previous instance died
    last_exit_code: int | None = None
    last_finished: datetime | None = None


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    phase: str = ""
    node: str = ""
    created_at: datetime | None = None
    owner: str = ""  # the ReplicaSet that controls it
    containers: tuple[ContainerState, ...] = ()
    deleting: bool = False

    @property
    def restarts(self) -> int:
        return sum(c.restarts for c in self.containers)

    @property
    def ready(self) -> bool:
        return bool(self.containers) and all(c.ready for c in self.containers)

    @property
    def reason(self) -> str:
        """The most telling reason: a current waiting/terminated one (CrashLoopBackOff) else the last death."""
        now = [c.reason for c in self.containers if c.reason and c.state != "running"]
        last = [c.last_reason for c in self.containers if c.last_reason]
        return (now or last or [""])[0]


@dataclass(frozen=True)
class ReplicaSet:
    name: str
    namespace: str
    uid: str = ""
    revision: int = 0  # deployment.kubernetes.io/revision
    created_at: datetime | None = None
    replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    images: tuple[str, ...] = ()
    template: Mapping[str, object] = field(default_factory=lambda: EMPTY)  # frozen pod template
    annotations: Mapping[str, str] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class Deployment:
    name: str
    namespace: str
    uid: str = ""
    resource_version: str = ""
    generation: int = 0
    observed_generation: int = 0
    replicas: int = 0  # desired
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    revision: int = 0
    paused: bool = False
    progress_deadline: int | None = None  # seconds
    images: tuple[str, ...] = ()
    selector: Mapping[str, str] = field(default_factory=lambda: EMPTY)  # matchLabels
    created_at: datetime | None = None
    annotations: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    template: Mapping[str, object] = field(default_factory=lambda: EMPTY)
    conditions: tuple[tuple[str, str, str, str], ...] = ()  # (type, status, reason, message)

    def condition(self, kind: str) -> tuple[str, str, str, str] | None:
        return next((c for c in self.conditions if c[0] == kind), None)


@dataclass(frozen=True)
class DeploymentView:
    """What the deployment panel shows: the Deployment, its ReplicaSets (newest first) and pods."""

    deployment: Deployment
    replica_sets: tuple[ReplicaSet, ...] = ()
    pods: tuple[Pod, ...] = ()
    context: str = ""
    fetched_at: datetime = field(default_factory=utcnow)

    @property
    def current(self) -> ReplicaSet | None:
        return next((rs for rs in self.replica_sets if rs.revision == self.deployment.revision),
                    self.replica_sets[0] if self.replica_sets else None)


@dataclass(frozen=True)
class Event:
    type: str  # Warning | Normal
    reason: str
    message: str
    count: int = 1
    kind: str = ""  # of the involved object
    object_name: str = ""
    first_seen: datetime | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True)
class LogTail:
    pod: str
    container: str
    lines: tuple[str, ...] = ()  # sanitized
    previous: bool = False  # the log of the instance that died
    tail_lines: int = 0
    limit_bytes: int = 0
    error: str = ""


@dataclass(frozen=True)
class Finding:
    severity: str  # critical | warning | info | ok
    check: str  # pods | events | logs | promql | registry | rollout
    title: str
    detail: str = ""


@dataclass(frozen=True)
class AccessReview:
    """SelfSubjectAccessReviews needed for an action: allowed only if every one said yes."""

    allowed: bool
    denied: tuple[str, ...] = ()  # "patch deployments.apps in ml", …
    reason: str = ""
    checked_at: float = 0.0  # time.monotonic()


@dataclass(frozen=True)
class TemplateChange:
    container: str
    field: str  # image | env | args | command | other
    before: str
    after: str


@dataclass(frozen=True)
class DeploymentRollbackPlan:
    """Undo the rollout of `name` to the template of `target_revision`, pinned when the plan was made."""

    context: str
    namespace: str
    name: str
    uid: str
    resource_version: str  # the precondition of the patch
    current_revision: int
    target_revision: int
    target_replica_set: str
    target_template: Mapping[str, object]  # frozen, without pod-template-hash
    annotations: Mapping[str, str]  # the Deployment's annotations after the rollback (kubectl's rule)
    changes: tuple[TemplateChange, ...] = ()
    candidates: tuple[ReplicaSet, ...] = ()  # other revisions one may choose (newest first)
    dry_run: str = ""  # "" not run, "ok", or why the server refused it


@dataclass(frozen=True)
class DeploymentRollbackResult:
    ok: bool
    outcome: str  # ok | failed | unknown (as audited); "" when nothing was recorded
    message: str
    audit_id: str = ""
    conflict: bool = False  # 409: the Deployment changed since the plan
    resource_version: str = ""  # after the patch


@dataclass(frozen=True)
class RolloutStatus:
    desired: int
    updated: int
    ready: int
    available: int
    observed: bool  # observedGeneration caught up with generation
    done: bool = False
    failed: bool = False  # ProgressDeadlineExceeded
    message: str = ""
