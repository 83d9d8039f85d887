"""The monitoring pack in deploy/: rules, Alertmanager routing, generated ConfigMaps, manifests.

Uses the real promtool and amtool (no server is started; each call takes milliseconds). A missing
binary fails the test with the install command: CI must not silently skip these checks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from oncall_tui import deploy_pack
from oncall_tui.resources import bundled

DEPLOY = bundled("deploy")
RULES = DEPLOY / "prometheus" / "ml-alerts.rules.yml"
RULE_TESTS = DEPLOY / "prometheus" / "ml-alerts.test.yml"
AM_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
ROUTING_TESTS = DEPLOY / "alertmanager" / "routing-tests.yml"
MODEL_SERVER = DEPLOY / "kubernetes" / "model-server-deployment.yaml"

INSTALL_HINT = "apt-get install --no-install-recommends prometheus prometheus-alertmanager"
FIVE_ALERTS = {
    "ModelInferenceLatenessHigh",
    "DataDriftDetected",
    "ModelStalenessHigh",
    "TrainingJobFailed",
    "ModelRegistryPushFailed",
}


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` not found on PATH; install it with: {INSTALL_HINT}", pytrace=False)
    return path


def _run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"$ {' '.join(proc.args)}\nexit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def _load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _rules() -> list[dict]:
    return [rule for group in _load(RULES)["groups"] for rule in group["rules"]]


ROUTING_CASES: list[dict] = _load(ROUTING_TESTS)


# ------------------------------------------------------------------ Prometheus rules


def test_rules_define_the_five_alerts_with_labels_the_tool_relies_on():
    rules = {rule["alert"]: rule for rule in _rules()}
    assert set(rules) == FIVE_ALERTS
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["labels"]["component"] in {"inference", "data", "model", "training", "registry"}, name
        assert {"summary", "runbook_url"} <= set(rule["annotations"]), name
        assert "for" in rule, f"{name}: without `for:` a single bad scrape pages someone"


def test_promtool_check_rules():
    proc = _run([_binary("promtool"), "check", "rules", str(RULES)])
    assert proc.returncode == 0, _explain(proc)
    assert "SUCCESS: 5 rules found" in proc.stdout, _explain(proc)


def test_promtool_test_rules():
    proc = _run([_binary("promtool"), "test", "rules", str(RULE_TESTS)])
    assert proc.returncode == 0, _explain(proc)


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    firing, quiet = set(), set()
    for case in _load(RULE_TESTS)["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert firing == FIVE_ALERTS
    assert quiet == FIVE_ALERTS


def test_promtool_test_rules_catches_a_broken_rule(tmp_path):
    # the unit tests are not vacuous: loosen one threshold and they must fail
    text = RULES.read_text(encoding="utf-8")
    assert "smirnov) > 0.15" in text
    (tmp_path / "ml-alerts.rules.yml").write_text(text.replace("smirnov) > 0.15", "smirnov) >= 0.15"))
    shutil.copy(RULE_TESTS, tmp_path / "ml-alerts.test.yml")
    proc = _run([_binary("promtool"), "test", "rules", str(tmp_path / "ml-alerts.test.yml")])
    assert proc.returncode != 0, _explain(proc)
    assert "DataDriftDetected" in proc.stdout + proc.stderr


# ------------------------------------------------------------------ Alertmanager config


def test_amtool_check_config():
    # The secret files under /etc/alertmanager/secrets need not exist: they are read at send time.
    proc = _run([_binary("amtool"), "check-config", str(AM_CONFIG)])
    assert proc.returncode == 0, _explain(proc)


@pytest.mark.parametrize("case", ROUTING_CASES, ids=[case["name"] for case in ROUTING_CASES])
def test_routing(case):
    labels = [f"{key}={value}" for key, value in case["labels"].items()]
    argv = [
        _binary("amtool"),
        "config",
        "routes",
        "test",
        f"--config.file={AM_CONFIG}",
        f"--verify.receivers={','.join(case['receivers'])}",
        *labels,
    ]
    proc = _run(argv)
    assert proc.returncode == 0, _explain(proc)
    assert proc.stdout.split()[0] == ",".join(case["receivers"]), _explain(proc)


def test_routing_verification_detects_a_wrong_receiver():
    argv = [
        _binary("amtool"),
        "config",
        "routes",
        "test",
        f"--config.file={AM_CONFIG}",
        "--verify.receivers=ml-on-call",
        "severity=critical",
        "component=data",
    ]
    proc = _run(argv)
    assert proc.returncode != 0, _explain(proc)


def test_routing_cases_cover_every_receiver_and_every_alert():
    config = _load(AM_CONFIG)
    defined = {receiver["name"] for receiver in config["receivers"]}
    used = {name for case in ROUTING_CASES for name in case["receivers"]}
    assert used == defined
    covered = {
        (c["labels"].get("alertname"), c["labels"].get("severity"), c["labels"].get("component"))
        for c in ROUTING_CASES
    }
    for rule in _rules():
        key = (rule["alert"], rule["labels"]["severity"], rule["labels"]["component"])
        assert key in covered, f"no routing case for {key}"


def _walk(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
            yield f"{path}.{key}", key, value
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


SECRET_FIELDS = {
    "slack_api_url",
    "api_url",
    "url",
    "routing_key",
    "service_key",
    "api_key",
    "token",
    "bot_token",
    "auth_password",
    "auth_secret",
    "password",
    "bearer_token",
    "credentials",
    "webhook_url",
}


def test_alertmanager_config_has_no_inline_secrets():
    config = _load(AM_CONFIG)
    files = []
    for where, key, value in _walk(config):
        assert key not in SECRET_FIELDS, f"{where}: inline secret field; use the *_file variant"
        if isinstance(value, str):
            assert "://" not in value, f"{where}: inline URL {value!r} (a webhook URL is a secret)"
        if isinstance(key, str) and key.endswith("_file"):
            files.append(value)
    assert files, "expected *_file secret references"
    assert all(path.startswith("/etc/alertmanager/secrets/") for path in files), files
    pagers = [r for r in config["receivers"] if r.get("pagerduty_configs")]
    assert pagers and all(pd["routing_key_file"] for r in pagers for pd in r["pagerduty_configs"])


def test_alertmanager_uses_matchers_not_deprecated_match():
    config = _load(AM_CONFIG)
    for where, key, _value in _walk(config):
        assert key not in {"match", "match_re", "source_match", "target_match", "source_match_re"}, where


def test_critical_chat_route_continues_to_the_pager_routes():
    routes = _load(AM_CONFIG)["route"]["routes"]
    assert routes[1]["receiver"] == "ml-critical-chat"
    assert routes[1]["matchers"] == ['severity="critical"']
    assert routes[1]["continue"] is True


def test_drills_are_routed_first_and_stop_there():
    """A drill alert (drill="true", `mlcall-tui drill`) must never fall through to the pager routes."""
    routes = _load(AM_CONFIG)["route"]["routes"]
    assert routes[0]["receiver"] == "ml-drills" and routes[0]["matchers"] == ['drill="true"']
    assert not routes[0].get("continue", False)


# Two firing alerts from different models in one group: Common* annotations are then empty, so
# the templates must range over .Alerts.
TEMPLATE_DATA = {
    "receiver": "ml-critical-chat",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "DataDriftDetected",
                "severity": "critical",
                "component": "data",
                "model": model,
                "feature": "amount",
            },
            "annotations": {
                "summary": f"Input feature amount of {model} drifted",
                "runbook_url": "https://runbooks.mlcall.invalid/data-drift.md",
            },
            "startsAt": "2026-01-01T03:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph",
            "fingerprint": f"{index:016x}",
        }
        for index, model in enumerate(["fraud-detector", "churn-predictor"])
    ],
    "groupLabels": {"component": "data", "severity": "critical"},
    "commonLabels": {
        "alertname": "DataDriftDetected",
        "severity": "critical",
        "component": "data",
        "feature": "amount",
    },
    "commonAnnotations": {"runbook_url": "https://runbooks.mlcall.invalid/data-drift.md"},
    "externalURL": "http://127.0.0.1:9093",
}


def _templated_fields() -> list[tuple[str, str, str]]:
    fields = []
    for receiver in _load(AM_CONFIG)["receivers"]:
        for kind in ("slack_configs", "pagerduty_configs"):
            for conf in receiver.get(kind, []):
                for field in ("title", "text", "description"):
                    if field in conf:
                        fields.append((receiver["name"], field, conf[field]))
    return fields


def test_receiver_templates_render(tmp_path):
    # amtool check-config does not parse these templates: a typo would only show at 3 a.m. as a
    # failed notification. Render each one with two firing alerts.
    (tmp_path / "none.tmpl").write_text("")
    data = tmp_path / "data.json"
    data.write_text(json.dumps(TEMPLATE_DATA))
    fields = _templated_fields()
    assert {field for _, field, _ in fields} == {"title", "text", "description"}
    rendered = {}
    for receiver, field, template in fields:
        proc = _run(
            [
                _binary("amtool"),
                "template",
                "render",
                f"--template.glob={tmp_path / 'none.tmpl'}",
                f"--template.data={data}",
                f"--template.text={template}",
            ]
        )
        assert proc.returncode == 0, f"{receiver}.{field}\n{_explain(proc)}"
        assert "<no value>" not in proc.stdout, f"{receiver}.{field}: {proc.stdout}"
        rendered[receiver, field] = proc.stdout
    assert rendered["ml-critical-chat", "title"].startswith("[FIRING:2] CRITICAL ML data")
    text = rendered["ml-critical-chat", "text"]
    assert "DataDriftDetected: Input feature amount of fraud-detector drifted" in text
    assert "DataDriftDetected: Input feature amount of churn-predictor drifted" in text
    assert "<https://runbooks.mlcall.invalid/data-drift.md|runbook>" in text
    assert rendered["ml-data-pager", "description"].startswith(
        "[2 firing] Input feature amount of fraud-detector"
    )


# ------------------------------------------------------------------ generated ConfigMaps


def test_committed_configmaps_match_a_fresh_render():
    rendered = deploy_pack.render_configmaps(DEPLOY)
    assert set(rendered) == {"prometheus-ml-rules.yaml", "prometheus-mlcall-exporter-rules.yaml",
                             "alertmanager-ml-config.yaml"}
    for filename, text in rendered.items():
        committed = (DEPLOY / "kubernetes" / filename).read_text(encoding="utf-8")
        assert committed == text, (
            f"deploy/kubernetes/{filename} is stale: run python -m oncall_tui.deploy_pack"
        )


@pytest.mark.parametrize(
    ("filename", "name", "key", "source"),
    [
        ("prometheus-ml-rules.yaml", "prometheus-ml-rules", "ml-alerts.yaml", RULES),
        ("alertmanager-ml-config.yaml", "alertmanager-ml-config", "alertmanager.yml", AM_CONFIG),
    ],
)
def test_configmap_embeds_its_source_verbatim_as_a_literal_block(filename, name, key, source):
    text = (DEPLOY / "kubernetes" / filename).read_text(encoding="utf-8")
    manifest = yaml.safe_load(text)
    assert manifest["apiVersion"] == "v1"
    assert manifest["kind"] == "ConfigMap"
    assert manifest["metadata"]["name"] == name
    assert manifest["metadata"]["namespace"] == "monitoring"
    assert manifest["data"] == {key: source.read_text(encoding="utf-8")}
    assert f"\n  {key}: |\n" in text
    # reads naturally: the first source line appears as itself, indented
    first_line = source.read_text(encoding="utf-8").splitlines()[0]
    assert f"\n    {first_line}\n" in text


def test_main_regenerates_and_check_detects_drift(tmp_path, capsys):
    pack = tmp_path / "deploy"
    shutil.copytree(DEPLOY, pack)
    assert deploy_pack.main(["--deploy-dir", str(pack), "--check"]) == 0

    rules = pack / "prometheus" / "ml-alerts.rules.yml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("for: 10m", "for: 15m"), encoding="utf-8")
    assert deploy_pack.main(["--deploy-dir", str(pack), "--check"]) == 1
    assert "prometheus-ml-rules.yaml" in capsys.readouterr().err

    assert deploy_pack.main(["--deploy-dir", str(pack)]) == 0
    assert "prometheus-ml-rules.yaml" in capsys.readouterr().out
    assert deploy_pack.main(["--deploy-dir", str(pack), "--check"]) == 0
    regenerated = yaml.safe_load((pack / "kubernetes" / "prometheus-ml-rules.yaml").read_text())
    assert "for: 15m" in regenerated["data"]["ml-alerts.yaml"]
    # the Alertmanager ConfigMap did not change, so it was not rewritten
    assert (pack / "kubernetes" / "alertmanager-ml-config.yaml").read_text() == (
        DEPLOY / "kubernetes" / "alertmanager-ml-config.yaml"
    ).read_text()


def test_trailing_whitespace_is_refused_rather_than_embedded_unreadably(tmp_path):
    pack = tmp_path / "deploy"
    shutil.copytree(DEPLOY, pack)
    config = pack / "alertmanager" / "alertmanager.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("resolve_timeout: 5m", "resolve_timeout: 5m  ")
    )
    with pytest.raises(ValueError, match=r"alertmanager\.yml:\d+: trailing whitespace"):
        deploy_pack.render_configmaps(pack)
    assert deploy_pack.main(["--deploy-dir", str(pack)]) == 2


def test_runs_as_a_module():
    proc = _run([sys.executable, "-m", "oncall_tui.deploy_pack", "--check"])
    assert proc.returncode == 0, _explain(proc)


# ------------------------------------------------------------------ example model server


def test_model_server_deployment_example():
    manifest = _load(MODEL_SERVER)
    assert (manifest["apiVersion"], manifest["kind"]) == ("apps/v1", "Deployment")
    labels = manifest["metadata"]["labels"]
    assert labels["model"] == manifest["metadata"]["name"]
    assert "app" in labels
    selector = manifest["spec"]["selector"]["matchLabels"]
    template_labels = manifest["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= template_labels.items()
    assert {"app", "model"} <= set(selector)
    assert manifest["spec"]["revisionHistoryLimit"] >= 2, "a rollback needs old ReplicaSets"
    for container in manifest["spec"]["template"]["spec"]["containers"]:
        assert container["livenessProbe"] and container["readinessProbe"], container["name"]
        for env in container.get("env", []):
            secretish = any(word in env["name"] for word in ("TOKEN", "PASSWORD", "SECRET", "KEY"))
            if secretish:
                assert "value" not in env and "secretKeyRef" in env["valueFrom"], env["name"]
            if "value" in env:
                assert "@" not in env["value"], f"{env['name']}: credentials in a URL"
