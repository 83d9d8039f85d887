"""Training Jobs (`batch/v1`) from Kubernetes, through the official client (the app's cluster config).

A Job belongs to a model through its `model` label (the app's `model_label`), else through the CronJob
that owns it, named `train-<model>` (the runbooks' convention). Per model:
- `dvc_training_job_failures_total{model}` / `dvc_training_job_successes_total{model}`: Jobs seen
  failed / complete. A counter must never go down, but Kubernetes deletes old Jobs (history limits,
  TTL): so each is the number of distinct Jobs (by uid) this process has seen in that state. After an
  exporter restart it starts again from the Jobs still kept (a counter reset, as Prometheus expects).
- `dvc_training_job_last_success_timestamp{model}` / `..._last_failure_timestamp{model}`.
Needs only `list` on `jobs` (deploy/kubernetes/mlcall-exporter.yaml).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

from ..config import Settings
from .families import COUNTER, GAUGE, Family, FamilyBuilder

CRONJOB_PREFIX = "train-"


def _time(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def model_of(job: dict[str, Any], label: str) -> str:
    meta = job.get("metadata") or {}
    model = (meta.get("labels") or {}).get(label)
    if model:
        return str(model)
    for owner in meta.get("ownerReferences") or []:
        name = str(owner.get("name", ""))
        if owner.get("kind") == "CronJob" and name.startswith(CRONJOB_PREFIX) and len(name) > len(CRONJOB_PREFIX):
            return name[len(CRONJOB_PREFIX):]
    return ""


def outcome(job: dict[str, Any]) -> tuple[str, float | None]:
    """("failed" | "complete" | "", when) from the Job's conditions (the Job controller's verdict)."""
    status = job.get("status") or {}
    for condition in status.get("conditions") or []:
        if str(condition.get("status")) != "True":
            continue
        kind = condition.get("type")
        if kind == "Failed":
            return "failed", _time(condition.get("lastTransitionTime"))
        if kind == "Complete":
            return "complete", _time(status.get("completionTime")) or _time(condition.get("lastTransitionTime"))
    return "", None


class JobsSource:
    name = "jobs"

    def __init__(self, settings: Settings, *, namespaces: tuple[str, ...] = (), timeout: float = 8.0) -> None:
        self.settings = settings
        self.namespaces = namespaces
        self.timeout = timeout
        self._cluster: Any = None
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], set[str]] = {}  # (model, "failed"|"complete") -> uids

    def prepare(self) -> None:
        from ..sources.cluster import ClusterSource

        if self._cluster is None:
            self._cluster = ClusterSource(self.settings)
        self._cluster.api()  # imports kubernetes and reads the kubeconfig (no request)

    def _list(self) -> list[dict[str, Any]]:
        from ..sources.cluster import classify

        self.prepare()
        api = self._cluster.api()
        from kubernetes import client

        batch = client.BatchV1Api(api)
        items: list[dict[str, Any]] = []
        try:
            for namespace in self.namespaces or (None,):
                # no label selector: Jobs of a `train-<model>` CronJob may lack the model label
                kwargs = {"_preload_content": False, "_request_timeout": self.timeout}
                response = (batch.list_namespaced_job(namespace, **kwargs) if namespace
                            else batch.list_job_for_all_namespaces(**kwargs))
                items.extend(json.loads(response.data or b"{}").get("items") or [])
        except Exception as exc:
            raise classify(exc, "list Jobs", self._cluster.where) from None
        return items

    def read(self) -> list[Family]:
        jobs = self._list()
        label = self.settings.model_label
        last: dict[tuple[str, str], float] = {}
        models: set[str] = set()
        with self._lock:
            for job in jobs:
                model = model_of(job, label)
                if not model:
                    continue
                models.add(model)
                state, when = outcome(job)
                if not state:
                    continue
                uid = str((job.get("metadata") or {}).get("uid") or (job.get("metadata") or {}).get("name"))
                self._seen.setdefault((model, state), set()).add(uid)
                if when is not None:
                    last[model, state] = max(when, last.get((model, state), 0.0))
            models |= {model for model, _ in self._seen}
            counts = {key: len(uids) for key, uids in self._seen.items()}
        out = FamilyBuilder()
        for model in sorted(models):
            out.add("dvc_training_job_failures", COUNTER, "Training Jobs of the model seen failed",
                    {"model": model}, counts.get((model, "failed"), 0))
            out.add("dvc_training_job_successes", COUNTER, "Training Jobs of the model seen complete",
                    {"model": model}, counts.get((model, "complete"), 0))
            if (model, "complete") in last:
                out.add("dvc_training_job_last_success_timestamp", GAUGE,
                        "Unix time the model's newest successful training Job completed",
                        {"model": model}, last[model, "complete"])
            if (model, "failed") in last:
                out.add("dvc_training_job_last_failure_timestamp", GAUGE,
                        "Unix time the model's newest failed training Job failed",
                        {"model": model}, last[model, "failed"])
        return out.build()
