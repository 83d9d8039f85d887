"""Alerts, silences and the health of the sources that report them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from functools import cached_property
from types import MappingProxyType
from typing import Mapping, Sequence

EMPTY: Mapping[str, str] = MappingProxyType({})


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def compact_duration(seconds: float) -> str:
    """42s, 7m, 3h12m, 2d4h: the form of the tables' Age column (negative counts as 0)."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h{minutes % 60:02d}m" if hours < 24 else f"{hours // 24}d{hours % 24}h"


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


def search_text(labels: Mapping[str, str], annotations: Mapping[str, str]) -> str:
    """An alert's name, summary and label values, case-folded: what the filter's free text looks in."""
    summary = annotations.get("summary", "") or annotations.get("description", "")
    return "\x00".join([labels.get("alertname", ""), summary, *labels.values()]).casefold()


@dataclass(frozen=True, slots=True)  # 50,000 of them in a fleet: no __dict__ each
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
    cluster: str = ""  # the `[[clusters]]` name it came from ("": the one cluster, no [[clusters]])
    # what the filter's free text looks in, case-folded; decoders fill it off the UI thread ("": fold on demand)
    search: str = field(default="", compare=False, repr=False)

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

    # computed once per group (a group may hold thousands of alerts; rows and ages ask often)
    @cached_property
    def severity(self) -> str:
        return min((a.severity for a in self.alerts), key=severity_rank, default="none")

    @cached_property
    def state(self) -> AlertState:
        return min((a.state for a in self.alerts), key=lambda s: s.rank, default=AlertState.FIRING)

    @cached_property
    def starts_at(self) -> datetime | None:
        starts = [a.starts_at for a in self.alerts if a.starts_at is not None]
        return min(starts) if starts else None

    @property
    def count(self) -> int:
        return len(self.alerts)

    @cached_property
    def search_blob(self) -> tuple[str, list[int]]:
        """The search texts joined by newlines, and where each starts: one C-level find() per hit."""
        starts, offset = [], 0
        for text in self.search_texts:
            starts.append(offset)
            offset += len(text) + 1
        return "\n".join(self.search_texts), starts

    @cached_property
    def cluster_index(self) -> dict[str, Sequence[int]]:
        """Which of its alerts (indexes, in order) come from which cluster: `@cluster=` per cluster, not per alert."""
        out: dict[str, list[int]] = {}
        for i, a in enumerate(self.alerts):
            out.setdefault(a.cluster, []).append(i)
        return out  # type: ignore[return-value]

    @cached_property
    def search_texts(self) -> tuple[str, ...]:
        """Per alert, what the filter's free text looks in (name, summary, label values), case-folded once."""
        return tuple(a.search or search_text(a.labels, a.annotations) for a in self.alerts)

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
    cluster: str = ""  # the `[[clusters]]` name of the Alertmanager cluster that holds it


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
class BackendCheck:
    """One line of `mlcall-tui check`."""

    name: str
    url: str
    ok: bool | None  # None: not configured
    version: str = ""
    latency_ms: float | None = None
    error: str = ""
