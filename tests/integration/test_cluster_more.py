"""More of the Kubernetes feature: diagnose with the live PromQL checks (real Prometheus) and the registry
facts (real MLflow); the Deployment rollback's "both" (the registry alias and the Deployment, against a real MLflow
server and kmock: one plan, one confirmation, two audited steps, the second not started when the first
fails), a dry run refused by admission, and a template that already matches (skipped, as kubectl does)."""

from __future__ import annotations

import uuid

import pytest
from textual.widgets import Button

from oncall_tui.actions import k8s_rollback as kr
from oncall_tui.models import thaw
from oncall_tui.sources.cluster import ClusterSource
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.screens.diagnose import DiagnoseScreen
from oncall_tui.ui.screens.rollback import RollbackChooser
from tests.integration.test_cluster import (
    NEW,
    NS,
    OLD,
    SIZE,
    alert,
    audit_records,
    confirm,
    new_name,
    open_deployment_rollback,
    panel_text,
    seed,
    settings,
    show_alert,
    text_of,
)
from tests.support.kube import DEPLOYMENTS, PODS, REPLICASETS, pod, replica_set
from tests.support.ui import post_alerts, table_rows, wait_for

pytestmark = pytest.mark.integration


def new_model(uri: str) -> str:
    from mlflow.tracking import MlflowClient

    from oncall_tui.stack.registry_seed import SeedModel, SeedVersion, seed_model

    name = f"fraud-{uuid.uuid4().hex[:6]}"
    seed_model(MlflowClient(tracking_uri=uri, registry_uri=uri), SeedModel(name, (
        SeedVersion(30, {"val_accuracy": 0.912}), SeedVersion(16, {"val_accuracy": 0.934}),
        SeedVersion(2, {"val_accuracy": 0.941})), {"champion": 3}))
    return name


def champion(uri: str, model: str) -> str:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri).get_registered_model(model).aliases.get("champion")


async def test_a_crash_loop_after_an_oom_kill_shows_both_in_the_panel_and_in_diagnose(bare_am, kube, tmp_path):
    """The most common state of an out-of-memory model server: waiting in CrashLoopBackOff, and the cause
    is in lastState.terminated (OOMKilled, 137). Both, with the age, in the panel and in diagnose."""
    name = new_name()
    seeded = seed(kube, name)
    looping = pod(seeded["rs2"], "oomloop", restarts=12, waiting="CrashLoopBackOff", ready=False,
                  last_reason="OOMKilled", node="node-d")  # lastState.terminated: OOMKilled, exit 137, 60 s ago
    kube.put(PODS, looping)
    post_alerts(bare_am, [alert(name)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        text = await wait_for(pilot, lambda: "oomloop" in panel_text(app) and panel_text(app), what="the panel")
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("bbb222-oomloop"))
        assert "Running not ready ↻12 @node-d" in lines[at]
        assert lines[at + 1].strip() == "CrashLoopBackOff · last OOMKilled (137) 1m ago"
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnoseScreen) and app.screen.result is not None,
                       what="the diagnosis")
        findings = text_of(app.screen, "#dg-findings")
        title = f"{name}-bbb222-oomloop: CrashLoopBackOff · last OOMKilled (exit 137) 1 min ago (12 restarts) on node-d"
        assert title in findings and "hit its memory limit" in findings
        await pilot.press("w")
        report = (await wait_for(pilot, lambda: app.screen.saved, what="the report")).read_text()
        assert "CrashLoopBackOff · last OOMKilled \\(exit 137\\) 1 min ago" in report


async def open_both(app, pilot):
    from oncall_tui.ui.screens.both_rollback import BothRollbackScreen

    await wait_for(pilot, lambda: "R roll back" in panel_text(app), what="the deployment rollback offered")
    await pilot.press("R")
    await wait_for(pilot, lambda: isinstance(app.screen, RollbackChooser), what="the chooser")
    both = app.screen.query_one("#kind-both", Button)
    assert not both.disabled
    both.press()
    await wait_for(pilot, lambda: isinstance(app.screen, BothRollbackScreen), what="the 'both' dialog")
    screen = app.screen
    await wait_for(pilot, lambda: "server-side dry run" in text_of(screen, "#dr-plan"), what="both plans")
    return screen


async def test_both_one_confirmation_two_audited_steps(bare_am, kube, mlflow_stack, tmp_path):
    uri = mlflow_stack.mlflow_uri
    model = new_model(uri)
    seed(kube, model)
    post_alerts(bare_am, [alert(model)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,), mlflow_uri=uri))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, model)
        screen = await open_both(app, pilot)
        plan = text_of(screen, "#dr-plan")
        assert "Step 1 · registry alias" in plan and "champion: v3 → v2" in plan
        assert "Step 2 · Deployment (not started if step 1 fails)" in plan and "revision 2 → 1" in plan
        await confirm(pilot, screen, model)  # one confirmation: the model name
        status = await wait_for(pilot, lambda: screen.done and text_of(screen, "#dr-status"), what="both steps")
        assert "✔ step 1:" in status and "moved from v3 to v2" in status and "✔ step 2:" in status
    assert champion(uri, model) == "2"
    assert kube.get(DEPLOYMENTS, NS, model)["spec"]["template"] == OLD
    records = audit_records(tmp_path)
    assert [(r["action"], r["phase"], r.get("result")) for r in records] == [
        ("registry.rollback", "intent", None), ("registry.rollback", "result", "ok"),
        ("deployment.rollback", "intent", None), ("deployment.rollback", "result", "ok")]
    assert len({r["id"] for r in records}) == 2


