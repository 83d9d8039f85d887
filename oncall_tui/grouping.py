"""Merge the sources' alerts, group them (alertname × key labels) and sort the groups."""

from __future__ import annotations

from datetime import datetime, timezone
from types import MappingProxyType
from typing import Iterable, Sequence

from .models import Alert, AlertGroup, AlertState, severity_rank

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def merge(alertmanager: Iterable[Alert], prometheus: Iterable[Alert], *, alertmanager_ok: bool) -> list[Alert]:
    """Alertmanager's alerts plus Prometheus' pending ones.

    Prometheus' firing alerts are what Alertmanager already shows; they are used only while
    Alertmanager cannot be read, so a dead Alertmanager never blanks the screen.
    """
    out = list(alertmanager)
    for alert in prometheus:
        if alert.state is AlertState.PENDING or not alertmanager_ok:
            out.append(alert)
    return out


def group_key(alert: Alert, key_labels: Sequence[str]) -> str:
    return "\x00".join([alert.name, *(alert.labels.get(k, "") for k in key_labels)])


def _alert_order(alert: Alert) -> tuple:
    started = alert.starts_at or _EPOCH
    return (severity_rank(alert.severity), alert.state.rank, -started.timestamp(), alert.fingerprint)


def group(alerts: Iterable[Alert], key_labels: Sequence[str] = ("model",)) -> list[AlertGroup]:
    """Groups sorted by severity, then state, then age (newest first); alerts inside sorted the same way."""
    buckets: dict[str, list[Alert]] = {}
    for alert in alerts:
        buckets.setdefault(group_key(alert, key_labels), []).append(alert)
    groups = []
    for key, members in buckets.items():
        members.sort(key=_alert_order)
        first = members[0]
        labels = {k: first.labels[k] for k in key_labels if first.labels.get(k)}
        groups.append(AlertGroup(key=key, name=first.name, key_labels=MappingProxyType(labels),
                                 alerts=tuple(members)))
    groups.sort(key=_group_order)
    return groups


def _group_order(g: AlertGroup) -> tuple:
    started = g.starts_at or _EPOCH
    return (severity_rank(g.severity), g.state.rank, -started.timestamp(), g.key)


def cluster_counts(g: AlertGroup) -> str:
    """Which clusters a group's alerts come from: "eu-prod" or "eu-prod 3 · us-east 2" (most first)."""
    counts: dict[str, int] = {}
    for a in g.alerts:
        counts[a.cluster] = counts.get(a.cluster, 0) + 1
    if len(counts) == 1:
        return next(iter(counts))
    return " · ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
