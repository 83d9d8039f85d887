"""Kubernetes: the alert's Deployment, its diagnosis and its rollback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Mapping

from .alerts import EMPTY, compact_duration, utcnow


def compact_age(start: datetime | None, now: datetime | None = None) -> str:
    """42s, 7m, 3h12m, 2d4h (the same form as the tables' Age column)."""
    return "?" if start is None else compact_duration(((now or utcnow()) - start).total_seconds())


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

    @property
    def troubled(self) -> bool:
        """Worth a line of its own: not running now, or an earlier instance died."""
        return bool((self.reason and self.state != "running") or self.last_reason)

    def status_text(self, now: datetime | None = None) -> str:
        """What is wrong with it, the current state first and the last death after it, e.g.
        `CrashLoopBackOff · last OOMKilled (137) 2m ago` ("" when nothing is)."""
        parts = [self.reason] if self.reason and self.state != "running" else []
        if self.last_reason:
            code = f" ({self.last_exit_code})" if self.last_exit_code is not None else ""
            when = f" {compact_age(self.last_finished, now)} ago" if self.last_finished is not None else ""
            parts.append(f"last {self.last_reason}{code}{when}")
        return " · ".join(parts)


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