async def test_both_does_not_start_the_deployment_step_when_the_registry_step_fails(bare_am, kube, mlflow_stack,
                                                                                    tmp_path):
    from mlflow.tracking import MlflowClient

    uri = mlflow_stack.mlflow_uri
    model = new_model(uri)
    seed(kube, model)
    post_alerts(bare_am, [alert(model)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,), mlflow_uri=uri))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, model)
        screen = await open_both(app, pilot)
        MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(model, "champion", "1")
        await confirm(pilot, screen, model)
        status = await wait_for(pilot, lambda: screen.done and text_of(screen, "#dr-status"), what="step 1 result")
        assert "✖ step 1:" in status and "since the plan was made" in status
        assert "step 2 (deployment) not started" in status
    assert [r for r in kube.requests("PATCH") if "dryRun" not in r.params] == []
    assert kube.get(DEPLOYMENTS, NS, model)["spec"]["template"] == NEW
    records = audit_records(tmp_path)
    assert [(r["action"], r["phase"], r.get("result")) for r in records] == [
        ("registry.rollback", "intent", None), ("registry.rollback", "result", "failed")]


async def test_a_dry_run_refused_by_admission_is_shown_and_nothing_can_be_applied(bare_am, kube, tmp_path):
    name = new_name()
    seed(kube, name)
    kube.api.reject_dry_run = 'admission webhook "images.policy" denied the request: image is not signed'
    post_alerts(bare_am, [alert(name)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        await wait_for(pilot, lambda: "R roll back" in panel_text(app), what="the rollback offered")
        screen = await open_deployment_rollback(app, pilot)
        plan = text_of(screen, "#dr-plan")
        assert "✖ dry run: refused by the API server" in plan and "image is not signed" in plan
        await pilot.pause()
        screen.query_one("#dr-confirm").focus()
        await pilot.press(*name)
        await pilot.pause()
        assert screen.query_one("#dr-go", Button).disabled
    assert [r for r in kube.requests("PATCH") if "dryRun" not in r.params] == [] and audit_records(tmp_path) == []


def test_a_template_that_already_matches_is_skipped_and_the_target_ignores_the_hash(kube, tmp_path):
    """Sync: the blocking functions, as the worker threads call them (kmock runs in its own thread)."""
    name = new_name()
    seeded = seed(kube, name)
    source = ClusterSource(settings(tmp_path, str(kube.kubeconfig(tmp_path))))
    plan = kr.plan_rollback(source, NS, name)
    assert (plan.current_revision, plan.target_revision) == (2, 1)
    assert thaw(plan.target_template) == OLD  # pod-template-hash dropped
    # revision 3 now runs the old template again (someone else rolled back): the previous one is identical
    kube.put(REPLICASETS, replica_set(seeded["dep"], 3, NEW, "ccc333"))
    rolled = kube.get(DEPLOYMENTS, NS, name)
    rolled["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "3"
    del rolled["metadata"]["resourceVersion"]
    kube.put(DEPLOYMENTS, rolled)
    with pytest.raises(kr.PlanError, match="already runs the template of revision 2: nothing to roll back"):
        kr.plan_rollback(source, NS, name, to_revision=2)
    assert kube.requests("PATCH") == []


async def test_diagnose_adds_live_promql_checks_and_registry_facts(bare_am, stack, mlflow_stack, kube, tmp_path):
    seed(kube, "fraud-detector")  # the seeded registry model and the model service's metrics use this name
    tagged = alert("fraud-detector")
    tagged["labels"]["case"] = uuid.uuid4().hex[:6]
    post_alerts(bare_am, [tagged])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,),
                             prometheus_url=stack.prometheus_url, mlflow_uri=mlflow_stack.mlflow_uri))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash")
        app.alerts_screen.query_one("#filter").value = f"case={tagged['labels']['case']}"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(table_rows(app)) == 1, what="the alert, filtered")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnoseScreen) and app.screen.result is not None,
                       what="all checks")
        screen = app.screen
        checks = text_of(screen, "#dg-checks")
        assert all(f"✔ {check}" in checks for check in ("pods", "events", "logs", "promql", "registry")), checks
        by_check = {}
        for finding in screen.result.findings:
            by_check.setdefault(finding.check, []).append(finding.title)
        # the alert's own expression (its rule) and the model-health queries, evaluated now
        assert any(t.startswith("ModelInferenceLatenessHigh = ") for t in by_check["promql"]), by_check["promql"]
        assert any(t.startswith("p95 lat") for t in by_check["promql"]), by_check["promql"]
        assert any(t.startswith("champion → v3 (READY)") for t in by_check["registry"]), by_check["registry"]
        assert any("previous version: v2" in t for t in by_check["registry"])
        assert "[promql] ModelInferenceLatenessHigh = " in text_of(screen, "#dg-findings")
        await pilot.press("w")
        report = (await wait_for(pilot, lambda: screen.saved, what="the report")).read_text()
        assert "[registry] champion → v3" in report and "[promql] ModelInferenceLatenessHigh = " in report
