"""The demo stack's cluster and history parts, against the real servers it starts: the emulated Kubernetes
API (kmock) holds each model's Deployment, its revisions and an OOM crash-looping pod, and a rollback
patches it and is rolled out by the stand-in controller; Prometheus answers a range query six hours back
with the written history joined to the live scrape (one series, no counter reset, the onset before now).
One stack for the whole file (Prometheus + model service + kmock; no Alertmanager, no MLflow)."""

from __future__ import annotations

import math
import socket
import time
import urllib.parse
from dataclasses import replace
from pathlib import Path
from urllib.request import urlopen

import pytest

from oncall_tui.actions import k8s_rollback as kr
from oncall_tui.actions.audit import AuditLog
from oncall_tui.demo import demo_settings
from oncall_tui.sources.cluster import ClusterSource
from oncall_tui.stack import LocalStack

pytestmark = pytest.mark.integration
NS = "ml-prod"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    stack = LocalStack(tmp_path_factory.mktemp("demo-stack"), alertmanager_peers=0, scenario="latency",
                       history_hours=6, kube=True)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def source(stack) -> ClusterSource:
    """The cluster as `mlcall-tui demo` points the app at it (its settings; a longer timeout for busy CI)."""
    settings = replace(demo_settings(stack), timeout=5.0)
    assert settings.kubeconfig == str(stack.kubeconfig) and settings.namespace == NS
    return ClusterSource(settings)


def range_query(stack, query: str, start: float, end: float, step: float) -> list[dict]:
    import json

    params = urllib.parse.urlencode({"query": query, "start": start, "end": end, "step": step})
    with urlopen(f"{stack.prometheus_url}/api/v1/query_range?{params}", timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_the_emulated_cluster_holds_deployments_revisions_and_an_oom_crash_looping_pod(demo):
    kube = source(demo)
    view = kube.view(NS, "fraud-detector")  # slow in the latency scenario: its server crash-loops
    assert kube.context == "emulated-kmock"  # what every screen shows next to the Deployment
    assert view.deployment.revision == 2 and len(view.replica_sets) >= 2
    assert len({rs.images for rs in view.replica_sets}) == len(view.replica_sets)  # each revision its own image
    looping = [p for p in view.pods if any(c.reason == "CrashLoopBackOff" and c.last_reason == "OOMKilled"
                                           and c.last_exit_code == 137 for c in p.containers)]
    assert len(looping) == 1 and len(view.pods) == 3
    events = kube.warning_events(NS, {("Pod", looping[0].name)})
    assert {"BackOff", "OOMKilling"} <= {e.reason for e in events}
    log = kube.log_tail(NS, looping[0].name, "server", tail_lines=5, previous=True)
    assert log.lines[-1] == "Killed" and len(log.lines) == 5
    calm = kube.view(NS, "recsys-ranker")  # no latency/drift incident: every pod healthy
    assert all(p.ready and not p.restarts for p in calm.pods) and len(calm.pods) == 3


def test_a_rollback_patches_the_emulated_api_and_the_stand_in_controller_rolls_it_out(demo, tmp_path: Path):
    kube = source(demo)
    assert kr.access(kube, NS, "churn-predictor").allowed
    plan = kr.dry_run(kube, kr.plan_rollback(kube, NS, "churn-predictor"))
    assert plan.dry_run == "ok" and (plan.current_revision, plan.target_revision) == (2, 1)
    assert any(c.field == "image" for c in plan.changes)
    audit = AuditLog(tmp_path / "audit.jsonl", actor="tester")
    result = kr.execute_rollback(kube, audit, plan, "OOM crash loop since release 2026.11.4")
    assert result.ok, result.message
    final = kr.watch_rollout(kube, NS, "churn-predictor", lambda _status: None, interval=0.3, deadline=30)
    assert final.done and final.message == "successfully rolled out"
    view = kube.view(NS, "churn-predictor")
    assert view.deployment.revision == 3 and view.current.images == plan_images(plan)
    assert len(view.pods) == 3 and all(p.ready and p.owner == view.current.name for p in view.pods)
    # a second patch with the plan's (now stale) resourceVersion is refused: 409, nothing changes
    again = kr.execute_rollback(kube, audit, plan, "again")
    assert again.conflict and kube.deployment(NS, "churn-predictor").revision == 3


def plan_images(plan) -> tuple[str, ...]:
    return tuple(c["image"] for c in plan.target_template["spec"]["containers"])


def test_prometheus_answers_hours_back_with_the_history_joined_to_the_live_scrape(demo):
    now = time.time()
    (series,) = range_query(demo, 'model_requests_total{model="fraud-detector"}', now - 6 * 3600, now, 300)
    assert series["metric"]["instance"] == demo.model_service.target  # the live scrape's labels
    times = [float(t) for t, _ in series["values"]]
    values = [float(v) for _, v in series["values"]]
    assert times[0] <= now - 5.9 * 3600 and times[-1] >= now - 300  # six hours back up to now: one series
    assert all(b >= a for a, b in zip(values, values[1:], strict=False))  # history and live continue: no counter reset
    (live,) = range_query(demo, 'model_requests_total{model="fraud-detector"}', now - 120, now, 1)
    assert float(live["values"][-1][1]) >= values[-2]
    # the incident's onset, some minutes before now (and before the alert): p95 ~0.3 s, then ~4 s
    p95 = 'histogram_quantile(0.95, sum by (le) (rate(model_inference_duration_seconds_bucket{model="fraud-detector"}[5m])))'
    (latency,) = range_query(demo, p95, now - 3 * 3600, now, 60)
    points = [(float(t), float(v)) for t, v in latency["values"] if not math.isnan(float(v))]
    before = [v for t, v in points if t < now - 15 * 60]
    after = [v for t, v in points if t > now - 3 * 60]
    assert before and max(before) < 1.0 and after and min(after) > 2.0
    onset = next(t for t, v in points if v > 2.0)
    assert now - 12 * 60 < onset < now - 2 * 60


def test_stopping_the_stack_stops_the_emulated_api(tmp_path: Path):
    stack = LocalStack(tmp_path, prometheus=False, alertmanager_peers=0, kube=True).start()
    host, port = urllib.parse.urlsplit(stack.kube.url).hostname, urllib.parse.urlsplit(stack.kube.url).port
    socket.create_connection((host, port), timeout=2).close()
    stack.stop()
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=2).close()
