"""With `[[clusters]]`, the features beside the table use the alert's own cluster: runbook `config.*` values
and step gating, the incident timeline's Prometheus, "what changed" sources; and an unreachable cluster's
Alertmanager resolves none of its alerts while the others' alerts still resolve. No servers needed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from oncall_tui import config
from oncall_tui.models import Alert
from oncall_tui.ui.app import MlcallApp

FLEET = """
kube_context = "session-ctx"
[[clusters]]
name = "eu-prod"
alertmanager = "http://127.0.0.1:1/eu"
prometheus = "http://127.0.0.1:1/eu-prom"
mlflow = "http://127.0.0.1:1/eu-mlflow"
kube_context = "eu"

[[clusters]]
name = "us-dev"
alertmanager = "http://127.0.0.1:1/us"
prometheus = "http://127.0.0.1:1/us-prom"
read_only = true
"""


@pytest.fixture
def app(tmp_path, monkeypatch) -> MlcallApp:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = tmp_path / "config.toml"
    path.write_text(f'audit_log = "{tmp_path / "audit.jsonl"}"\n' + FLEET)
    return MlcallApp(config.load({"config": str(path)}, env={}))


def alert(cluster: str, fp: str = "") -> Alert:
    return Alert(fp or f"fp-{cluster}", {"alertname": "ModelLatencyHigh", "model": "churn"}, cluster=cluster)


def test_runbook_values_and_read_only_come_from_the_alerts_cluster(app):
    eu, us = app.runbooks.config(alert("eu-prod")), app.runbooks.config(alert("us-dev"))
    assert eu["prometheus_url"].endswith("/eu-prom") and eu["kube_context"] == "eu"
    assert eu["mlflow_uri"].endswith("/eu-mlflow")
    assert us["prometheus_url"].endswith("/us-prom") and us["kube_context"] == "session-ctx"
    assert app.runbooks.settings_of(alert("us-dev")).read_only and not app.runbooks.settings_of(alert("eu-prod")).read_only


def test_incident_timeline_asks_the_alerts_own_prometheus(app):
    assert app.incidents.settings_of(alert("us-dev")).prometheus_url.endswith("/us-prom")
    assert app.incidents.settings_of(alert("eu-prod")).prometheus_url.endswith("/eu-prom")


def test_changes_follow_the_highlighted_alerts_cluster(app):
    app._follow(alert("us-dev"))
    assert app.changes.settings.cluster == "us-dev" and app.cluster.settings.cluster == "us-dev"
    app._follow(alert("eu-prod"))
    assert app.changes.settings.cluster == "eu-prod" and app.changes.settings.kube_context == "eu"


def test_a_blind_cluster_resolves_none_of_its_alerts(app):
    t0 = datetime(2026, 12, 3, 3, 0, tzinfo=timezone.utc)
    eu, us = alert("eu-prod"), alert("us-dev")
    app.incidents.observe([eu, us], now=t0)
    app.incidents.observe([], blind={"us-dev"}, now=t0 + timedelta(seconds=30))
    assert app.incidents.tracked[eu.fingerprint].resolved_at == t0 + timedelta(seconds=30)
    assert app.incidents.tracked[us.fingerprint].resolved_at is None  # its Alertmanager did not answer


async def test_the_expanded_status_bar_keeps_one_row_per_cluster_on_a_narrow_terminal(app):
    from tests.support.ui import status_text, wait_for

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "0/2 clusters ok" in status_text(app), what="both clusters unreachable")
        await pilot.press("c")
        await wait_for(pilot, lambda: status_text(app).count("\n") == 2, what="one line per cluster")
        first, eu, us = status_text(app).splitlines()
        assert first.endswith("…") and len(first) <= 80  # cut at the edge, not wrapped over the clusters' lines
        assert eu.startswith("eu-prod") and "Alertmanager · unreachable" in eu
        assert us.startswith("us-dev") and len(us) <= 80
