"""Kubernetes API objects (decoded JSON) → models. Total functions: a missing or odd field gives a default,
never an exception, so one strange object cannot take the panel down. No kubernetes import here."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from ..models import ContainerState, Deployment, Event, Pod, ReplicaSet, RolloutStatus, freeze
from ..safe_text import sanitize
from .base import parse_time

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
MAX_LINE = 2000  # characters kept of one log line


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _strs(value: Any) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in _d(value).items()})


def images_of(template: Any) -> tuple[str, ...]:
    spec = _d(_d(template).get("spec"))
    return tuple(str(_d(c).get("image", "")) for c in _l(spec.get("containers")))


def decode_deployment(raw: Any) -> Deployment:
    raw = _d(raw)
    meta, spec, status = _d(raw.get("metadata")), _d(raw.get("spec")), _d(raw.get("status"))
    annotations = _strs(meta.get("annotations"))
    conditions = tuple((str(c.get("type", "")), str(c.get("status", "")), str(c.get("reason", "")),
                        str(c.get("message", ""))) for c in map(_d, _l(status.get("conditions"))))
    deadline = spec.get("progressDeadlineSeconds")
    return Deployment(
        name=str(meta.get("name", "")), namespace=str(meta.get("namespace", "")), uid=str(meta.get("uid", "")),
        resource_version=str(meta.get("resourceVersion", "")), generation=_int(meta.get("generation")),
        observed_generation=_int(status.get("observedGeneration")),
        replicas=_int(spec.get("replicas"), 1), updated_replicas=_int(status.get("updatedReplicas")),
        ready_replicas=_int(status.get("readyReplicas")), available_replicas=_int(status.get("availableReplicas")),
        unavailable_replicas=_int(status.get("unavailableReplicas")), revision=_int(annotations.get(REVISION)),
        paused=bool(spec.get("paused")), progress_deadline=_int(deadline) if deadline is not None else None,
        images=images_of(spec.get("template")),
        selector=_strs(_d(spec.get("selector")).get("matchLabels")),
        created_at=parse_time(meta.get("creationTimestamp")), annotations=annotations,
        template=freeze(_d(spec.get("template"))), conditions=conditions,
    )


def decode_replica_set(raw: Any) -> ReplicaSet:
    raw = _d(raw)
    meta, spec, status = _d(raw.get("metadata")), _d(raw.get("spec")), _d(raw.get("status"))
    annotations = _strs(meta.get("annotations"))
    return ReplicaSet(
        name=str(meta.get("name", "")), namespace=str(meta.get("namespace", "")), uid=str(meta.get("uid", "")),
        revision=_int(annotations.get(REVISION)), created_at=parse_time(meta.get("creationTimestamp")),
        replicas=_int(status.get("replicas")), ready_replicas=_int(status.get("readyReplicas")),
        available_replicas=_int(status.get("availableReplicas")), images=images_of(spec.get("template")),
        template=freeze(_d(spec.get("template"))), annotations=annotations,
    )


def _container(spec: dict[str, Any], status: dict[str, Any]) -> ContainerState:
    state = _d(status.get("state"))
    kind = next((k for k in ("running", "waiting", "terminated") if k in state), "")
    current = _d(state.get(kind))
    last = _d(_d(status.get("lastState")).get("terminated"))
    return ContainerState(
        name=str(status.get("name") or spec.get("name", "")), image=str(status.get("image") or spec.get("image", "")),
        ready=bool(status.get("ready")), restarts=_int(status.get("restartCount")), state=kind,
        reason=str(current.get("reason", "")), message=str(current.get("message", "")),
        last_reason=str(last.get("reason", "")),
        last_exit_code=_int(last.get("exitCode")) if "exitCode" in last else None,
        last_finished=parse_time(last.get("finishedAt")),
    )


def decode_pod(raw: Any) -> Pod:
    raw = _d(raw)
    meta, spec, status = _d(raw.get("metadata")), _d(raw.get("spec")), _d(raw.get("status"))
    specs = {str(_d(c).get("name", "")): _d(c) for c in _l(spec.get("containers"))}
    statuses = [_d(s) for s in _l(status.get("containerStatuses"))]
    seen = {str(s.get("name", "")) for s in statuses}
    containers = [_container(specs.get(str(s.get("name", "")), {}), s) for s in statuses]
    containers += [_container(c, {}) for name, c in specs.items() if name not in seen]
    owner = next((str(r.get("name", "")) for r in map(_d, _l(meta.get("ownerReferences"))) if r.get("controller")), "")
    return Pod(
        name=str(meta.get("name", "")), namespace=str(meta.get("namespace", "")), phase=str(status.get("phase", "")),
        node=str(spec.get("nodeName", "")), created_at=parse_time(meta.get("creationTimestamp")), owner=owner,
        containers=tuple(containers), deleting=bool(meta.get("deletionTimestamp")),
    )


def decode_event(raw: Any) -> Event:
    raw = _d(raw)
    involved = _d(raw.get("involvedObject")) or _d(raw.get("regarding"))
    series = _d(raw.get("series"))
    last = parse_time(raw.get("lastTimestamp")) or parse_time(series.get("lastObservedTime")) or \
        parse_time(raw.get("eventTime"))
    first = parse_time(raw.get("firstTimestamp")) or parse_time(raw.get("eventTime")) or last
    return Event(
        type=str(raw.get("type", "")), reason=str(raw.get("reason", "")),
        message=str(raw.get("message", "") or raw.get("note", "")),
        count=max(1, _int(raw.get("count")) or _int(series.get("count"), 1)),
        kind=str(involved.get("kind", "")), object_name=str(involved.get("name", "")),
        first_seen=first, last_seen=last,
    )


def log_lines(data: bytes, tail_lines: int) -> tuple[str, ...]:
    """Log bytes → at most `tail_lines` sanitized lines (control sequences gone, long lines cut)."""
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()[-tail_lines:] if tail_lines > 0 else text.splitlines()
    return tuple(sanitize(line, max_len=MAX_LINE, single_line=True) for line in lines)


def rollout_status(raw: Any) -> RolloutStatus:
    """As `kubectl rollout status` decides (rollout_status.go), from a Deployment object."""
    raw = _d(raw)
    meta, spec, status = _d(raw.get("metadata")), _d(raw.get("spec")), _d(raw.get("status"))
    desired = _int(spec.get("replicas"), 1)
    updated, ready = _int(status.get("updatedReplicas")), _int(status.get("readyReplicas"))
    available, total = _int(status.get("availableReplicas")), _int(status.get("replicas"))
    observed = _int(meta.get("generation")) <= _int(status.get("observedGeneration"))

    def result(message: str, done: bool = False, failed: bool = False) -> RolloutStatus:
        return RolloutStatus(desired, updated, ready, available, observed, done, failed, message)

    if not observed:
        return result("waiting for the deployment spec update to be observed")
    for cond in map(_d, _l(status.get("conditions"))):
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return result(f"exceeded its progress deadline: {sanitize(cond.get('message', ''), max_len=200)}",
                          failed=True)
    if updated < desired:
        return result(f"{updated} of {desired} new replicas have been updated")
    if total > updated:
        return result(f"{total - updated} old replicas are pending termination")
    if available < updated:
        return result(f"{available} of {updated} updated replicas are available")
    return result("successfully rolled out", done=True)
