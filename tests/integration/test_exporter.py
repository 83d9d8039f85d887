"""`mlcall-tui exporter` end to end on real servers: a real MLflow registry (seeded), a real DVC repository
made here, kmock holding training Jobs; the exporter runs as the real command; a real Prometheus scrapes
it with the deploy/ rules (fast mode), a real Alertmanager receives the alerts and the TUI shows them.
No metric in that path is produced by test code: the test only changes the backends (a Job fails,
MLflow stops).

One stack for the module (tests run in file order: the last one stops MLflow).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from oncall_tui.config import Settings
from oncall_tui.stack import LocalStack
from oncall_tui.stack.dvc_repo import make_dvc_repo
from oncall_tui.stack.processes import ManagedProcess, free_port, wait_until
from oncall_tui.stack.pushgateway import Pushgateway
from oncall_tui.stack.registry_seed import seed
from tests.support.kube import KubeFake, ago
from tests.support.ui import table_rows, wait_for

pytestmark = pytest.mark.integration
JOBS = "batch/v1/jobs"
NS = "ml-prod"
DRIFT = {"data_drift": {"kolmogorov_smirnov": {"amount": 0.31, "merchant_age": 0.04}}, "accuracy": 0.93}
MLCALL = str(Path(sys.executable).parent / "mlcall-tui")


def training_job(name: str, model: str, *, state: str = "", owner: str = "") -> dict:
    meta: dict = {"name": name, "namespace": NS, "uid": f"uid-{name}", "creationTimestamp": ago(600)}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "CronJob", "name": owner, "uid": "cj"}]
    else:
        meta["labels"] = {"model": model}
    status: dict = {"active": 1, "startTime": ago(600)}
    if state == "Failed":
        status = {"failed": 1, "startTime": ago(600), "conditions": [
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "lastTransitionTime": ago(1)}]}
    elif state == "Complete":
        status = {"succeeded": 1, "startTime": ago(3600), "completionTime": ago(3000), "conditions": [
            {"type": "Complete", "status": "True", "lastTransitionTime": ago(3000)}]}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
            "spec": {"template": {"spec": {"containers": [{"name": "train", "image": "train:1"}]}}},
            "status": status}


class Signals:
    def __init__(self, stack, mlflow_stack, kube, exporter, port, config_file):
        self.stack, self.mlflow_stack, self.kube = stack, mlflow_stack, kube
        self.exporter, self.config_file = exporter, config_file
        self.url = f"http://127.0.0.1:{port}/metrics"

    def scrape(self) -> str:
        r = httpx.get(self.url, timeout=15, trust_env=False)
        r.raise_for_status()
        return r.text

    def value(self, text: str, series: str) -> float | None:
        for line in text.splitlines():
            if line.startswith(series + " "):
                return float(line.rsplit(" ", 1)[1])
        return None


@pytest.fixture(scope="module")
def signals(tmp_path_factory):
    """A seeded MLflow of this module's own (churn-predictor's champion was trained 9 days ago: stale; the
    last test stops it, so it is not the session's), a DVC repo
    with drift, kmock with a running and a completed training Job, the exporter as a real command, and a
    Prometheus + Alertmanager of our own scraping it every 5 s (scrape timeout 5 s > exporter timeout 4 s)."""
    work = tmp_path_factory.mktemp("exporter")
    port = free_port()
    scrape = {"job_name": "mlcall-exporter", "scrape_interval": "5s", "scrape_timeout": "5s",
              "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
    stack = LocalStack(work / "stack", model_service=False, fast=True, mlflow=True, scrape_configs=[scrape])
    exporter = None
    with KubeFake() as kube:
        try:
            stack.start()
            seed(stack.mlflow_uri)
            repo = make_dvc_repo(work / "fraud-detector-monitor", DRIFT)
            kube.put(JOBS, training_job("fraud-detector-train-1", "fraud-detector"))  # running
            kube.put(JOBS, training_job("train-churn-predictor-29001", "", state="Complete",
                                        owner="train-churn-predictor"))
            kubeconfig = kube.kubeconfig(work)
            config_file = work / "config.toml"
            config_file.write_text(
                f'mlflow = "{stack.mlflow_uri}"\n\n[exporter]\nlisten = "127.0.0.1:{port}"\n'
                f'timeout = 4\nttl = 3\njob_namespaces = ["{NS}"]\n\n'
                f'[[exporter.dvc]]\nrepo = "{repo}"\nrev = "main"\nmodel = "fraud-detector"\n')
            env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
            env.update(KUBECONFIG=str(kubeconfig), MLFLOW_TRACKING_URI="")
            exporter = ManagedProcess("exporter", [MLCALL, "exporter", "--config", str(config_file)],
                                      work / "exporter.log", env=env)
            exporter.start()
            exporter.wait_http(f"http://127.0.0.1:{port}/metrics", timeout=60)
            yield Signals(stack, stack, kube, exporter, port, config_file)
        finally:
            if exporter is not None:
                exporter.stop()
                print(exporter.log_tail(40))
            stack.stop()


async def test_drift_staleness_and_a_failed_training_job_fire_and_reach_the_tui(signals):
    stack = signals.stack
    # Prometheus scrapes what the exporter read from the real backends
    for series in ('dvc_training_job_failures_total{model="fraud-detector"} == 0',
                   'dvc_metric_data_drift_kolmogorov_smirnov{feature="amount",model="fraud-detector",'
                   'path="metrics/drift.json"} == 0.31',
                   'dvc_training_job_successes_total{model="churn-predictor"} == 1',
                   'mlflow_model_versions{model="churn-predictor"} == 4',
                   'mlflow_model_version_info{model="churn-predictor",alias="challenger",version="4"} == 1'):
        wait_until(lambda s=series: stack.query(s), timeout=60, what=f"{series} in Prometheus")
    days = stack.query('(time() - mlflow_model_last_trained_timestamp{model="churn-predictor"}) / 86400')
    assert 8.9 < float(days[0]["value"][1]) < 9.1

    # the training Job fails (the Job controller's verdict, as the API server would store it)
    signals.kube.put(JOBS, training_job("fraud-detector-train-1", "fraud-detector", state="Failed"))

    for name, labels in [("DataDriftDetected", {"model": "fraud-detector", "feature": "amount"}),
                         ("ModelStalenessHigh", {"model": "churn-predictor"}),
                         ("TrainingJobFailed", {"model": "fraud-detector"})]:
        stack.wait_for_alert(name, labels=labels, timeout=90)
    for quiet in ('ALERTS{alertname="DataDriftDetected",feature="merchant_age"}',
                  'ALERTS{alertname="ModelStalenessHigh",model="fraud-detector"}'):
        assert not stack.query(quiet), quiet

    from oncall_tui.ui.app import MlcallApp

    app = MlcallApp(Settings(alertmanager_urls=tuple(stack.alertmanager_urls), refresh=0.5, timeout=2.0))
    async with app.run_test(size=(120, 40)) as pilot:
        wanted = {("DataDriftDetected", "fraud-detector"), ("ModelStalenessHigh", "churn-predictor"),
                  ("TrainingJobFailed", "fraud-detector")}

        def shown():
            return {(r[1].strip(" ▸"), r[3]) for r in table_rows(app)}

        await wait_for(pilot, lambda: wanted <= shown(), timeout=60, what=f"{wanted} on screen")
        rows = {r[1].strip(" ▸"): r for r in table_rows(app) if (r[1].strip(" ▸"), r[3]) in wanted}
        assert rows["DataDriftDetected"][0] == "▲ CRIT" and rows["TrainingJobFailed"][0] == "▲ CRIT"
        assert rows["ModelStalenessHigh"][0] == "◆ WARN"
        assert "drifted from the training set (KS 0.31 > 0.15)" in rows["DataDriftDetected"][7]


def _push(signals, gateway: Pushgateway) -> subprocess.CompletedProcess:
    return subprocess.run([MLCALL, "exporter", "--config", str(signals.config_file), "--push", gateway.url,
                           "--instance", "ci-cron", "--timeout", "20"], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "KUBECONFIG": str(signals.kube.kubeconfig(
                              signals.config_file.parent))})


def _record_a_failed_push(uri: str) -> str:
    """What training code does: a run whose registry push raised, wrapped in recording_push_errors."""
    from mlflow.tracking import MlflowClient

    from oncall_tui.exporter.training import recording_push_errors

    model = f"push-fail-{uuid.uuid4().hex[:6]}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    run = client.create_run(client.get_experiment_by_name("fraud-detector").experiment_id)
    with pytest.raises(PermissionError, match="403"):
        with recording_push_errors(model, run_id=run.info.run_id, client=client):
            raise PermissionError("403 from the registry")  # the push's own error comes back unchanged
    return model


def test_push_once_to_a_real_pushgateway(signals, tmp_path):
    failed_model = _record_a_failed_push(signals.mlflow_stack.mlflow_uri)
    with Pushgateway(tmp_path) as gateway:
        proc = _push(signals, gateway)
        assert proc.returncode == 0, proc.stderr
        held = gateway.metrics()
        group = 'instance="ci-cron",job="mlcall-exporter"'
        for series in ('dvc_metric_data_drift_kolmogorov_smirnov{feature="amount",' + group +
                       ',model="fraud-detector",path="metrics/drift.json"} 0.31',
                       f'mlflow_model_versions{{{group},model="churn-predictor"}} 4',
                       f'mlcall_exporter_source_up{{{group},source="mlflow"}} 1'):
            assert series in held, series
        assert f'mlcall_exporter_last_success_timestamp_seconds{{{group},source="dvc:fraud-detector"}}' in held
        assert 'push_time_seconds{' + group in held
        assert f'mlflow_model_push_errors_total{{{group},model="{failed_model}"}} 1' in held


def test_mlflow_stops_mid_run_its_metrics_go_the_rest_stays_and_the_exporter_lives(signals, tmp_path):
    assert signals.value(signals.scrape(), 'mlcall_exporter_source_up{source="mlflow"}') == 1.0
    mlflow = signals.mlflow_stack.processes()["MLflow"]
    mlflow.stop()  # this module's own MLflow: nothing else needs it back
    _mlflow_down(signals, tmp_path)


def _mlflow_down(signals, tmp_path):
    stack = signals.stack

    def mlflow_down():
        text = signals.scrape()
        return signals.value(text, 'mlcall_exporter_source_up{source="mlflow"}') == 0.0 and text

    text = wait_until(mlflow_down, timeout=60, what="mlflow source down in the exporter")
    assert "mlflow_model_" not in text, "no stale MLflow values presented as fresh"
    assert signals.value(text, 'mlcall_exporter_source_up{source="dvc:fraud-detector"}') == 1.0
    assert 'dvc_metric_data_drift_kolmogorov_smirnov{feature="amount"' in text
    assert signals.value(text, 'mlcall_exporter_last_success_timestamp_seconds{source="mlflow"}') > 0
    for _ in range(5):  # it keeps answering, and the process is alive
        assert "dvc_metric_" in signals.scrape()
    assert signals.exporter.running
    # Prometheus sees it too, and the real rule fires (for: shortened in fast mode)
    wait_until(lambda: stack.query('mlcall_exporter_source_up{source="mlflow"} == 0'), timeout=30,
               what="source_up 0 in Prometheus")
    wait_until(lambda: not stack.query('mlflow_model_versions'), timeout=30,
               what="MLflow series gone from Prometheus (stale-marked)")
    stack.wait_for_alert("MLMetricsExporterDown", labels={"source": "mlflow"}, timeout=60)

    with Pushgateway(tmp_path) as gateway:  # a pushing CronJob says so too: exit 1, up 0, no values
        proc = _push(signals, gateway)
        assert proc.returncode == 1, proc.stderr
        assert "mlflow: FAILED" in proc.stderr
        held = gateway.metrics()
        assert 'mlcall_exporter_source_up{instance="ci-cron",job="mlcall-exporter",source="mlflow"} 0' in held
        assert "mlflow_model_" not in held and "dvc_metric_data_drift" in held
