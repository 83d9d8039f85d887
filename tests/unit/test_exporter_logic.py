"""The exporter's logic without servers: names, DVC flattening, Job decoding, the collector's timeouts,
TTL and no-stale-values rule, config, its rules (promtool) and its Kubernetes manifests."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml

from oncall_tui.config import ConfigError, Settings
from oncall_tui.exporter import config as exporter_config
from oncall_tui.exporter.collector import ExporterCollector, families_of
from oncall_tui.exporter.dvc_source import metric_samples
from oncall_tui.exporter.families import GAUGE, Family, FamilyBuilder, metric_name
from oncall_tui.exporter.jobs_source import model_of, outcome
from oncall_tui.resources import bundled

DEPLOY = bundled("deploy")


# ------------------------------------------------------------------ names and DVC metrics
@pytest.mark.parametrize(("parts", "name"), [
    (("dvc_metric", "data_drift", "kolmogorov_smirnov"), "dvc_metric_data_drift_kolmogorov_smirnov"),
    (("dvc_metric", "val-AUC"), "dvc_metric_val_auc"),
    (("dvc_metric", "a..b//c"), "dvc_metric_a_b_c"),
    (("9lives",), "_9lives"),
])
def test_metric_names_follow_prometheus_rules(parts, name):
    assert metric_name(*parts) == name


def test_dvc_metrics_flatten_with_per_feature_mappings_as_a_label():
    data = {"accuracy": 0.93, "train": {"loss": 0.2, "done": True, "note": "x"},
            "data_drift": {"kolmogorov_smirnov": {"amount": 0.31, "merchant_age": 0.04}}}
    assert sorted(metric_samples(data)) == [
        ("dvc_metric_accuracy", "", 0.93),
        ("dvc_metric_data_drift_kolmogorov_smirnov", "amount", 0.31),
        ("dvc_metric_data_drift_kolmogorov_smirnov", "merchant_age", 0.04),
        ("dvc_metric_train_loss", "", 0.2),
    ]


def test_family_builder_skips_nan_and_keeps_one_label_set_per_name():
    out = FamilyBuilder()
    out.add("m", GAUGE, "h", {"model": "a"}, float("nan"))
    out.add("m", GAUGE, "h", {"model": "b"}, 2)
    out.add("m", GAUGE, "h", {"model": "c", "extra": "x"}, 3)
    out.add("m", GAUGE, "h", {"model": "d"}, "not a number")
    assert out.build() == [Family("m", GAUGE, "h", ("model",), ((("b",), 2.0),))]


# ------------------------------------------------------------------ Jobs
def job(name, *, labels=None, owner="", condition="", when="2026-12-01T03:00:00Z"):
    meta = {"name": name, "uid": f"uid-{name}", "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": "CronJob", "name": owner}]
    status = {}
    if condition:
        status = {"conditions": [{"type": condition, "status": "True", "lastTransitionTime": when}]}
        if condition == "Complete":
            status["completionTime"] = when
    return {"metadata": meta, "status": status}


def test_job_model_from_label_else_from_the_train_cronjob():
    assert model_of(job("x", labels={"model": "fraud-detector"}), "model") == "fraud-detector"
    assert model_of(job("train-churn-123", owner="train-churn"), "model") == "churn"
    assert model_of(job("backup-1", owner="backup"), "model") == ""
    assert model_of(job("train-", owner="train-"), "model") == ""


def test_job_outcome_from_conditions():
    assert outcome(job("a", condition="Failed"))[0] == "failed"
    assert outcome(job("a", condition="Complete")) == ("complete", 1796094000.0)
    assert outcome(job("a")) == ("", None)


def test_job_counters_never_go_down_when_kubernetes_deletes_old_jobs(monkeypatch):
    from oncall_tui.exporter.jobs_source import JobsSource

    source = JobsSource(Settings())
    listed = [[job("t1", labels={"model": "m"}, condition="Failed")],
              [job("t2", labels={"model": "m"}, condition="Failed")],  # t1 deleted by the history limit
              [job("t2", labels={"model": "m"}, condition="Failed")]]
    monkeypatch.setattr(source, "_list", lambda: listed.pop(0))
    values = []
    for _ in range(3):
        fams = {f.name: f for f in source.read()}
        values.append(fams["dvc_training_job_failures"].samples)
    assert values == [((("m",), 1.0),), ((("m",), 2.0),), ((("m",), 2.0),)]
    assert fams["dvc_training_job_successes"].samples == ((("m",), 0.0),)


# ------------------------------------------------------------------ collector
class Slow:
    def __init__(self, name, delay=0.0, fail=False):
        self.name, self.delay, self.fail, self.calls = name, delay, fail, 0
        self.release = threading.Event()

    def read(self):
        self.calls += 1
        if self.delay:
            self.release.wait(self.delay)
        if self.fail:
            raise ConnectionError("connection refused by http://user:secret@mlflow:5000")
        return [Family(f"{self.name}_value", GAUGE, "h", ("model",), ((("m",), float(self.calls)),))]


def by_name(states):
    return {s.name: s for s in states}


def test_a_failing_source_exports_nothing_of_its_own_and_up_0_while_others_export():
    good, bad = Slow("good"), Slow("bad")
    collector = ExporterCollector([good, bad], timeout=2, ttl=60)
    states = by_name(collector.refresh())
    assert states["good"].up and states["good"].families
    bad.fail = True
    collector._cache.clear()  # next read of both
    states = by_name(collector.refresh())
    assert not states["bad"].up and states["bad"].families == ()
    assert "secret" not in states["bad"].error and "ConnectionError" in states["bad"].error
    names = {f.name: f for f in families_of(states.values())}
    assert "bad_value" not in names and "good_value" in names
    assert dict(names["mlcall_exporter_source_up"].samples) == {("good",): 1.0, ("bad",): 0.0}
    # the last success stays (a timestamp, not a value): the staleness rule needs it
    assert ("bad",) in dict(names["mlcall_exporter_last_success_timestamp_seconds"].samples)
    collector.close()


def test_reads_are_concurrent_bounded_by_the_timeout_and_cached_for_the_ttl():
    slow, fast = Slow("slow", delay=30), Slow("fast")
    collector = ExporterCollector([slow, fast], timeout=0.5, ttl=60)
    start = time.monotonic()
    states = by_name(collector.refresh())
    took = time.monotonic() - start
    assert 0.4 < took < 2.0, took
    assert states["fast"].up and not states["slow"].up and "timeout" in states["slow"].error
    # a second scrape while the slow read is still running starts no second read of it
    states = by_name(collector.refresh())
    assert slow.calls == 1 and fast.calls == 1, "cached for the TTL, one read in flight per source"
    slow.release.set()  # the late answer lands in the cache for the next scrape
    deadline = time.monotonic() + 10
    while not by_name(collector.refresh())["slow"].up and time.monotonic() < deadline:
        time.sleep(0.05)
    assert by_name(collector.refresh())["slow"].up
    collector.close()


def test_ttl_expiry_reads_again():
    source = Slow("s")
    collector = ExporterCollector([source], timeout=1, ttl=0.2)
    collector.refresh()
    collector.refresh()
    assert source.calls == 1
    time.sleep(0.3)
    collector.refresh()
    assert source.calls == 2
    collector.close()


# ------------------------------------------------------------------ config
def test_exporter_table_and_flags(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('mlflow = "http://mlflow:5000"\n[exporter]\nttl = 30\nmodels = ["a"]\n'
                    '[[exporter.dvc]]\nrepo = "/srv/repo"\nrev = "main"\n')
    from oncall_tui.config import load
    from oncall_tui.exporter.main import parser

    settings = load({"config": str(path)}, env={})
    args = parser().parse_args(["--timeout", "3", "--dvc-repo", "/x/y@v1=fd"])
    config = exporter_config.load(settings, args)
    assert (config.ttl, config.timeout, config.models) == (30.0, 3.0, ("a",))
    assert config.dvc == (exporter_config.DvcRepo("/x/y", "v1", "fd"),)
    assert settings.mlflow_uri == "http://mlflow:5000"
    assert exporter_config.from_table({"dvc": [{"repo": "/srv/fraud-detector"}]}, settings).dvc[0].label == \
        "fraud-detector"
    with pytest.raises(ConfigError, match="unknown"):
        exporter_config.from_table({"tll": 3}, settings)
    with pytest.raises(ConfigError, match="positive"):
        exporter_config.from_table({"ttl": 0}, settings)


def test_cli_exporter_config_error_exits_2(tmp_path, capsys):
    from oncall_tui.cli import main

    path = tmp_path / "config.toml"
    path.write_text("[exporter]\nttl = -1\n")
    assert main(["exporter", "--config", str(path)]) == 2
    assert "ttl must be positive" in capsys.readouterr().err


# ------------------------------------------------------------------ rules and manifests
def promtool(*args):
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool not found; apt-get install --no-install-recommends prometheus", pytrace=False)
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60, check=False)


def test_exporter_rules_check_and_unit_tests_pass():
    proc = promtool("check", "rules", str(DEPLOY / "prometheus" / "mlcall-exporter.rules.yml"))
    assert proc.returncode == 0 and "SUCCESS: 2 rules found" in proc.stdout, proc.stdout + proc.stderr
    proc = promtool("test", "rules", str(DEPLOY / "prometheus" / "mlcall-exporter.test.yml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_exporter_rule_tests_catch_a_broken_down_rule(tmp_path):
    prom = DEPLOY / "prometheus"
    text = (prom / "mlcall-exporter.rules.yml").read_text()
    assert "(mlcall_exporter_source_up) == 0" in text
    (tmp_path / "mlcall-exporter.rules.yml").write_text(text.replace("(mlcall_exporter_source_up) == 0",
                                                                     "(mlcall_exporter_source_up) < 0"))
    shutil.copy(prom / "mlcall-exporter.test.yml", tmp_path)
    proc = promtool("test", "rules", str(tmp_path / "mlcall-exporter.test.yml"))
    assert proc.returncode != 0 and "MLMetricsExporterDown" in proc.stdout + proc.stderr


def test_exporter_manifests_read_jobs_only_and_match_the_scrape_config():
    docs = {d["kind"]: d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "mlcall-exporter.yaml").read_text())}
    assert set(docs) == {"ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment", "Service"}
    assert docs["Role"]["rules"] == [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list"]}]
    assert docs["RoleBinding"]["subjects"][0]["name"] == docs["ServiceAccount"]["metadata"]["name"]
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "mlcall-exporter"
    container = pod["containers"][0]
    assert container["args"][0] == "exporter"
    assert all("value" not in e or "TOKEN" not in e["name"] for e in container["env"])
    port = container["ports"][0]["containerPort"]
    assert docs["Service"]["spec"]["ports"][0]["port"] == port
    import tomllib

    config = tomllib.loads(docs["ConfigMap"]["data"]["config.toml"])
    exporter_config.from_table(config["exporter"], Settings())  # valid for the exporter
    assert config["exporter"]["listen"].endswith(f":{port}")
    assert config["exporter"]["timeout"] < 10
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "mlcall-exporter.scrape.yml").read_text())
    job = next(j for j in scrape if j["job_name"] == "mlcall-exporter")
    assert job["static_configs"][0]["targets"][0].endswith(f":{port}")
    rules = (DEPLOY / "prometheus" / "mlcall-exporter.rules.yml").read_text()
    assert 'up{job="mlcall-exporter"}' in rules
    assert next(j for j in scrape if j["job_name"] == "pushgateway")["honor_labels"] is True


def test_exporter_package_imports_no_ui_and_nothing_heavy_at_import():
    code = ("import sys, oncall_tui.exporter.main, oncall_tui.exporter.collector, oncall_tui.exporter.config\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'mlflow', 'dvc', 'kubernetes'}))")
    proc = subprocess.run([__import__("sys").executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_runbook_covers_the_exporter_alerts():
    from oncall_tui.runbook_lint import lint

    assert lint() == []
    text = Path(bundled("runbooks") / "exporter.md").read_text()
    assert "MLMetricsExporterDown" in text and "MLMetricsExporterStale" in text


def test_the_http_endpoint_serves_the_text_format_and_renders_only_when_something_changed():
    import httpx

    from oncall_tui.exporter.http import start_server

    source = Slow("s")
    clock = [1000.0]  # the TTL is passed by moving this clock, not by the machine's speed
    collector = ExporterCollector([source], timeout=2, ttl=5, clock=lambda: clock[0])
    server, _ = start_server(collector, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        first = httpx.get(url, timeout=10, trust_env=False)
        assert first.status_code == 200 and first.headers["content-type"].startswith("text/plain")
        assert 's_value{model="m"} 1.0' in first.text and 'mlcall_exporter_source_up{source="s"} 1.0' in first.text
        assert httpx.get(url, timeout=10, trust_env=False).text == first.text
        assert source.calls == 1
        clock[0] += 6  # past the TTL: read again, new value
        assert 's_value{model="m"} 2.0' in httpx.get(url, timeout=10, trust_env=False).text
        assert httpx.get(f"http://127.0.0.1:{server.server_port}/other", timeout=10, trust_env=False).status_code == 404
    finally:
        server.shutdown()
        collector.close()


def test_a_scrape_during_start_up_says_starting_at_once():
    source = Slow("s")
    source.prepare = lambda: source.release.wait(5)
    collector = ExporterCollector([source], timeout=2, ttl=60)
    warm = threading.Thread(target=collector.prepare)
    warm.start()
    deadline = time.monotonic() + 5
    while not collector._preparing.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    (state,) = collector.refresh()
    assert time.monotonic() - start < 0.5 and not state.up and state.error.startswith("starting")
    assert source.calls == 0
    source.release.set()
    warm.join(10)
    assert collector.refresh()[0].up
    collector.close()
