"""The Kubernetes Deployment of an alert's model, driven through the real app with Pilot: the official
`kubernetes` client talks real HTTP to kmock (tests/support/kube.py; no monkeypatching of the client),
alerts come from a real Alertmanager. Panel, diagnose (`d`), the deployment rollback (`R`) with its
permission check, dry run, resourceVersion precondition, 409, paused refusal, audit and rollout watch;
and the app without a reachable cluster."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from textual.widgets import Button, ProgressBar

from oncall_tui.config import Settings
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.screens.deployment_rollback import DeploymentRollbackScreen
from oncall_tui.ui.screens.diagnose import DiagnoseScreen
from oncall_tui.ui.screens.rollback import RollbackChooser
from tests.support.kube import (
    DEPLOYMENTS,
    EVENTS,
    PODS,
    REPLICASETS,
    TOKEN,
    KubeFake,
    deployment,
    event,
    header,
    pod,
    replica_set,
    template,
)
from tests.support.ui import plain, post_alerts, table_rows, wait_for

pytestmark = pytest.mark.integration
SIZE = (120, 40)
NS = "ml"
OSC52 = "\x1b]52;c;ZXZpbC1jbGlwYm9hcmQ=\x07"
OLD = template("registry.local/fraud:1.4.0", env={"MODEL_VERSION": "2"})
NEW = template("registry.local/fraud:1.5.0", env={"MODEL_VERSION": "3"}, args=["--workers", "4"])


def seed(kube: KubeFake, name: str, *, paused: bool = False) -> dict:
    """Revision 1 (old image) and 2 (current), three pods of revision 2: one OOMKilled, one crash-looping,
    warning events, the crash-looping pod's log with an OSC 52 clipboard write in it. Plus a ReplicaSet of
    another Deployment (no controller reference to this one) that must be ignored."""
    dep = deployment(name, NS, 2, NEW, paused=paused, uid=f"uid-{name}",
                     annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "fraud"})
    rs1 = replica_set(dep, 1, OLD, "aaa111", age=2 * 86400, annotations={"kubernetes.io/change-cause": "release 1.4.0"})
    rs2 = replica_set(dep, 2, NEW, "bbb222", replicas=3, age=3000)
    stranger = replica_set(dep, 9, OLD, "zzz999", owner_uid="someone-else")
    kube.put(DEPLOYMENTS, dep)
    for rs in (rs1, rs2, stranger):
        kube.put(REPLICASETS, rs)
    kube.put(PODS, pod(rs2, "oom01", restarts=5, last_reason="OOMKilled", node="node-a"))
    kube.put(PODS, pod(rs2, "crash2", restarts=7, waiting="CrashLoopBackOff", ready=False, last_reason="Error",
                       node="node-b"))
    kube.put(PODS, pod(rs2, "fine03", node="node-c"))
    crashing = f"{name}-bbb222-crash2"
    kube.put(EVENTS, event(NS, "Pod", crashing, "BackOff", "Back-off restarting failed container server", count=14))
    kube.put(EVENTS, event(NS, "Pod", f"{name}-bbb222-oom01", "OOMKilling", "Memory cgroup out of memory: Killed "
                                                                          "process 4242 (python)", count=3, age=400))
    kube.put(EVENTS, event(NS, "Deployment", name, "ScalingReplicaSet", "Scaled up", type_="Normal"))
    kube.put(EVENTS, event(NS, "Pod", "unrelated-pod", "Failed", "not ours", count=2))
    kube.api.logs[(NS, crashing)] = "".join(f"INFO request {i} served\n" for i in range(80)) + \
        f"ERROR model load failed {OSC52}clipboard-payload-end\nTraceback: MemoryError\n"
    return {"dep": dep, "rs1": rs1, "rs2": rs2, "crashing": crashing}


def new_name() -> str:
    return f"fraud-{uuid.uuid4().hex[:6]}"


def alert(model: str) -> dict:
    starts = datetime.now(timezone.utc) - timedelta(minutes=4)
    return {"labels": {"alertname": "ModelInferenceLatenessHigh", "severity": "critical", "component": "inference",
                       "model": model, "namespace": NS},
            "annotations": {"summary": f"p95 latency of {model} above 2 s"}, "startsAt": starts.isoformat()}


def settings(tmp_path: Path, kubeconfig: str = "", **kw) -> Settings:
    return Settings(refresh=0.5, timeout=3.0, user="oncall-tester", audit_log=str(tmp_path / "audit.jsonl"),
                    kubeconfig=kubeconfig or str(tmp_path / "no-such-kubeconfig"), kube_context="kmock" if kubeconfig
                    else "", **kw)


def panel_text(app) -> str:
    return plain(app.alerts_screen.query_one("#deployment-panel").content)


def text_of(screen, selector: str) -> str:
    return plain(screen.query_one(selector).content)


def audit_records(tmp_path: Path) -> list[dict]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def show_alert(app, pilot, model: str) -> None:
    """Filter the shared Alertmanager's alerts down to this test's one (the filter text pasted at once)."""
    await pilot.press("slash")
    app.alerts_screen.query_one("#filter").value = f"model={model}"
    await pilot.press("enter")
    await wait_for(pilot, lambda: [r for r in table_rows(app) if model in " ".join(r)] and len(table_rows(app)) == 1,
                   what="the alert, filtered")


async def open_deployment_rollback(app, pilot) -> DeploymentRollbackScreen:
    await pilot.press("R")
    await wait_for(pilot, lambda: isinstance(app.screen, RollbackChooser), what="the rollback chooser")
    button = app.screen.query_one("#kind-deployment", Button)
    assert not button.disabled
    button.press()
    await wait_for(pilot, lambda: isinstance(app.screen, DeploymentRollbackScreen), what="the deployment dialog")
    screen = app.screen
    await wait_for(pilot, lambda: screen.plan is not None or "✖" in text_of(screen, "#dr-status"), what="the plan")
    return screen


async def confirm(pilot, screen, name: str, *, fresh: bool = True) -> None:
    go = screen.query_one("#dr-go", Button)
    assert go.disabled
    if fresh:
        assert screen.app.focused.id == "dr-cancel"  # opens with Cancel focused, nothing armed
    await pilot.pause()  # the dialog's layout settles once the plan is in
    screen.query_one("#dr-confirm").focus()
    await pilot.press(*name[:-1])
    assert go.disabled  # a partial name does not arm it
    await pilot.press(name[-1])
    await wait_for(pilot, lambda: not go.disabled, what="Roll back armed by the typed name")
    await pilot.pause()
    await pilot.click("#dr-go")


async def test_panel_lists_pods_with_restarts_oomkilled_and_crashloop(bare_am, kube, tmp_path):
    name = new_name()
    seed(kube, name)
    post_alerts(bare_am, [alert(name)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        text = await wait_for(pilot, lambda: "R roll back" in panel_text(app) and panel_text(app), what="the panel")
        assert f"{NS}/{name}" in text and "(kmock)" in text
        assert "replicas 3 desired · 3 updated · 2 ready · 2 available" in text
        assert f"revision 2 · rs {name}-bbb222 · 50m old" in text
        assert "image registry.local/fraud:1.5.0" in text
        assert "pods (3)" in text
        lines = text.splitlines()
        crash = next(i for i, line in enumerate(lines) if line.startswith("bbb222-crash2"))
        assert "Running not ready ↻7 @node-b" in lines[crash]
        assert lines[crash + 1].strip() == "CrashLoopBackOff · last Error (137) 1m ago"  # the state and its cause
        oom = next(i for i, line in enumerate(lines) if line.startswith("bbb222-oom01"))
        assert "↻5 @node-a" in lines[oom] and lines[oom + 1].strip() == "last OOMKilled (137) 1m ago"
        assert "bbb222-fine03 Running ↻0 @node-c" in text
        assert "zzz999" not in text  # a ReplicaSet another Deployment controls is not ours
        # the permission check ran before the action is offered (SelfSubjectAccessReviews)
        reviews = [json.loads(r.body) for r in kube.requests("POST", "selfsubjectaccessreviews")]
        asked = {(r["spec"]["resourceAttributes"]["verb"], r["spec"]["resourceAttributes"]["resource"]) for r in reviews}
        assert asked == {("get", "deployments"), ("patch", "deployments"), ("list", "replicasets")}
        assert all(header(r, "Authorization") == f"Bearer {TOKEN}" for r in kube.requests())
        assert TOKEN not in text


async def test_diagnose_shows_findings_events_and_a_sanitized_log_tail_and_saves_markdown(bare_am, kube, tmp_path):
    name = new_name()
    seeded = seed(kube, name)
    post_alerts(bare_am, [alert(name)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnoseScreen), what="the diagnose screen")
        screen = app.screen
        await wait_for(pilot, lambda: screen.result is not None, what="the checks")
        assert screen.query_one("#dg-progress", ProgressBar).percentage == 1.0
        checks = text_of(screen, "#dg-checks")
        assert "✔ pods" in checks and "✔ events" in checks and "✔ logs" in checks
        assert "– promql" in checks and "– registry" in checks  # not configured here: skipped, and said so
        findings = text_of(screen, "#dg-findings")
        titles = [f.title for f in screen.result.findings]
        severities = [f.severity for f in screen.result.findings]
        assert severities == sorted(severities, key=["critical", "warning", "info", "ok"].index)  # by severity
        assert f"{seeded['crashing']}: CrashLoopBackOff · last Error (exit 137) 1 min ago (7 restarts) on node-b" in titles
        assert any(t.startswith(f"{name}-bbb222-oom01 was OOMKilled (exit 137)") and "5 restarts" in t for t in titles)
        assert "2/3 replicas available" in titles
        # warning events of the Deployment's pods: reason, message, count, age; Normal and others' events left out
        assert f"BackOff on Pod/{seeded['crashing']} ×14, 1 min ago" in findings
        assert "OOMKilling on Pod/" in findings and "Memory cgroup out of memory" in findings and "×3" in findings
        assert "ScalingReplicaSet" not in findings and "unrelated-pod" not in findings
        # the log tail of the worst pod: bounded on the server, the previous (crashed) instance, OSC 52 gone
        log = text_of(screen, "#dg-log")
        assert f"{seeded['crashing']}/server (previous instance)" in log
        assert "ERROR model load failed clipboard-payload-end" in log and "Traceback: MemoryError" in log
        assert "\x1b" not in log and "\x07" not in log and "ZXZpbC1jbGlwYm9hcmQ=" not in log
        assert "INFO request 31 served" not in log and "INFO request 32 served" in log  # the last 50 lines
        (request,) = kube.requests("GET", "/log")
        assert request.params["tailLines"] == "50" and request.params["limitBytes"] == str(64 * 1024)
        assert request.params["previous"] == "true" and request.params["container"] == "server"
        assert any("2 error lines" in t for t in titles)
        # w: Markdown for the incident notes, and where it went
        await pilot.press("w")
        saved = await wait_for(pilot, lambda: screen.saved, what="the report")
        assert str(saved) in text_of(screen, "#dg-saved") and saved.parent == tmp_path / "reports"
        report = saved.read_text()
        assert report.startswith("# Diagnosis: ModelInferenceLatenessHigh")
        assert "**CRITICAL** [pods]" in report and "CrashLoopBackOff" in report
        assert "| BackOff | 14 |" in report and "ERROR model load failed clipboard-payload-end" in report
        assert "\x1b" not in report and "ZXZpbC1jbGlwYm9hcmQ=" not in report and TOKEN not in report
        await pilot.press("escape")
        assert app.screen is app.alerts_screen


async def test_rollback_patches_the_template_to_the_previous_replica_set_with_the_precondition(bare_am, kube, tmp_path):
    name = new_name()
    seeded = seed(kube, name)
    post_alerts(bare_am, [alert(name)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        await wait_for(pilot, lambda: "R roll back" in panel_text(app), what="the rollback offered")
        before = kube.get(DEPLOYMENTS, NS, name)
        screen = await open_deployment_rollback(app, pilot)
        plan = text_of(screen, "#dr-plan")
        assert f"resourceVersion {before['metadata']['resourceVersion']} (precondition)" in plan
        assert f"revision 2 → 1  (ReplicaSet {name}-aaa111; pinned" in plan
        # the server-side dry run, shown as a diff of images/env/args; it stored nothing
        assert "server-side dry run (dryRun=All): accepted" in plan
        assert "server image  registry.local/fraud:1.5.0 → registry.local/fraud:1.4.0" in plan
        assert "server env MODEL_VERSION  3 → 2" in plan and "server args  --workers 4 → (none)" in plan
        (dry,) = kube.requests("PATCH")
        assert dry.params.get("dryRun") == "All" and len(kube.history(DEPLOYMENTS, NS, name)) == 1
        assert screen.query_one("#dr-reason").value == "alert ModelInferenceLatenessHigh"
        await confirm(pilot, screen, name)
        status = await wait_for(pilot, lambda: screen.result is not None and text_of(screen, "#dr-status"),
                                what="the result")
        assert f"✔ deployment {NS}/{name} rolled back from revision 2 to 1" in status

        # what kmock received: one JSON Patch carrying the plan's resourceVersion as the precondition
        patches = kube.requests("PATCH")
        assert len(patches) == 2 and "dryRun" not in patches[1].params
        assert header(patches[1], "Content-Type") == "application/json-patch+json"
        ops = patches[1].data
        assert ops[0] == {"op": "replace", "path": "/metadata/resourceVersion",
                          "value": before["metadata"]["resourceVersion"]}
        audit_id = screen.result.audit_id
        assert header(patches[1], "X-Mlcall-Audit-Id") == audit_id
        # what kmock holds: the previous ReplicaSet's template without pod-template-hash, kubectl's annotations
        after = kube.get(DEPLOYMENTS, NS, name)
        assert after["spec"]["template"] == OLD
        assert "pod-template-hash" not in after["spec"]["template"]["metadata"]["labels"]
        assert seeded["rs1"]["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == "aaa111"
        annotations = after["metadata"]["annotations"]
        assert annotations["deployment.kubernetes.io/revision"] == "2"  # the Deployment's own, kept
        assert annotations["kubectl.kubernetes.io/last-applied-configuration"] == "{}"
        assert "team" not in annotations  # the rest comes from the ReplicaSet, as kubectl does
        cause = annotations["kubernetes.io/change-cause"]
        assert f"audit {audit_id}" in cause and "alert ModelInferenceLatenessHigh" in cause and "oncall-tester" in cause
        assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]
        # audit: intent before, result after
        intent, result = audit_records(tmp_path)[-2:]
        assert intent["phase"] == "intent" and intent["action"] == "deployment.rollback" and intent["id"] == audit_id
        assert intent["target"] == {"system": "kubernetes", "context": "kmock", "server": kube.url, "namespace": NS,
                                    "kind": "Deployment", "name": name}
        assert intent["before"] == {"resourceVersion": before["metadata"]["resourceVersion"], "revision": 2}
        assert intent["planned"] == {"revision": 1, "replicaSet": f"{name}-aaa111"}
        assert result["phase"] == "result" and result["result"] == "ok" and result["id"] == audit_id
        assert result["after"]["resourceVersion"] == after["metadata"]["resourceVersion"]
        assert TOKEN not in (tmp_path / "audit.jsonl").read_text()

        # the rollout watch: a progress bar fed as the (test-played) controller moves
        bar = screen.query_one("#dr-progress", ProgressBar)
        kube.set_status(NS, name, observedGeneration=8, replicas=4, updatedReplicas=1, readyReplicas=2,
                        availableReplicas=2)
        await wait_for(pilot, lambda: "1 of 3 new replicas have been updated" in text_of(screen, "#dr-rollout"),
                       what="rollout progress")
        assert bar.total == 3 and bar.progress == 1
        # it goes on in the background once the dialog is closed; the panel shows it
        await pilot.pause()
        await pilot.click("#dr-cancel")
        assert app.screen is app.alerts_screen
        kube.set_status(NS, name, observedGeneration=8, replicas=3, updatedReplicas=3, readyReplicas=3,
                        availableReplicas=3)
        text = await wait_for(pilot, lambda: "successfully rolled out" in panel_text(app) and panel_text(app),
                              what="the rollout finished, in the panel")
        assert "rollout ████████████ 3/3 updated" in text and "image registry.local/fraud:1.4.0" in text


async def test_a_409_is_shown_the_plan_re_read_and_nothing_recorded_as_ok(bare_am, kube, tmp_path):
    name = new_name()
    seed(kube, name)
    post_alerts(bare_am, [alert(name)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        await wait_for(pilot, lambda: "R roll back" in panel_text(app), what="the rollback offered")
        screen = await open_deployment_rollback(app, pilot)
        planned_rv = screen.plan.resource_version
        # someone changes the Deployment between the plan and the confirmation
        kube.set_status(NS, name, observedGeneration=7, readyReplicas=1)
        changed_rv = kube.get(DEPLOYMENTS, NS, name)["metadata"]["resourceVersion"]
        assert changed_rv != planned_rv
        await confirm(pilot, screen, name)
        await wait_for(pilot, lambda: screen.result is not None and screen.plan is not None
                       and screen.plan.resource_version == changed_rv, what="the 409 and the plan re-read")
        status = text_of(screen, "#dr-status")
        assert "409 Conflict" in status and "nothing was changed" in status and "confirm again" in status
        assert f"resourceVersion {changed_rv} (precondition)" in text_of(screen, "#dr-plan")  # re-read, same target
        assert "revision 2 → 1" in text_of(screen, "#dr-plan")
        assert screen.query_one("#dr-confirm").value == "" and screen.query_one("#dr-go", Button).disabled
        real = [r for r in kube.requests("PATCH") if "dryRun" not in r.params]
        assert len(real) == 1  # sent once, never retried
        assert kube.get(DEPLOYMENTS, NS, name)["spec"]["template"] == NEW  # unchanged
        records = audit_records(tmp_path)
        assert [r["phase"] for r in records] == ["intent", "result"]
        assert records[1]["result"] == "failed" and "409" in records[1]["error"]
        assert not any(r.get("result") == "ok" for r in records)

        # confirmed again on the re-read plan: applied once; then the rollout misses its progress deadline
        await confirm(pilot, screen, name, fresh=False)
        await wait_for(pilot, lambda: screen.result.ok, what="the second confirmation applied")
        assert kube.get(DEPLOYMENTS, NS, name)["spec"]["template"] == OLD
        assert [r["result"] for r in audit_records(tmp_path) if r["phase"] == "result"] == ["failed", "ok"]
        kube.set_status(NS, name, observedGeneration=8, replicas=4, updatedReplicas=1, readyReplicas=2,
                        availableReplicas=2, conditions=[{"type": "Progressing", "status": "False",
                                                          "reason": "ProgressDeadlineExceeded",
                                                          "message": f'ReplicaSet "{name}-ccc333" has timed out progressing.'}])
        rollout = await wait_for(pilot, lambda: "✖" in text_of(screen, "#dr-rollout") and text_of(screen, "#dr-rollout"),
                                 what="the progress deadline reported")
        assert "exceeded its progress deadline" in rollout and "has timed out progressing" in rollout
        await pilot.pause()
        await pilot.click("#dr-cancel")
        text = await wait_for(pilot, lambda: "✖ ProgressDeadlineExceeded" in panel_text(app) and panel_text(app),
                              what="the failed rollout in the panel")
        assert "exceeded its progress deadline" in text


async def test_an_ssar_deny_hides_the_rollback_and_says_why(bare_am, kube, tmp_path):
    name = new_name()
    seed(kube, name)
    kube.api.deny = {("patch", "deployments")}
    post_alerts(bare_am, [alert(name)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        text = await wait_for(pilot, lambda: "R rollback unavailable" in panel_text(app) and panel_text(app),
                              what="the denial in the panel")
        assert f"not permitted: you cannot patch deployments.apps in {NS} (RBAC: access denied)" in text
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, RollbackChooser), what="the chooser")
        button = app.screen.query_one("#kind-deployment", Button)
        assert button.disabled and "not permitted: you cannot patch deployments.apps" in plain(button.label)
        assert app.screen.query_one("#kind-both", Button).disabled
        await pilot.press("escape")
    assert kube.requests("PATCH") == [] and audit_records(tmp_path) == []


async def test_a_paused_deployment_is_refused(bare_am, kube, tmp_path):
    name = new_name()
    seed(kube, name, paused=True)
    post_alerts(bare_am, [alert(name)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        await wait_for(pilot, lambda: "PAUSED" in panel_text(app) and "R roll back" in panel_text(app),
                       what="the paused Deployment")
        screen = await open_deployment_rollback(app, pilot)
        assert f"✖ {NS}/{name} is paused: resume it before rolling back" in text_of(screen, "#dr-status")
        assert screen.plan is None and screen.query_one("#dr-go", Button).disabled
    assert kube.requests("PATCH") == [] and audit_records(tmp_path) == []


async def test_read_only_has_no_rollback_and_says_so(bare_am, kube, tmp_path):
    name = new_name()
    seed(kube, name)
    post_alerts(bare_am, [alert(name)])
    app = MlcallApp(settings(tmp_path, str(kube.kubeconfig(tmp_path)), alertmanager_urls=(bare_am,), read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        text = await wait_for(pilot, lambda: "OOMKilled" in panel_text(app) and panel_text(app), what="the panel")
        assert "read-only: rollback disabled" in text and "d diagnose" in text
        assert "R" not in app.alerts_screen.active_bindings
        await pilot.press("R")
        assert app.screen is app.alerts_screen
    assert kube.requests("POST", "selfsubjectaccessreviews") == [] and kube.requests("PATCH") == []


async def test_without_a_cluster_the_panel_says_so_and_everything_else_works(bare_am, kube, tmp_path):
    name = new_name()
    post_alerts(bare_am, [alert(name)])
    # not configured: quietly said, no error
    app = MlcallApp(settings(tmp_path, alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        text = await wait_for(pilot, lambda: "not configured" in panel_text(app) and panel_text(app), what="quiet panel")
        assert "✖" not in text and app.alerts_screen.query_one("#deployment-panel").has_class("-quiet")
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, RollbackChooser), what="the chooser")
        assert "no Kubernetes cluster configured" in plain(app.screen.query_one("#kind-deployment", Button).label)
        await pilot.press("escape")
    # configured but unreachable (a closed port): the panel says why; the alerts, filter and diagnose work
    closed = kube.kubeconfig(tmp_path, server="http://127.0.0.1:9")
    app = MlcallApp(settings(tmp_path, str(closed), alertmanager_urls=(bare_am,)))
    async with app.run_test(size=SIZE) as pilot:
        await show_alert(app, pilot, name)
        text = await wait_for(pilot, lambda: "unreachable" in panel_text(app) and panel_text(app), what="unreachable")
        assert "✖ cluster unreachable" in text and "cannot connect to kmock (http://127.0.0.1:9)" in text
        assert [r[1].strip() for r in table_rows(app)] == ["ModelInferenceLatenessHigh"]
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DiagnoseScreen) and app.screen.result is not None,
                       what="diagnose without a cluster")
        checks = text_of(app.screen, "#dg-checks")
        assert "✖ pods" in checks and "– events" in checks
        assert "pods and restarts: unreachable" in text_of(app.screen, "#dg-findings")
        await pilot.press("escape")
        await pilot.press("escape")  # clears the filter
        await wait_for(pilot, lambda: len(table_rows(app)) >= 1, what="the alerts still listed")

