"""The demo's emulated Kubernetes cluster: kmock (stack/kube_api.py) on 127.0.0.1 holding, for each model of
the synthetic model service, a Deployment in `ml-prod`, two ReplicaSets (revision 1: the last good
release; revision 2: the current one, rolled out shortly before the incidents began), three pods, warning
events and log replies. In the scenarios where a model is slow or drifting (latency, drift), one of its
pods is crash-looping after being OOMKilled (exit 137), as an out-of-memory model server does.

kmock runs no controllers, so a small reconciler stands in for the Deployment controller: after a patch
changes a Deployment's spec (a rollback), it adopts the ReplicaSet whose template matches (or creates one),
gives it the next revision, then replaces the old pods by healthy new ones one by one (about a second
each), updating the ReplicaSets' and the Deployment's status (observedGeneration, updated/ready/available
replicas, conditions) the way `kubectl rollout status` reads them. Nothing else changes by itself.

The kubeconfig written next to it names its context `emulated-kmock`, so every screen says the cluster is
emulated.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from oncall_tui.stack.configs import MODEL_SERVICE_NAMESPACE
from oncall_tui.stack.kube_api import DEPLOYMENTS, EVENTS, KEEP_REQUESTS, PODS, REPLICASETS, KubeEmulator

NAMESPACE = MODEL_SERVICE_NAMESPACE
CONTEXT = "emulated-kmock"
DEMO_TOKEN = "demo-token-emulated-cluster"  # nothing to protect: the emulator accepts any token
REVISION = "deployment.kubernetes.io/revision"
REPLICAS = 3
ROLLOUT_AGE_S = 12 * 60  # revision 2 rolled out 12 min before the demo started (the incidents follow it)
STEP_S = 1.0  # the reconciler replaces one pod per step
# The two releases of every model server: revision 2 raised the workers (and the memory it needs)
# without raising the limit — what a crash loop after OOMKilled looks like in practice.
RELEASES = (("2026.10.2", "2", "2Gi"), ("2026.11.4", "4", "2Gi"))
CRASHING_KINDS = {"latency", "drift"}
BACKOFF_S = 300.0  # a crash-looping container is restarted after the capped 5 min back-off…
RUNS_S = 75.0  # …and OOMKilled again 75 s later: restarts and "last OOMKilled … ago" move with the clock
TICK_S = 10.0


def _ts(seconds_ago: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_template_hash(template: dict[str, Any]) -> str:
    plain = copy.deepcopy(template)
    plain.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    digest = hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()
    return "".join("bcdfghjklmnpqrstvwxz2456789"[int(digest[i:i + 2], 16) % 27] for i in range(0, 20, 2))


def template(model: str, release: int) -> dict[str, Any]:
    tag, workers, memory = RELEASES[release - 1]
    return {
        "metadata": {"labels": {"app": model}},
        "spec": {"containers": [{
            "name": "server", "image": f"registry.local/ml/{model}-server:{tag}",
            "args": ["--model-uri", f"models:/{model}@champion", "--workers", workers],
            "env": [{"name": "MODEL_NAME", "value": model}],
            "resources": {"requests": {"memory": memory}, "limits": {"memory": memory}},
        }]},
    }


def deployment(model: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": model, "namespace": NAMESPACE, "uid": f"uid-deploy-{model}", "generation": 2,
                     "creationTimestamp": _ts(40 * 86400), "labels": {"app": model},
                     "annotations": {REVISION: "2"}},
        "spec": {"replicas": REPLICAS, "progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
                 "selector": {"matchLabels": {"app": model}}, "template": template(model, 2)},
        "status": _deployment_status(2, REPLICAS, REPLICAS, REPLICAS, REPLICAS),
    }


def _deployment_status(generation: int, total: int, updated: int, ready: int, desired: int,
                       *, progressing: str = "NewReplicaSetAvailable") -> dict[str, Any]:
    return {"observedGeneration": generation, "replicas": total, "updatedReplicas": updated,
            "readyReplicas": ready, "availableReplicas": ready, "unavailableReplicas": max(0, desired - ready),
            "conditions": [{"type": "Available", "status": "True" if ready else "False",
                            "reason": "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable"},
                           {"type": "Progressing", "status": "True", "reason": progressing}]}


def replica_set(dep: dict[str, Any], revision: int, tmpl: dict[str, Any], *, age: float, replicas: int,
                cause: str = "") -> dict[str, Any]:
    tmpl = copy.deepcopy(tmpl)
    hash_ = pod_template_hash(tmpl)
    tmpl["metadata"]["labels"]["pod-template-hash"] = hash_
    name = dep["metadata"]["name"]
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": f"{name}-{hash_}", "namespace": NAMESPACE, "uid": f"uid-rs-{name}-{hash_}",
                     "creationTimestamp": _ts(age), "labels": dict(tmpl["metadata"]["labels"]),
                     "annotations": {REVISION: str(revision), **({"kubernetes.io/change-cause": cause} if cause else {})},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "controller": True,
                                          "name": name, "uid": dep["metadata"]["uid"]}]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(tmpl["metadata"]["labels"])},
                 "template": tmpl},
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    }


def pod(rs: dict[str, Any], suffix: str, node: str, *, age: float, oom_loop: bool = False) -> dict[str, Any]:
    container = rs["spec"]["template"]["spec"]["containers"][0]
    status: dict[str, Any] = {"name": "server", "image": container["image"], "ready": True, "restartCount": 0,
                              "state": {"running": {"startedAt": _ts(age)}}}
    if oom_loop:
        status.update(ready=False, restartCount=9, state={"waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 5m0s restarting failed container=server pod={rs['metadata']['name']}-{suffix}"}},
            lastState={"terminated": {"reason": "OOMKilled", "exitCode": 137, "startedAt": _ts(170),
                                      "finishedAt": _ts(95)}})
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"{rs['metadata']['name']}-{suffix}", "namespace": NAMESPACE,
                     "uid": f"uid-pod-{rs['metadata']['name']}-{suffix}", "creationTimestamp": _ts(age),
                     "labels": dict(rs["spec"]["template"]["metadata"]["labels"]),
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "controller": True,
                                          "name": rs["metadata"]["name"], "uid": rs["metadata"]["uid"]}]},
        "spec": {"nodeName": node, "containers": copy.deepcopy(rs["spec"]["template"]["spec"]["containers"])},
        "status": {"phase": "Running", "containerStatuses": [status],
                   "conditions": [{"type": "Ready", "status": "False" if oom_loop else "True"}]},
    }


def event(kind: str, name: str, reason: str, message: str, *, count: int, age: float) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": reason, "message": message,
        "metadata": {"name": f"{name}.{reason.lower()}", "namespace": NAMESPACE},
        "involvedObject": {"kind": kind, "name": name, "namespace": NAMESPACE},
        "count": count, "firstTimestamp": _ts(ROLLOUT_AGE_S - 60), "lastTimestamp": _ts(age),
    }


def healthy_log(model: str, workers: str) -> str:
    return "".join([
        f"INFO  starting model server for {model} with {workers} workers\n",
        f"INFO  loading models:/{model}@champion\n",
        "INFO  model loaded, serving on :8080\n",
        *(f"INFO  POST /predict 200 {12 + i % 7} ms\n" for i in range(30)),
    ])


def oom_log(model: str) -> str:
    return "".join([
        f"INFO  starting model server for {model} with 4 workers\n",
        f"INFO  loading models:/{model}@champion\n",
        "INFO  worker 1 ready (RSS 0.61 GiB)\n",
        "INFO  worker 2 ready (RSS 1.18 GiB)\n",
        "INFO  worker 3 ready (RSS 1.77 GiB)\n",
        "WARNING memory 1.94 GiB of the 2.00 GiB limit in use\n",
        "ERROR worker 4: MemoryError while loading the embedding table\n",
        "Killed\n",
    ])


class DemoCluster:
    """The emulated API server with the demo's objects; `start()` then `kubeconfig`."""

    def __init__(self, models: Iterable[str], workdir: Path) -> None:
        self.models = tuple(models)
        self.workdir = Path(workdir)
        self.emulator = KubeEmulator(token=DEMO_TOKEN)
        self.kubeconfig: Path | None = None
        self._rng = random.Random(11)
        self._generation: dict[str, int] = {}

    kube_context = CONTEXT

    @property
    def url(self) -> str:
        return self.emulator.url

    def start(self) -> DemoCluster:
        self.emulator.__enter__()
        api = self.emulator.api
        api.keep_requests = KEEP_REQUESTS
        api.on_spec_change = self._reconcile
        for model in self.models:
            self._seed(model)
        self.kubeconfig = self.emulator.kubeconfig(self.workdir, context=CONTEXT, namespace=NAMESPACE,
                                                   user="demo-oncall")
        self._ticker = self.emulator.call(self._start_ticker())
        return self

    def stop(self) -> None:
        if getattr(self, "_ticker", None) is not None and self.emulator.api is not None:
            self.emulator._loop.call_soon_threadsafe(self._ticker.cancel)
            self._ticker = None
        self.emulator.__exit__(None, None, None)

    async def _start_ticker(self) -> asyncio.Task:
        return asyncio.get_running_loop().create_task(self._crash_loop())

    async def _crash_loop(self) -> None:
        """Play the kubelet for crash-looping containers: every BACKOFF_S + RUNS_S one more restart that
        ends OOMKilled again, with its events counted."""
        api = self.emulator.api
        while True:
            await asyncio.sleep(TICK_S)
            async with api._lock:
                now = datetime.now(timezone.utc)
                for key, obj in list(api.objects.items()):
                    if key[0].plural != "pods" or obj.deleted:
                        continue
                    raw = copy.deepcopy(obj.raw)
                    changed = False
                    for status in raw.get("status", {}).get("containerStatuses") or []:
                        last = (status.get("lastState") or {}).get("terminated") or {}
                        waiting = (status.get("state") or {}).get("waiting") or {}
                        finished = _parse(last.get("finishedAt"))
                        if waiting.get("reason") == "CrashLoopBackOff" and finished is not None and \
                                (now - finished).total_seconds() >= BACKOFF_S + RUNS_S:
                            status["restartCount"] = int(status.get("restartCount", 0)) + 1
                            last.update(startedAt=_ts(RUNS_S), finishedAt=_ts(0))
                            changed = True
                    if changed:
                        self._write(PODS, raw)
                        self._count_events(key[2])

    def _count_events(self, pod_name: str) -> None:
        for reason in ("BackOff", "OOMKilling"):
            try:
                stored = self.emulator.api.objects[EVENTS, NAMESPACE, f"{pod_name}.{reason.lower()}"]
            except KeyError:
                continue
            if stored.deleted:
                continue
            raw = copy.deepcopy(stored.raw)
            raw["count"] = int(raw.get("count", 1)) + (5 if reason == "BackOff" else 1)
            raw["lastTimestamp"] = _ts(0)
            self._write(EVENTS, raw)

    def _seed(self, model: str) -> None:
        dep = deployment(model)
        rs1 = replica_set(dep, 1, template(model, 1), age=9 * 86400, replicas=0,
                          cause=f"release {RELEASES[0][0]}")
        rs2 = replica_set(dep, 2, template(model, 2), age=ROLLOUT_AGE_S, replicas=REPLICAS,
                          cause=f"release {RELEASES[1][0]}: 4 workers")
        for resource, obj in ((DEPLOYMENTS, dep), (REPLICASETS, rs1), (REPLICASETS, rs2)):
            self.emulator.put(resource, obj)
        self.show_incidents(model, crashing=False)

    def show_incidents(self, model: str, *, crashing: bool) -> None:
        """The current pods of `model`: one of them crash-looping after OOMKilled when `crashing`."""
        dep = self.emulator.get(DEPLOYMENTS, NAMESPACE, model)
        rs = self._replica_sets(model)[-1]
        for i, node in enumerate(("node-a", "node-b", "node-c")):
            obj = pod(rs, ("x7k2p", "m4q9t", "d8w3z")[i], node, age=ROLLOUT_AGE_S - 30 * i, oom_loop=crashing and i == 0)
            self.emulator.put(PODS, obj)
            workers = obj["spec"]["containers"][0]["args"][-1]
            self.emulator.api.logs[(NAMESPACE, obj["metadata"]["name"])] = (
                oom_log(model) if crashing and i == 0 else healthy_log(model, workers))
            if crashing and i == 0:
                name = obj["metadata"]["name"]
                self.emulator.put(EVENTS, event("Pod", name, "BackOff", "Back-off restarting failed container "
                                                f"server in pod {name}", count=41, age=25))
                self.emulator.put(EVENTS, event("Pod", name, "OOMKilling", "Memory cgroup out of memory: Killed "
                                                "process 2318 (python) total-vm:3871204kB", count=9, age=95))
                self.emulator.put(EVENTS, event("Pod", name, "Unhealthy", "Readiness probe failed: HTTP probe "
                                                "failed with statuscode: 503", count=17, age=100))
        ready = REPLICAS - (1 if crashing else 0)
        gen = int(dep["metadata"].get("generation", 1))
        self.emulator.set_status(NAMESPACE, model, **_deployment_status(gen, REPLICAS, REPLICAS, ready, REPLICAS))

    def apply_scenario(self, incidents: Iterable[tuple[str, str]]) -> None:
        """(model, kind) pairs of the scenario: models slow or drifting get an OOM crash-looping pod."""
        crashing = {model for model, kind in incidents if kind in CRASHING_KINDS}
        for model in self.models:
            self.show_incidents(model, crashing=model in crashing)

    # -- the controller's stand-in ---------------------------------------------------------------------
    def _replica_sets(self, model: str) -> list[dict[str, Any]]:
        """Owned ReplicaSets, oldest revision first (call with the emulator's lock held or from a thread)."""
        uid = f"uid-deploy-{model}"
        out = []
        for (resource, namespace, _name), obj in list(self.emulator.api.objects.items()):
            if resource.plural == "replicasets" and namespace == NAMESPACE and not obj.deleted:
                raw = obj.raw
                refs = raw["metadata"].get("ownerReferences") or []
                if any(r.get("uid") == uid and r.get("controller") for r in refs):
                    out.append(copy.deepcopy(raw))
        return sorted(out, key=lambda rs: int(rs["metadata"]["annotations"].get(REVISION, "0")))

    def _pods_of(self, rs_uids: set[str]) -> list[tuple[tuple, dict[str, Any]]]:
        out = []
        for key, obj in list(self.emulator.api.objects.items()):
            if key[0].plural == "pods" and key[1] == NAMESPACE and not obj.deleted:
                refs = obj.raw["metadata"].get("ownerReferences") or []
                if any(r.get("uid") in rs_uids for r in refs):
                    out.append((key, copy.deepcopy(obj.raw)))
        return out

    def _write(self, resource: str, obj: dict[str, Any]) -> None:
        obj["metadata"]["resourceVersion"] = str(next(self.emulator.api.versions))
        key = (resource, obj["metadata"]["namespace"], obj["metadata"]["name"])
        try:
            stored = self.emulator.api.objects[key]
        except KeyError:
            stored = None
        if stored is None:
            self.emulator.api.objects[key] = obj
        else:
            stored.create(obj)

    async def _reconcile(self, namespace: str, name: str) -> None:
        """Roll `name` out to its (new) template, one pod per STEP_S; a newer spec change takes over."""
        api = self.emulator.api
        async with api._lock:
            dep = copy.deepcopy(api.objects[DEPLOYMENTS, namespace, name].raw)
            generation = int(dep["metadata"].get("generation", 1))
            self._generation[name] = generation
            replica_sets = self._replica_sets(name)
            wanted = dep["spec"]["template"]
            hash_ = pod_template_hash(wanted)
            revision = max((int(rs["metadata"]["annotations"].get(REVISION, "0")) for rs in replica_sets), default=0) + 1
            target = next((rs for rs in replica_sets if pod_template_hash(rs["spec"]["template"]) == hash_), None)
            if target is None:
                target = replica_set(dep, revision, wanted, age=0, replicas=0)
            target["metadata"]["annotations"][REVISION] = str(revision)
            target["spec"]["replicas"] = 0
            target["status"] = {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0}
            self._write(REPLICASETS, target)
            dep["metadata"]["annotations"][REVISION] = str(revision)
            desired = int(dep["spec"].get("replicas", 1))
            old_uids = {rs["metadata"]["uid"] for rs in replica_sets if rs["metadata"]["uid"] != target["metadata"]["uid"]}
            old_pods = self._pods_of(old_uids)
            dep["status"] = _deployment_status(generation, len(old_pods), 0, sum(_ready(p) for _, p in old_pods),
                                               desired, progressing="ReplicaSetUpdated")
            self._write(DEPLOYMENTS, dep)
        for step in range(1, desired + 1):
            await asyncio.sleep(STEP_S)
            async with api._lock:
                if self._generation.get(name) != generation:
                    return  # a newer change is being rolled out
                new_pod = pod(target, "".join(self._rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5)),
                              ("node-a", "node-b", "node-c")[step % 3], age=0)
                self._write(PODS, new_pod)
                api.logs[(namespace, new_pod["metadata"]["name"])] = healthy_log(
                    name, new_pod["spec"]["containers"][0].get("args", ["", ""])[-1])
                old_pods = self._pods_of(old_uids)
                old_pods.sort(key=lambda kp: (_ready(kp[1]), kp[1]["metadata"]["name"]))  # unhealthy ones go first
                if old_pods and len(old_pods) + step > desired:
                    api.objects[old_pods[0][0]].delete()
                    old_pods = old_pods[1:]
                target["spec"]["replicas"] = step
                target["status"] = {"replicas": step, "readyReplicas": step, "availableReplicas": step}
                self._write(REPLICASETS, target)
                for rs in self._replica_sets(name):
                    if rs["metadata"]["uid"] in old_uids and rs["spec"].get("replicas"):
                        rs["spec"]["replicas"] = rs["status"]["replicas"] = len(
                            [p for _, p in old_pods if p["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]])
                        rs["status"]["readyReplicas"] = rs["status"]["availableReplicas"] = rs["spec"]["replicas"]
                        self._write(REPLICASETS, rs)
                dep = copy.deepcopy(api.objects[DEPLOYMENTS, namespace, name].raw)
                ready = step + sum(_ready(p) for _, p in old_pods)
                done = step == desired and not old_pods
                dep["status"] = _deployment_status(generation, step + len(old_pods), step, ready, desired,
                                                   progressing="NewReplicaSetAvailable" if done else "ReplicaSetUpdated")
                self._write(DEPLOYMENTS, dep)
        async with api._lock:  # the last old pods (more than desired were running) go
            if self._generation.get(name) != generation:
                return
            for key, _ in self._pods_of(old_uids):
                api.objects[key].delete()
            dep = copy.deepcopy(api.objects[DEPLOYMENTS, namespace, name].raw)
            if dep["status"].get("replicas") != desired:
                dep["status"] = _deployment_status(generation, desired, desired, desired, desired)
                self._write(DEPLOYMENTS, dep)


def _parse(text: Any) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _ready(pod_obj: dict[str, Any]) -> bool:
    return all(s.get("ready") for s in pod_obj.get("status", {}).get("containerStatuses") or [])
