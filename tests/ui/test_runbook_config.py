"""`config.*` in runbook steps comes from the app's own settings (the real app, `r` on an alert): every
value the app knows renders; one it does not know blocks its step, names the value and where to set it,
and nothing runs with a blank."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Markdown, OptionList, Static

from oncall_tui.config import Settings
from oncall_tui.runbooks import REQUIRED_SECTIONS
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.screens.runbook import RunbookScreen
from tests.support.fixed_alerts import FIXED_ALERTS, FixedAlertsSource
from tests.support.ui import wait_for

KEYS = ("prometheus_url", "alertmanager_url", "mlflow_uri", "namespace", "kube_context", "serving_alias")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for var in ("MLCALL_PROMETHEUS_URL", "MLCALL_ALERTMANAGER_URL", "MLFLOW_TRACKING_URI", "KUBECONFIG"):
        monkeypatch.delenv(var, raising=False)


def runbook_dir(tmp_path: Path) -> Path:
    """A runbook for the first fixed alert: step 1 prints every config value, step 2 needs only MLflow."""
    show = "import json, sys; print(json.dumps(sys.argv[1:]))"
    every = shlex.join([sys.executable, "-c", show]) + " " + " ".join(f"{{{{ config.{k} }}}}" for k in KEYS)
    health = shlex.join([sys.executable, "-c", "print('health')"]) + " '{{ config.mlflow_uri }}/health'"
    sections = "\n".join(f"## {s}\n\ntext\n" for s in REQUIRED_SECTIONS if s != "Diagnosis")
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "latency.md").write_text(
        "---\nalerts: [ModelInferenceLatenessHigh]\nseverity: critical\nowner: t\nlast_reviewed: 2026-12-01\n---\n"
        f"# Latency\n\n## Diagnosis\n\n```sh run\n{every}\n```\n\n```sh run\n{health}\n```\n\n{sections}",
        encoding="utf-8")
    return folder


def kubeconfig(tmp_path: Path, context: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "current-context": context,
                                "clusters": [], "users": [], "contexts": []}), encoding="utf-8")
    return path


def app_with(tmp_path: Path, **kw) -> MlcallApp:
    settings = Settings(prometheus_url="http://prometheus.monitoring:9090/", mlflow_uri="http://mlflow.ml:5000",
                        alertmanager_urls=("http://am-1.monitoring:9093", "http://am-2.monitoring:9093"),
                        namespace="ml-prod", serving_alias="production", runbook_dirs=(str(runbook_dir(tmp_path)),),
                        kubeconfig=str(kubeconfig(tmp_path, "prod-eu-1")), audit_log=str(tmp_path / "audit.jsonl"),
                        refresh=300.0, timeout=5.0)
    return MlcallApp(replace(settings, **kw), prometheus=FixedAlertsSource(FIXED_ALERTS[:1]))


async def open_runbook(app, pilot) -> RunbookScreen:
    await wait_for(pilot, lambda: app.alerts_screen.table.row_count > 0, what="the alert")
    await pilot.press("r")
    await wait_for(pilot, lambda: isinstance(app.screen, RunbookScreen), what="the runbook")
    await pilot.pause()
    return app.screen


def step_lines(screen) -> list[str]:
    steps = screen.query_one("#rb-steps", OptionList)
    return [str(steps.get_option_at_index(i).prompt) for i in range(steps.option_count)]


async def test_every_config_value_renders_from_the_apps_settings(tmp_path, monkeypatch):
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runbook(app, pilot)
        expected = ["http://prometheus.monitoring:9090", "http://am-1.monitoring:9093", "http://mlflow.ml:5000",
                    "ml-prod", "prod-eu-1", "production"]  # kube context: the kubeconfig's current-context
        assert screen.views[0].argv[-len(KEYS):] == tuple(expected)
        assert screen.views[1].argv[-1] == "http://mlflow.ml:5000/health"
        detail = str(screen.query_one("#rb-step-detail", Static).render())
        assert all(value in detail for value in expected)
        doc = screen.query_one("#rb-doc", Markdown).source
        assert "http://mlflow.ml:5000/health" in doc and "<missing" not in doc
        await pilot.press("enter")  # the confirmation shows the argv; run it and read what it got
        await pilot.pause()
        await pilot.press("tab", "enter")
        output = await wait_for(pilot, lambda: screen.last_result and screen.last_result.output, what="the output")
        assert json.loads(output.splitlines()[-1]) == expected


async def test_a_blank_value_blocks_its_step_names_it_and_runs_nothing(tmp_path, monkeypatch):
    started: list[tuple] = []
    real = asyncio.create_subprocess_exec

    async def spy(*args, **kwargs):
        started.append(args)
        return await real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    app = app_with(tmp_path, mlflow_uri="", kube_context="   ")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_runbook(app, pilot)
        lines = step_lines(screen)
        assert all("✖" in line and "config.mlflow_uri" in line for line in lines)
        detail = str(screen.query_one("#rb-step-detail", Static).render())
        assert "blocked: config.mlflow_uri: no value: set it with --mlflow, MLFLOW_TRACKING_URI" in detail
        assert "<missing config.mlflow_uri>" in screen.query_one("#rb-doc", Markdown).source
        assert " /health" not in screen.query_one("#rb-doc", Markdown).source  # never a blank in its place
        for _ in range(2):
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is screen  # no confirmation dialog for a blocked step
            await pilot.press("n")
    assert started == []
