"""A Kubernetes API for tests: `kmock`'s emulator served over real HTTP on 127.0.0.1, in its own thread
and event loop (so the app's worker threads and the test's own synchronous client calls both reach it).

kmock stores objects, lists, fetches and merges patches; it runs no controllers and ignores selectors.
What an API server does that the tests rely on is added here, as a real server does it:
- JSON Patch (application/json-patch+json) with `metadata.resourceVersion` as an optimistic-concurrency
  precondition (409 Conflict when it is stale), `dryRun=All` (admission runs, nothing is stored), a new
  resourceVersion on every write and a new `metadata.generation` when the spec changes;
- SelfSubjectAccessReviews answered from `deny` ((verb, resource) pairs);
- pod logs (`/log`) honouring `tailLines` and `limitBytes`.
The tests set up ReplicaSets, pods and events themselves and play the controller (`set_status`).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp.web
from kmock import KubernetesEmulator, Server

DEPLOYMENTS, REPLICASETS, PODS, EVENTS = "apps/v1/deployments", "apps/v1/replicasets", "v1/pods", "v1/events"
TOKEN = "sentinel-kube-token-5f2c"  # must never appear on screen, in the audit log or in reports


class PatchFailed(Exception):
    pass


def _pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")] if path else []


def apply_json_patch(doc: Any, operations: list[dict[str, Any]]) -> Any:
    """RFC 6902 add/replace/remove/test on dicts and lists (what the tests send)."""
    doc = copy.deepcopy(doc)
    for op in operations:
        parts = _pointer(op["path"])
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last = parts[-1]
        kind = op["op"]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if kind == "add":
                parent.insert(index, op["value"])
            elif kind == "replace":
                parent[index] = op["value"]
            elif kind == "remove":
                del parent[index]
            elif kind == "test" and parent[index] != op["value"]:
                raise PatchFailed(f"test failed at {op['path']}")
            continue
        if kind in {"replace", "remove", "test"} and last not in parent:
            raise PatchFailed(f"{op['path']} does not exist")
        if kind in {"add", "replace"}:
            parent[last] = op["value"]
        elif kind == "remove":
            del parent[last]
        elif kind == "test" and parent[last] != op["value"]:
            raise PatchFailed(f"test failed at {op['path']}")
    return doc


def status(code: int, reason: str, message: str) -> aiohttp.web.Response:
    return aiohttp.web.json_response({"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
                                      "code": code, "reason": reason, "message": message}, status=code)


class FakeApiServer(KubernetesEmulator):
    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.deny: set[tuple[str, str]] = set()
        self.logs: dict[tuple[str, str], str] = {}
        self.reject_dry_run = ""  # an admission webhook's refusal, when set
        self.versions = itertools.count(1000)
        self.resources[EVENTS] = {}

    async def _handle(self, request):  # noqa: C901 - one dispatch over what the tests need
        resource = request.resource
        plural = resource.plural if resource is not None else None
        if plural == "selfsubjectaccessreviews" and request.method == "POST":
            attrs = (request.data or {}).get("spec", {}).get("resourceAttributes", {})
            allowed = (attrs.get("verb"), attrs.get("resource")) not in self.deny
            body = dict(request.data)
            body["status"] = {"allowed": allowed, **({} if allowed else {"reason": "RBAC: access denied"})}
            return aiohttp.web.json_response(body, status=201)
        if plural == "pods" and request.subresource == "log":
            text = self.logs.get((request.namespace, request.name), "")
            tail = int(request.params.get("tailLines", 0) or 0)
            lines = text.splitlines(keepends=True)
            data = "".join(lines[-tail:] if tail else lines).encode()
            limit = int(request.params.get("limitBytes", 0) or 0)
            return aiohttp.web.Response(body=data[:limit] if limit else data, content_type="text/plain")
        if plural == "deployments" and request.method == "PATCH":
            return await self._patch_deployment(request)
        return await super()._handle(request)

    async def _patch_deployment(self, request) -> aiohttp.web.StreamResponse:
        key = (DEPLOYMENTS, request.namespace, request.name)
        content_type = request.headers.get("Content-Type", "")
        if "json-patch" not in content_type or not isinstance(request.data, list):
            return status(415, "UnsupportedMediaType", f"this fake takes JSON Patch only, not {content_type}")
        async with self._lock:
            try:
                stored = self.objects[key]
            except KeyError:
                stored = None
            if stored is None or stored.deleted:
                return status(404, "NotFound", f'deployments.apps "{request.name}" not found')
            current = copy.deepcopy(stored.raw)
            try:
                new = apply_json_patch(current, request.data)
            except (PatchFailed, KeyError, IndexError, ValueError) as exc:
                return status(422, "Invalid", f"the JSON patch could not be applied: {exc}")
            stored_rv = current["metadata"].get("resourceVersion")
            if new["metadata"].get("resourceVersion") != stored_rv:
                return status(409, "Conflict", f'Operation cannot be fulfilled on deployments.apps "{request.name}": '
                                               "the object has been modified; please apply your changes to the latest "
                                               "version and try again")
            if request.params.get("dryRun") == "All":
                if self.reject_dry_run:
                    return status(400, "BadRequest", self.reject_dry_run)
                return aiohttp.web.json_response(new)
            new["metadata"]["resourceVersion"] = str(next(self.versions))
            if new.get("spec") != current.get("spec"):
                new["metadata"]["generation"] = int(current["metadata"].get("generation", 1)) + 1
            stored.create(new)  # a new version in kmock's history
            return aiohttp.web.json_response(new)


class KubeFake:
    """Starts FakeApiServer on 127.0.0.1 in a thread; `with KubeFake() as kube: kube.url`."""

    def __init__(self) -> None:
        self.api: FakeApiServer | None = None
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kmock", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            async with FakeApiServer() as api, Server(api) as server:
                self.api, self.url, self._stop = api, str(server.url).rstrip("/"), asyncio.Event()
                self._ready.set()
                await self._stop.wait()

        self._loop.run_until_complete(main())

    def __enter__(self) -> KubeFake:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("kmock did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    # -- state, changed under the server's lock ---------------------------------------------------------
    def _locked(self, fn):
        async def run():
            async with self.api._lock:
                return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def put(self, resource: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        meta.setdefault("resourceVersion", str(next(self.api.versions)))
        self._locked(lambda: self.api.objects.__setitem__((resource, meta["namespace"], meta["name"]), obj))

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any]:
        return self._locked(lambda: copy.deepcopy(self.api.objects[resource, namespace, name].raw))

    def history(self, resource: str, namespace: str, name: str) -> list[dict[str, Any]]:
        return self._locked(lambda: [copy.deepcopy(v.raw) for v in self.api.objects[resource, namespace, name].history
                                     if v is not None])

    def set_status(self, namespace: str, name: str, **fields: Any) -> None:
        """Play the Deployment controller: replace status fields (camelCase) and bump the resourceVersion."""
        def change():
            obj = self.api.objects[DEPLOYMENTS, namespace, name]
            new = copy.deepcopy(obj.raw)
            new.setdefault("status", {}).update(fields)
            new["metadata"]["resourceVersion"] = str(next(self.api.versions))
            obj.create(new)

        self._locked(change)

    def requests(self, method: str = "", contains: str = "") -> list[Any]:
        return [r for r in list(self.api) if (not method or r.method == method) and contains in str(r.url)]


    def kubeconfig(self, directory: Path, context: str = "kmock", namespace: str = "ml", server: str = "") -> Path:
        """A kubeconfig (JSON is YAML) for this server, or for `server` (e.g. a closed port)."""
        path = directory / ("kubeconfig" if not server else "kubeconfig-other")
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "fake", "cluster": {"server": server or self.url}}],
            "users": [{"name": "tester", "user": {"token": TOKEN}}],
            "contexts": [{"name": context, "context": {"cluster": "fake", "user": "tester", "namespace": namespace}}],
        }))
        return path


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
