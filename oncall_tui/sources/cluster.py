"""The Kubernetes cluster, through the official `kubernetes` client (imported lazily, on first use).

Configuration: a kubeconfig (`--kube-context`, `KUBECONFIG` — several paths may be joined with `:` — else
`~/.kube/config`), else the in-cluster service account. Every public method of `ClusterSource` blocks:
call it from a worker thread. Answers are models (sources/kube_decode.py), never API objects; errors
are `ClusterError`s whose message carries no headers or credentials (ApiException's own text prints the
response headers, so it is never used).
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

from .. import __version__
from ..config import Settings
from ..models import (
    AccessReview,
    Alert,
    Deployment,
    DeploymentView,
    Event,
    LogTail,
    ReplicaSet,
    RolloutStatus,
)
from ..safe_text import redact_url, sanitize
from .base import SourceError
from .kube_decode import (
    decode_deployment,
    decode_event,
    decode_pod,
    decode_replica_set,
    log_lines,
    rollout_status,
)

NOT_CONFIGURED = "not configured"
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
UNAUTHORIZED = "unauthorized"
FORBIDDEN = "forbidden"
NOT_FOUND = "not found"
CONFLICT = "conflict"
INVALID = "invalid"
ERROR = "error"
UNCERTAIN_KINDS = (UNREACHABLE, TIMEOUT, ERROR)  # a write may or may not have been applied

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
ACCESS_TTL = 60.0  # seconds an access review is trusted (k9s caches its CanI checks the same way)
AUDIT_HEADER = "X-Mlcall-Audit-Id"  # correlates the API server's audit log with ours
T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ClusterError(SourceError):
    """The cluster refused or did not answer; `kind` is one of the constants above, `status` the HTTP code."""

    def __init__(self, kind: str, message: str = "", status: int = 0):
        super().__init__(kind, message)
        self.status = status


def kubeconfig_paths(settings: Settings, environ: dict[str, str] | None = None) -> list[Path]:
    environ = os.environ if environ is None else environ
    text = settings.kubeconfig or environ.get("KUBECONFIG", "")
    if text:
        return [Path(p).expanduser() for p in text.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def in_cluster(environ: dict[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return bool(environ.get("KUBERNETES_SERVICE_HOST")) and SERVICE_ACCOUNT.is_file()


def configuration_problem(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """Why no cluster can be used ("" when one is configured). Cheap: does not import kubernetes."""
    if any(p.is_file() for p in kubeconfig_paths(settings, environ)) or in_cluster(environ):
        return ""
    return "no kubeconfig (--kube-context, KUBECONFIG or ~/.kube/config) and not running in a cluster"


def current_context(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """The context the cluster feature uses: `--kube-context`, else the kubeconfig's current-context
    ("in-cluster" inside a pod, "" when there is none). Reads the files (YAML), imports no kubernetes."""
    if settings.kube_context.strip():
        return settings.kube_context.strip()
    import yaml

    for path in kubeconfig_paths(settings, environ):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
        except (OSError, ValueError, yaml.YAMLError):
            continue
        name = doc.get("current-context") if isinstance(doc, dict) else None
        if isinstance(name, str) and name:
            return name  # the first file that sets it wins, as kubectl merges them
    return "in-cluster" if in_cluster(environ) else ""


def target_of(settings: Settings, alert: Alert | None) -> tuple[str, str]:
    """(namespace, deployment name) of the alert: its labels, else the configured namespace/model label."""
    if alert is None:
        return settings.namespace, ""
    namespace = alert.label(settings.namespace_label) or settings.namespace
    name = alert.label(settings.deployment_label) or alert.label(settings.model_label)
    return namespace, name


def _api_message(body: Any) -> str:
    try:
        data = json.loads(body) if isinstance(body, (str, bytes)) and body else {}
    except ValueError:
        return sanitize(body, max_len=200, single_line=True) if isinstance(body, str) else ""
    return str(data.get("message", "")) if isinstance(data, dict) else ""


def classify(exc: BaseException, what: str, where: str) -> ClusterError:
    """Any exception of the kubernetes client / urllib3 / config loader as a ClusterError."""
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException

    if isinstance(exc, ClusterError):
        return exc
    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        message = _api_message(exc.body) or str(exc.reason or "")
        kind = {401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT, 400: INVALID,
                422: INVALID}.get(status, ERROR)
        return ClusterError(kind, f"{what}: HTTP {status} {message}".strip(), status)
    if isinstance(exc, ConfigException):
        return ClusterError(NOT_CONFIGURED, f"{exc}")
    name = type(exc).__name__
    text = str(exc).lower()
    if "timeout" in name.lower() or "timed out" in text:
        return ClusterError(TIMEOUT, f"{what}: no answer from {where} in time")
    if any(m in text for m in ("refused", "failed to establish", "max retries", "name or service",
                               "connection reset", "connection aborted", "remote end closed")):
        return ClusterError(UNREACHABLE, f"{what}: cannot connect to {where}")
    return ClusterError(ERROR, f"{what}: {name}: {redact_url(str(exc))}")


class ClusterSource:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.timeout = settings.timeout
        self.context = settings.kube_context
        self.server = ""  # the API server URL (no credentials), once configured
        self._api: Any = None
        self._lock = threading.Lock()
        self._access: dict[tuple[str, str], AccessReview] = {}

    # -- set-up ----------------------------------------------------------------------------------------
    def api(self) -> Any:
        """The ApiClient, built on first use from the kubeconfig (or in-cluster config)."""
        with self._lock:
            if self._api is None:
                self._api = self._connect()
            return self._api

    def _connect(self) -> Any:
        import urllib3
        from kubernetes import client, config

        problem = configuration_problem(self.settings)
        if problem:
            raise ClusterError(NOT_CONFIGURED, problem)
        cfg = client.Configuration()
        paths = [str(p) for p in kubeconfig_paths(self.settings) if p.is_file()]
        try:
            if paths:
                joined = os.pathsep.join(paths)
                contexts, active = config.list_kube_config_contexts(config_file=joined)
                names = [c["name"] for c in contexts or []]
                if self.context and self.context not in names:
                    raise ClusterError(NOT_CONFIGURED, f"no context {self.context!r} in the kubeconfig "
                                                       f"(contexts: {', '.join(names) or 'none'})")
                self.context = self.context or (active or {}).get("name", "")
                config.load_kube_config(config_file=joined, context=self.context or None,
                                        client_configuration=cfg, persist_config=False)
            else:
                config.load_incluster_config(client_configuration=cfg)
                self.context = self.context or "in-cluster"
        except ClusterError:
            raise
        except Exception as exc:  # ConfigException, YAML errors, unreadable files
            raise ClusterError(NOT_CONFIGURED, f"kubeconfig: {sanitize(exc, max_len=200)}") from None
        cfg.retries = urllib3.Retry(total=1, connect=1, read=0, status=0, redirect=0)  # never re-send a write
        cfg.debug = False  # never log request headers (client-go leaked tokens that way)
        self.server = redact_url(cfg.host)
        api = client.ApiClient(cfg)
        api.user_agent = f"mlcall-tui/{__version__}"
        return api

    @property
    def where(self) -> str:
        return f"{self.context or 'cluster'} ({self.server})" if self.server else (self.context or "the cluster")

    def _call(self, what: str, fn: Callable[[Any], Any]) -> Any:
        api = self.api()
        try:
            return fn(api)
        except Exception as exc:
            raise classify(exc, what, self.where) from None

    def _json(self, what: str, fn: Callable[[Any], Any]) -> Any:
        response = self._call(what, fn)
        try:
            return json.loads(response.data or b"null")
        except ValueError:
            raise ClusterError(ERROR, f"{what}: the API server answered something that is not JSON") from None

    def _opts(self, **extra: Any) -> dict[str, Any]:
        return {"_preload_content": False, "_request_timeout": self.timeout, **extra}

    # -- reads -----------------------------------------------------------------------------------------
    def deployment(self, namespace: str, name: str) -> Deployment:
        from kubernetes import client

        raw = self._json(f"deployment {namespace}/{name}", lambda api: client.AppsV1Api(api)
                         .read_namespaced_deployment(name, namespace, **self._opts()))
        return decode_deployment(raw)

    def replica_sets(self, deployment: Deployment) -> tuple[ReplicaSet, ...]:
        """The ReplicaSets whose controller is this Deployment (as kubectl does), newest revision first."""
        from kubernetes import client

        selector = ",".join(f"{k}={v}" for k, v in sorted(deployment.selector.items()))
        raw = self._json(f"replicasets of {deployment.name}", lambda api: client.AppsV1Api(api)
                         .list_namespaced_replica_set(deployment.namespace, label_selector=selector or None,
                                                      **self._opts()))
        owned = [decode_replica_set(item) for item in (raw or {}).get("items") or []
                 if _controller_uid(item) == deployment.uid]
        return tuple(sorted(owned, key=lambda rs: rs.revision, reverse=True))

    def view(self, namespace: str, name: str) -> DeploymentView:
        """The Deployment, its ReplicaSets and the pods they control."""
        from kubernetes import client

        deployment = self.deployment(namespace, name)
        replica_sets = self.replica_sets(deployment)
        selector = ",".join(f"{k}={v}" for k, v in sorted(deployment.selector.items()))
        raw = self._json(f"pods of {name}", lambda api: client.CoreV1Api(api).list_namespaced_pod(
            namespace, label_selector=selector or None, **self._opts()))
        owners = {rs.uid for rs in replica_sets}
        pods = [decode_pod(item) for item in (raw or {}).get("items") or [] if _controller_uid(item) in owners]
        pods.sort(key=lambda p: (-p.restarts, p.name))
        return DeploymentView(deployment, replica_sets, tuple(pods), self.context)

    def warning_events(self, namespace: str, objects: set[tuple[str, str]], limit: int = 500) -> tuple[Event, ...]:
        """Warning events about any of `objects` ((kind, name) pairs), most recent first."""
        from kubernetes import client

        raw = self._json(f"events in {namespace}", lambda api: client.CoreV1Api(api).list_namespaced_event(
            namespace, field_selector="type=Warning", limit=limit, **self._opts()))
        events = [decode_event(item) for item in (raw or {}).get("items") or []]
        mine = [e for e in events if e.type == "Warning" and (e.kind, e.object_name) in objects]
        return tuple(sorted(mine, key=lambda e: e.last_seen or e.first_seen or _EPOCH, reverse=True))

    def log_tail(self, namespace: str, pod: str, container: str, *, tail_lines: int = 40,
                 limit_bytes: int = 32768, previous: bool = False) -> LogTail:
        """The last lines of a container's log, bounded on the server (tailLines, limitBytes), sanitized."""
        from kubernetes import client

        what = f"log of {pod}/{container}"
        response = self._call(what, lambda api: client.CoreV1Api(api).read_namespaced_pod_log(
            pod, namespace, container=container or None, tail_lines=tail_lines, limit_bytes=limit_bytes,
            previous=previous or None, **self._opts()))
        data = response.data[:limit_bytes] if response.data else b""
        return LogTail(pod, container, log_lines(data, tail_lines), previous, tail_lines, limit_bytes)

    def rollout(self, namespace: str, name: str) -> RolloutStatus:
        from kubernetes import client

        raw = self._json(f"deployment {namespace}/{name}", lambda api: client.AppsV1Api(api)
                         .read_namespaced_deployment(name, namespace, **self._opts()))
        return rollout_status(raw)

    # -- permissions -----------------------------------------------------------------------------------
    def access(self, namespace: str, name: str, checks: tuple[tuple[str, str, str], ...], *,
               fresh: bool = False) -> AccessReview:
        """SelfSubjectAccessReviews for (verb, group, resource) in `namespace`; fails closed; cached."""
        key = (namespace, name)
        cached = self._access.get(key)
        if cached is not None and not fresh and time.monotonic() - cached.checked_at < ACCESS_TTL:
            return cached
        from kubernetes import client

        denied, reasons = [], []
        for verb, group, resource in checks:
            attrs = {"namespace": namespace, "verb": verb, "group": group, "resource": resource}
            if verb in {"get", "patch"} and name:
                attrs["name"] = name
            body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                    "spec": {"resourceAttributes": attrs}}
            what = f"access review ({verb} {resource})"
            try:
                raw = self._json(what, lambda api, body=body: client.AuthorizationV1Api(api)
                                 .create_self_subject_access_review(body, **self._opts()))
            except ClusterError as exc:
                review = AccessReview(False, (f"{verb} {resource}",), f"could not check permissions: {exc}",
                                      time.monotonic())
                return review  # not cached: a transient failure is retried next time (and fails closed)
            status = (raw or {}).get("status") or {}
            if status.get("allowed") is not True or status.get("denied") is True:
                denied.append(f"{verb} {resource}{'.' + group if group else ''} in {namespace}")
                if status.get("reason"):
                    reasons.append(str(status["reason"]))
        review = AccessReview(not denied, tuple(denied), "; ".join(reasons), time.monotonic())
        self._access[key] = review
        return review

    def cached_access(self, namespace: str, name: str) -> AccessReview | None:
        review = self._access.get((namespace, name))
        if review is None or time.monotonic() - review.checked_at >= ACCESS_TTL:
            return None
        return review

    # -- writes ----------------------------------------------------------------------------------------
    def patch_deployment(self, namespace: str, name: str, operations: list[dict[str, Any]], *,
                         dry_run: bool = False, audit_id: str = "") -> Deployment:
        """A JSON Patch (the operations carry their own preconditions); `dry_run` sends dryRun=All."""
        from kubernetes import client

        headers = {AUDIT_HEADER: audit_id} if audit_id else {}
        what = f"{'dry run of the ' if dry_run else ''}patch of deployment {namespace}/{name}"
        raw = self._json(what, lambda api: client.AppsV1Api(api).patch_namespaced_deployment(
            name, namespace, operations, dry_run="All" if dry_run else None, field_manager="mlcall-tui",
            _content_type="application/json-patch+json", _headers=headers, **self._opts()))
        return decode_deployment(raw)


def _controller_uid(raw: Any) -> str:
    refs = ((raw or {}).get("metadata") or {}).get("ownerReferences") or []
    return next((str(r.get("uid", "")) for r in refs if isinstance(r, dict) and r.get("controller")), "")
