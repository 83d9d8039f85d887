"""A Kubernetes API for tests: `kmock`'s emulator over real HTTP on 127.0.0.1 (oncall_tui/stack/kube_api.py,
shared with the demo's emulated cluster: JSON Patch with a resourceVersion precondition, dryRun=All,
SelfSubjectAccessReviews, pod logs with tailLines/limitBytes), plus builders for the objects the tests put.
The tests set up ReplicaSets, pods and events themselves and play the controller (`set_status`).
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

from oncall_tui.stack.kube_api import (  # noqa: F401 - re-exported for the tests
    DEPLOYMENTS,
    EVENTS,
    PODS,
    REPLICASETS,
    EmulatedApiServer,
    KubeEmulator,
    PatchFailed,
    apply_json_patch,
    status,
)

FakeApiServer = EmulatedApiServer
TOKEN = "sentinel-kube-token-5f2c"  # must never appear on screen, in the audit log or in reports


class KubeFake(KubeEmulator):
    """The emulated API server for one test; its kubeconfig carries the sentinel TOKEN."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN)


# -- objects -------------------------------------------------------------------------------------------
def ago(seconds: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def template(image: str, *, env: dict[str, str] | None = None, args: list[str] | None = None,
             hash_: str = "") -> dict[str, Any]:
    labels = {"app": "fraud-detector", **({"pod-template-hash": hash_} if hash_ else {})}
    container: dict[str, Any] = {"name": "server", "image": image}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    if args:
        container["args"] = args
    return {"metadata": {"labels": labels}, "spec": {"containers": [container]}}


def deployment(name: str, namespace: str, revision: int, tmpl: dict[str, Any], *, replicas: int = 3,
               paused: bool = False, uid: str = "dep-uid-1", annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "uid": uid, "generation": 7,
                     "creationTimestamp": ago(86400 * 3),
                     "annotations": {"deployment.kubernetes.io/revision": str(revision), **(annotations or {})}},
        "spec": {"replicas": replicas, "paused": paused, "progressDeadlineSeconds": 600,
                 "selector": {"matchLabels": {"app": "fraud-detector"}}, "template": copy.deepcopy(tmpl)},
        "status": {"observedGeneration": 7, "replicas": replicas, "updatedReplicas": replicas,
                   "readyReplicas": replicas - 1, "availableReplicas": replicas - 1, "unavailableReplicas": 1,
                   "conditions": [{"type": "Available", "status": "True"},
                                  {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]},
    }


def replica_set(deploy: dict[str, Any], revision: int, tmpl: dict[str, Any], hash_: str, *, age: float = 3600,
                replicas: int = 0, annotations: dict[str, str] | None = None, owner_uid: str = "") -> dict[str, Any]:
    name = f"{deploy['metadata']['name']}-{hash_}"
    tmpl = copy.deepcopy(tmpl)
    tmpl["metadata"]["labels"]["pod-template-hash"] = hash_
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": deploy["metadata"]["namespace"], "uid": f"rs-{hash_}",
                     "creationTimestamp": ago(age),
                     "annotations": {"deployment.kubernetes.io/revision": str(revision), **(annotations or {})},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "controller": True,
                                          "name": deploy["metadata"]["name"],
                                          "uid": owner_uid or deploy["metadata"]["uid"]}]},
        "spec": {"replicas": replicas, "template": tmpl},
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    }


def pod(rs: dict[str, Any], suffix: str, *, phase: str = "Running", restarts: int = 0, ready: bool = True,
        waiting: str = "", last_reason: str = "", node: str = "node-a") -> dict[str, Any]:
    state: dict[str, Any] = {"waiting": {"reason": waiting, "message": "back-off restarting failed container"}} \
        if waiting else {"running": {"startedAt": ago(120)}}
    container_status: dict[str, Any] = {"name": "server", "image": rs["spec"]["template"]["spec"]["containers"][0]["image"],
                                        "ready": ready, "restartCount": restarts, "state": state}
    if last_reason:
        container_status["lastState"] = {"terminated": {"reason": last_reason, "exitCode": 137, "finishedAt": ago(60)}}
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"{rs['metadata']['name']}-{suffix}", "namespace": rs["metadata"]["namespace"],
                     "uid": f"pod-{suffix}", "creationTimestamp": ago(900),
                     "labels": dict(rs["spec"]["template"]["metadata"]["labels"]),
                     "ownerReferences": [{"kind": "ReplicaSet", "controller": True, "name": rs["metadata"]["name"],
                                          "uid": rs["metadata"]["uid"]}]},
        "spec": {"nodeName": node, "containers": copy.deepcopy(rs["spec"]["template"]["spec"]["containers"])},
        "status": {"phase": phase, "containerStatuses": [container_status]},
    }


def event(namespace: str, kind: str, name: str, reason: str, message: str, *, count: int = 1,
          type_: str = "Warning", age: float = 90, suffix: str = "") -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{name}.{reason.lower()}{suffix}", "namespace": namespace},
        "involvedObject": {"kind": kind, "name": name, "namespace": namespace},
        "type": type_, "reason": reason, "message": message, "count": count,
        "firstTimestamp": ago(age * 10), "lastTimestamp": ago(age),
    }


def header(request: Any, name: str) -> str:
    """A request header, whatever case the client wrote it in."""
    return next((str(v) for k, v in request.headers.items() if k.lower() == name.lower()), "")
