"""The local stack runs real servers and real alerting: scrape → rule → Alertmanager → receiver."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from oncall_tui.resources import bundled
from oncall_tui.stack import SCENARIOS, BinaryNotFound, LocalStack, binaries
from oncall_tui.stack.processes import wait_until

pytestmark = pytest.mark.integration

P95 = "histogram_quantile(0.95, sum by (le, model) (rate(model_inference_duration_seconds_bucket[5m])))"
SEED_METRICS = (
    "model_inference_duration_seconds_bucket",
    "dvc_metric_data_drift_kolmogorov_smirnov",
    "mlflow_model_last_trained_timestamp",
    "dvc_training_job_failures_total",
    "mlflow_model_push_errors_total",
    "model_requests_total",
    "model_prediction_nan_total",
)


def _by_model(result: list[dict]) -> dict[str, float]:
    return {r["metric"].get("model", ""): float(r["value"][1]) for r in result}


def _assert_all_gone(pids: dict[str, int], workdir: Path) -> None:
    assert pids, "the stack reported no running process"
    for name, pid in pids.items():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # signal 0: existence check only
        assert not Path(f"/proc/{pid}").exists(), f"{name} (pid {pid}) still exists"
    # Nothing else (e.g. a server's child process) still runs from the stack's work dir.
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    leftovers = [line for line in ps.splitlines() if str(workdir) in line]
    assert leftovers == []


def test_prometheus_scrapes_the_model_service(stack: LocalStack) -> None:
    up = stack.query('up{job="model-service"}')
    assert len(up) == 1
    assert up[0]["value"][1] == "1"
    assert up[0]["metric"]["namespace"] == "ml-prod"
    for metric in SEED_METRICS:  # the metric names the bundled rules are written against
        present = wait_until(lambda m=metric: stack.query(f"count by (model) ({m})"), timeout=60, what=metric)
        assert {r["metric"]["model"] for r in present} == set(stack.model_service.models)


def test_latency_incident_pushes_p95_above_two_seconds(stack: LocalStack) -> None:
    def p95() -> dict[str, float] | None:
        values = _by_model(stack.query(P95))
        return values if values.get("fraud-detector", 0) > 2 and len(values) == 3 else None

    values = wait_until(p95, timeout=120, what="fraud-detector p95 > 2 s")
    assert 2 < values["fraud-detector"] < 6
    assert values["churn-predictor"] < 0.5 and values["recsys-ranker"] < 0.5  # healthy models


def test_latency_alert_reaches_alertmanager_firing(stack: LocalStack) -> None:
    alert = stack.wait_for_alert(
        "ModelInferenceLatenessHigh", labels={"model": "fraud-detector"}, timeout=120
    )
    assert alert["status"]["state"] == "active"
    labels = alert["labels"]
    assert labels["severity"] == "warning"
    assert labels["component"] == "inference"
    assert "fraud-detector" in alert["annotations"]["summary"]
    assert alert["annotations"]["runbook_url"].endswith("inference-latency.md")
    assert alert["generatorURL"].startswith(stack.prometheus_url)


def test_default_scenario_fires_its_alerts(stack: LocalStack) -> None:
    expected = {
        "DataDriftDetected": {
            "model": "churn-predictor",
            "feature": "account_age_days",
            "severity": "critical",
        },
        "ModelStalenessHigh": {"model": "churn-predictor", "severity": "warning"},
        "TrainingJobFailed": {"model": "recsys-ranker", "severity": "critical"},
    }
    assert set(expected) < set(SCENARIOS["default"].alerts)
    for name, labels in expected.items():
        stack.wait_for_alert(name, labels=labels, timeout=120)
    # Healthy features do not drift, and nobody pushed a broken model in this scenario.
    drifting = stack.query("dvc_metric_data_drift_kolmogorov_smirnov > 0.15")
    assert [(r["metric"]["model"], r["metric"]["feature"]) for r in drifting] == [
        ("churn-predictor", "account_age_days")
    ]
    assert not any(a["labels"]["alertname"] == "ModelRegistryPushFailed" for a in stack.alerts())


def test_notifications_reach_the_routed_receivers(stack: LocalStack) -> None:
    amtool = binaries.find_amtool()
    config_file = stack.workdir / "alertmanager" / "alertmanager.yml"
    for name, model in (
        ("ModelInferenceLatenessHigh", "fraud-detector"),
        ("DataDriftDetected", "churn-predictor"),
    ):
        alert = stack.wait_for_alert(name, labels={"model": model}, timeout=120)
        receivers = {r["name"] for r in alert["receivers"]}
        # The routing tree's own answer (amtool) agrees with what Alertmanager did.
        argv = [amtool, "config", "routes", "test", f"--config.file={config_file}"]
        argv += [f"{k}={v}" for k, v in alert["labels"].items()]
        routed = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
        assert set(routed.split(",")) == receivers
        for receiver in receivers:
            payload = stack.webhook_sink.wait_for(
                lambda p, r=receiver, n=name: (
                    p["_hook"] == r
                    and p["status"] == "firing"
                    and any(a["labels"].get("alertname") == n for a in p["alerts"])
                ),
                timeout=60,
            )
            assert payload["receiver"] == receiver


def test_receivers_are_local_webhooks_only(stack: LocalStack) -> None:
    config = stack.alertmanager_config
    source = bundled("deploy") / "alertmanager" / "alertmanager.yml"
    if source.is_file():  # same routing tree and receiver names as the monitoring pack
        original = yaml.safe_load(source.read_text())
        assert {r["name"] for r in config["receivers"]} == {r["name"] for r in original["receivers"]}
        assert config.get("inhibit_rules") == original.get("inhibit_rules")
    for receiver in config["receivers"]:
        assert set(receiver) == {"name", "webhook_configs"}
        for hook in receiver["webhook_configs"]:
            assert hook["url"].startswith(stack.webhook_sink.url + "/hook/")
    # What the running Alertmanager actually loaded: only loopback webhooks, no secret files.
    status = httpx.get(f"{stack.alertmanager_urls[0]}/api/v2/status", timeout=10, trust_env=False).json()
    loaded = yaml.safe_load(status["config"]["original"])
    for receiver in loaded["receivers"]:
        assert [k for k in receiver if k.endswith("_configs")] == ["webhook_configs"]
        assert all(h["url"].startswith("http://127.0.0.1:") for h in receiver["webhook_configs"])
    assert not [k for k, v in loaded["global"].items() if k.endswith("_file") and v]
    assert "templates" not in loaded or not loaded["templates"]
    assert status["cluster"]["status"] == "disabled"  # a single peer: no gossip


def test_pending_is_visible_in_prometheus_and_stop_leaves_nothing(tmp_path: Path) -> None:
    local = LocalStack(tmp_path, alertmanager_peers=1, fast=True)
    try:
        local.start()
        local.model_service.set_incident("recsys-ranker", "latency")
        pending = local.wait_for_alert(
            "ModelInferenceLatenessHigh", source="prometheus", state="pending", labels={"model": "recsys-ranker"},
            timeout=120,
        )  # fmt: skip
        assert pending["labels"]["severity"] == "warning"
        assert float(pending["value"]) > 2
        pids = local.pids()
        assert set(pids) == {"Prometheus", "Alertmanager peer 0"}
    finally:
        local.stop()
    _assert_all_gone(pids, tmp_path)
    local.stop()  # idempotent


def test_two_alertmanager_peers_form_a_ready_cluster(tmp_path: Path) -> None:
    local = LocalStack(tmp_path, prometheus=False, model_service=False, alertmanager_peers=2)
    try:
        local.start()
        names = set()
        for peer in local.alertmanager_peers:
            cluster = peer.status()["cluster"]
            assert cluster["status"] == "ready"
            assert len(cluster["peers"]) == 2
            names.add(cluster["name"])
        assert len(names) == 2
        # A crashed peer comes back on the same port and storage, and rejoins.
        peer = local.alertmanager_peer(1)
        old_pid = peer.pid
        peer.kill()
        assert not peer.running
        peer.start()
        assert peer.pid != old_pid and peer.url == local.alertmanager_urls[1]
        peer.wait_cluster_ready(2, timeout=120)
        local.alertmanager_peer(0).wait_cluster_ready(2, timeout=120)
        pids = local.pids()
        assert len(pids) == 2
    finally:
        local.stop()
    _assert_all_gone(pids, tmp_path)


def test_missing_binary_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("MLCALL_PROMETHEUS_BIN", raising=False)
    monkeypatch.delenv("MLCALL_ALERTMANAGER_BIN", raising=False)
    for find in (binaries.find_prometheus, binaries.find_alertmanager):
        with pytest.raises(BinaryNotFound, match="apt-get install --no-install-recommends prometheus"):
            find()
    with pytest.raises(BinaryNotFound, match="MLCALL_PROMETHEUS_BIN"):
        LocalStack(tmp_path / "never").start()
    monkeypatch.setenv("MLCALL_MLFLOW_BIN", str(tmp_path / "no-mlflow"))
    with pytest.raises(BinaryNotFound, match=r"mlcall-tui\[demo\]"):
        LocalStack(tmp_path / "never", prometheus=False, alertmanager_peers=0, mlflow=True).start()
    assert not (tmp_path / "never").exists() or not any((tmp_path / "never").iterdir())
