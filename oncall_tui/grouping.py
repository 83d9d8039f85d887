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
    key = "\x00".join([alert.name, *(alert.labels.get(k, "") for k in key_labels)])
    # a fire drill (drill="true") never shares a row with the real alert of the same name and model
    return key + "\x00drill" if alert.labels.get("drill", "").lower() == "true" else key


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


def combine(runs: Iterable[Sequence[AlertGroup]]) -> list[AlertGroup]:
    """Groups of several clusters (`runs`: each cluster's groups from `group`, kept between polls; every alert
    of a run comes from that one cluster) as one list: a group
    spanning clusters holds each cluster's alerts in turn, the cluster with the most urgent alert first.

    Only the cluster whose poll changed is grouped again; this merge touches groups, not alerts.
    """
    by_key: dict[str, list[AlertGroup]] = {}
    for groups in runs:
        for g in groups:
            by_key.setdefault(g.key, []).append(g)
    out = []
    for parts in by_key.values():
        if len(parts) == 1:
            out.append(parts[0])
            continue
        parts.sort(key=_group_order)
        first = parts[0]
        combined = AlertGroup(key=first.key, name=first.name, key_labels=first.key_labels,
                              alerts=tuple(a for p in parts for a in p.alerts))
        # what the parts already know, without walking every alert again (cached_property slots)
        starts = [p.starts_at for p in parts if p.starts_at is not None]
        combined.__dict__.update(severity=first.severity, state=min((p.state for p in parts), key=lambda s: s.rank),
                                 starts_at=min(starts) if starts else None)
        offsets, index = 0, {}
        for p in parts:  # each part is one cluster's group (see the contract above): a run of indexes
            index[p.first.cluster] = range(offsets, offsets + p.count)
            offsets += p.count
        combined.__dict__["cluster_index"] = index
        if all("search_texts" in p.__dict__ for p in parts):  # the filter folded them already: keep that
            combined.__dict__["search_texts"] = tuple(t for p in parts for t in p.search_texts)
        out.append(combined)
    out.sort(key=_group_order)
    return out


def _group_order(g: AlertGroup) -> tuple:
    started = g.starts_at or _EPOCH
    return (severity_rank(g.severity), g.state.rank, -started.timestamp(), g.key)


def cluster_cell(g: AlertGroup, width: int = 14) -> str:
    """`cluster_counts` for a narrow column: "eu-prod 3 · us 2", or "eu-prod 25 +9" (9 more clusters)."""
    full = cluster_counts(g)
    index = g.cluster_index
    if len(full) <= width or len(index) < 2:
        return full
    name, ids = min(index.items(), key=lambda kv: (-len(kv[1]), kv[0]))  # the cluster with most alerts
    return f"{name} {len(ids)} +{len(index) - 1}"


def cluster_counts(g: AlertGroup) -> str:
    """Which clusters a group's alerts come from: "eu-prod" or "eu-prod 3 · us-east 2" (most first)."""
    counts = {name: len(ids) for name, ids in g.cluster_index.items()}
    if len(counts) == 1:
        return next(iter(counts))
    return " · ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
