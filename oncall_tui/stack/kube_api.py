"""A Kubernetes API stand-in: `kmock`'s emulator served over real HTTP on 127.0.0.1, in its own thread and
event loop (so worker threads of the app and synchronous callers both reach it). Used by the tests
(tests/support/kube.py) and by the demo's emulated cluster (stack/demo_cluster.py).

kmock stores objects, lists, fetches and merges patches; it runs no controllers and ignores selectors.
What an API server does that mlcall-tui relies on is added here, as a real server does it:
- JSON Patch (application/json-patch+json) with `metadata.resourceVersion` as an optimistic-concurrency
  precondition (409 Conflict when it is stale), `dryRun=All` (admission runs, nothing is stored), a new
  resourceVersion on every write and a new `metadata.generation` when the spec changes;
- SelfSubjectAccessReviews answered from `deny` ((verb, resource) pairs);
- pod logs (`/log`) honouring `tailLines` and `limitBytes`.
`on_spec_change` (a coroutine function taking namespace and name, run in the server's loop) stands in for
the Deployment controller when set; the tests leave it unset and play the controller themselves.
`kmock` is a demo/test extra: importing this module needs it.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import threading
from pathlib import Path
from typing import Any, Awaitable, Callable

import aiohttp.web
from kmock import KubernetesEmulator, Server

DEPLOYMENTS, REPLICASETS, PODS, EVENTS = "apps/v1/deployments", "apps/v1/replicasets", "v1/pods", "v1/events"
KEEP_REQUESTS = 2000  # requests remembered for inspection (a long demo session must not grow without bound)


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


class EmulatedApiServer(KubernetesEmulator):
    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.deny: set[tuple[str, str]] = set()
        self.logs: dict[tuple[str, str], str] = {}
        self.reject_dry_run = ""  # an admission webhook's refusal, when set
        self.versions = itertools.count(1000)
        self.resources[EVENTS] = {}
        self.on_spec_change: Callable[[str, str], Awaitable[None]] | None = None
        self.keep_requests = 0  # 0: every request is kept (tests inspect them); else the newest N
        self._tasks: set[asyncio.Task] = set()

    async def _handle(self, request):  # noqa: C901 - one dispatch over what mlcall-tui needs
        if self.keep_requests and len(self._requests) > 2 * self.keep_requests:
            del self._requests[:-self.keep_requests]
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
            return status(415, "UnsupportedMediaType", f"this emulator takes JSON Patch only, not {content_type}")
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
        if self.on_spec_change is not None and new.get("spec") != current.get("spec"):
            task = asyncio.get_running_loop().create_task(self.on_spec_change(request.namespace, request.name))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return aiohttp.web.json_response(new)


class KubeEmulator:
    """Starts an EmulatedApiServer on 127.0.0.1 in a thread; `with KubeEmulator() as kube: kube.url`."""

    server_class: type[EmulatedApiServer] = EmulatedApiServer

    def __init__(self, token: str = "") -> None:
        self.token = token
        self.api: EmulatedApiServer | None = None
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kmock", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            async with self.server_class() as api, Server(api) as server:
                self.api, self.url, self._stop = api, str(server.url).rstrip("/"), asyncio.Event()
                self._ready.set()
                await self._stop.wait()

        self._loop.run_until_complete(main())

    def __enter__(self) -> KubeEmulator:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("kmock did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    # -- state, changed under the server's lock ---------------------------------------------------------
    def call(self, coroutine: Awaitable[Any], timeout: float = 30) -> Any:
        """Run a coroutine in the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def _locked(self, fn):
        async def run():
            async with self.api._lock:
                return fn()

        return self.call(run())

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


    def kubeconfig(self, directory: Path, context: str = "kmock", namespace: str = "ml", server: str = "",
                   user: str = "tester") -> Path:
        """A kubeconfig (JSON is YAML) for this server, or for `server` (e.g. a closed port)."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / ("kubeconfig" if not server else "kubeconfig-other")
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "emulated", "cluster": {"server": server or self.url}}],
            "users": [{"name": user, "user": {"token": self.token}}],
            "contexts": [{"name": context, "context": {"cluster": "emulated", "user": user, "namespace": namespace}}],
        }))
        return path
