"""What changed before the alert, end to end: a real MLflow server (the alias moved by another client,
then by this tool), kmock (two ReplicaSet revisions with creation times) and a real Prometheus whose
drift series steps up ~30 s after the tool's move (the synthetic model service switches its drift on:
a gauge, so the step is sharp). Real time is compressed from "minutes" to ~30 s so the test stays short;
at the test's widths that is 1–2 sparkline columns (23 s each) and 3+ zoom columns (9 s each).
"""

from __future__ import annotations

import math
import secrets
import time
from functools import partial
from unittest import mock

import pytest
from rich.text import Text

from oncall_tui.actions.audit import AuditLog
from oncall_tui.actions.rollback import execute_registry_rollback, plan_registry_rollback
from oncall_tui.config import Settings
from oncall_tui.sources.registry import RegistrySource
from oncall_tui.stack import LocalStack
from oncall_tui.stack import model_service as ms
from oncall_tui.stack.processes import wait_until
from oncall_tui.stack.registry_seed import SeedModel, SeedVersion, seed_model
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.screens.rollback import RegistryRollbackScreen, RollbackChooser
from oncall_tui.ui.screens.zoom import ZoomScreen
from oncall_tui.ui.widgets.alert_detail import AlertDetail
from oncall_tui.ui.widgets.block_chart import AXIS
from oncall_tui.ui.widgets.change_marks import MARK
from oncall_tui.ui.widgets.signal_panel import SignalPanel
from oncall_tui.ui.widgets.sparkline import BLOCKS, colour
from tests.support import kube as k
from tests.support.ui import table_rows, wait_for

pytestmark = pytest.mark.integration
SIZE = (200, 50)
GAP = 30.0  # seconds between the tool's alias move and the drift step
FEATURE = "account_age"


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory, mlflow_stack):
    """The registry history first (another client, then this tool), then Prometheus and the model
    service; the drift switched on GAP seconds after the tool's move; yields once the alert is pending."""
    from mlflow.tracking import MlflowClient

    model = f"changes-{secrets.token_hex(3)}"
    uri = mlflow_stack.mlflow_uri
    workdir = tmp_path_factory.mktemp("changes")
    spec = ms.ModelSpec(model, (FEATURE, "country"), 10.0)
    local = LocalStack(workdir / "stack", alertmanager_peers=0, fast=True)
    try:
        with mock.patch.object(ms, "ModelService", partial(ms.ModelService, (spec,))):
            local.start()  # first: the series has samples from before the alias moves
        seed_model(MlflowClient(uri), SeedModel(model, tuple(SeedVersion(d) for d in (9, 4, 1)), {"champion": 1}))
        MlflowClient(uri).set_registered_model_alias(model, "champion", "2")  # another client: nothing recorded
        audit = AuditLog(workdir / "audit.jsonl", "alice")
        source = RegistrySource(uri, timeout=10.0)
        plan = plan_registry_rollback(source, model, "champion")
        result = execute_registry_rollback(source, audit, plan, "3", "retrain")  # this tool: v2 → v3
        assert result.ok, result.message
        moved_at = time.time()
        wait_until(lambda: time.time() >= moved_at + GAP, timeout=GAP + 5, interval=0.5, what="the gap")
        local.model_service.set_incident(model, "drift", feature=FEATURE)
        stepped_at = time.time()
        local.wait_for_alert("DataDriftDetected", source="prometheus", labels={"model": model}, timeout=60)
        yield {"model": model, "uri": uri, "prometheus": local.prometheus_url, "audit": audit.path,
               "moved_at": moved_at, "stepped_at": stepped_at}
    finally:
        local.stop()


def cluster(kube, model: str, tmp_path) -> str:
    old, new = k.template("fraud:1.3"), k.template("fraud:1.4")
    dep = k.deployment(model, "ml", 2, new)
    kube.put(k.DEPLOYMENTS, dep)
    kube.put(k.REPLICASETS, k.replica_set(dep, 1, old, "aaa111", age=7200))
    kube.put(k.REPLICASETS, k.replica_set(dep, 2, new, "bbb222", age=600, replicas=3,
                                          annotations={"kubernetes.io/change-cause": "image 1.4"}))
    return str(kube.kubeconfig(tmp_path))


def lines(app) -> list[Text]:
    content = app.alerts_screen.query_one(SignalPanel).content
    return content.split("\n") if isinstance(content, Text) else []


def column(t: float, start: float, end: float, width: int) -> int:
    return min(width - 1, math.floor((t - start) / (end - start) * width))


async def test_changes_are_marked_listed_named_and_undone(scene, kube, tmp_path):
    model = scene["model"]
    settings = Settings(prometheus_url=scene["prometheus"], mlflow_uri=scene["uri"], kubeconfig=cluster(kube, model, tmp_path),
                        namespace="ml", refresh=2.0, timeout=8.0, audit_log=str(scene["audit"]), user="alice")
    app = MlcallApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *f"alertname=DataDriftDetected model={model}", "enter")
        await wait_for(pilot, lambda: len(table_rows(app)) == 1, timeout=60, what="the drift alert")
        panel = app.alerts_screen.query_one(SignalPanel)
        await wait_for(pilot, lambda: panel.view is not None and panel.view.signal is not None
                       and panel.changes is not None and any(ln.plain.startswith("changes") for ln in lines(app)),
                       timeout=60, what="the signal with its change marks")
        alert = app.alerts_screen.selected()[1]
        started = alert.starts_at.timestamp()
        assert scene["moved_at"] < scene["stepped_at"] <= started + 2

        # -- the marks sit in the columns of their times; the step comes after the alias move's mark ------
        rendered = lines(app)
        marks = next(ln.plain for ln in rendered if ln.plain.startswith("changes"))
        signal = next(ln for ln in rendered if ln.plain.startswith("signal"))
        title = 15
        chart = panel.view.signal
        width = len(marks) - title
        start, end = chart.result.start, chart.result.end
        move_col = column(scene["moved_at"], start, end, width)
        assert marks[title + move_col] == MARK or marks[title + move_col - 1] == MARK  # the move's time (±1 s)
        rollout_col = column(time.time() - 600, start, end, width)
        assert MARK in marks[title + rollout_col - 1: title + rollout_col + 2]  # revision 2, ten minutes ago
        error = colour("error", "red")
        cells = [(i, str(span.style)) for span in signal.spans for i in range(span.start, span.end)
                 if title <= i < title + width and signal.plain[i] in BLOCKS]
        breach = min(i for i, style in cells if style == error) - title
        # the drift began after the move: at 200 columns a column holds ~40 s of the 15 min window, more than
        # GAP, so the step may share the move's column; it never comes before it
        assert breach >= move_col, (breach, move_col, marks, signal.plain)
        assert all(style != error for i, style in cells if i - title < move_col)

        # -- the Changes list, newest first, relative to the alert's start ---------------------------------
        text = [ln.plain for ln in rendered]
        at = text.index(next(t for t in text if t.startswith("Changes")))
        listed = text[at + 1: at + 6]
        assert any("champion → v2" in t for t in listed), "\n".join(text)
        tool = next(i for i, t in enumerate(listed) if "champion v2 → v3 by alice: retrain" in t)
        other = next(i for i, t in enumerate(listed) if "champion → v2" in t)
        assert tool < other
        assert listed[tool].split()[1].startswith("−")  # before the alert's start
        assert "≥" in listed[other]  # moved by another client: only "at or after" is known
        assert "no changes from: DVC metrics commits, training Job" in " ".join(text), "\n".join(text)  # names first

        # -- the detail names the likely trigger: the tool's alias move -----------------------------------
        detail = app.alerts_screen.query_one(AlertDetail)
        await wait_for(pilot, lambda: detail.trigger is not None, what="the likely trigger")
        assert "likely trigger: champion v2 → v3 by alice," in detail.content.plain
        assert "before the alert" in detail.content.plain

        # -- the zoom view draws the same marks in its wider chart ------------------------------------------
        await pilot.press("z")
        await wait_for(pilot, lambda: isinstance(app.screen, ZoomScreen) and app.screen.view is not None,
                       what="the zoom view")
        body = app.screen.query_one("#zoom-body").content.plain.split("\n")
        row = next(ln for ln in body if ln.strip().startswith("changes"))
        zoom_width = len(row) - AXIS - 1
        zoom_col = column(scene["moved_at"], start, end, zoom_width)
        zoom = app.screen.view.signal
        zoom_col = column(scene["moved_at"], zoom.result.start, zoom.result.end, zoom_width)
        assert MARK in row[AXIS + 1 + zoom_col - 1: AXIS + 1 + zoom_col + 1]
        listed = body[body.index(next(ln for ln in body if ln.startswith("Changes"))):]
        order = [next(i for i, ln in enumerate(listed) if what in ln) for what in (
            "champion v2 → v3 by alice: retrain", "champion → v2", f"{model} revision 2 (fraud:1.4): image 1.4")]
        assert order == sorted(order), listed  # newest first: the tool's move, the other client's, the rollout
        assert any("DVC metrics commits: not configured · training Job completions: not configured" in ln
                   for ln in listed)
        await pilot.press("escape")

        # -- R: the chooser offers the registry kind first; its plan's default is the move's undo ----------
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, RollbackChooser), what="the chooser")
        assert app.screen.focused.id == "kind-registry"
        assert "likely trigger: champion v2 → v3" in app.screen.query_one("#rk-trigger").content.plain
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RegistryRollbackScreen) and app.screen.plan is not None,
                       timeout=30, what="the registry plan")
        plan = app.screen.plan
        assert (plan.current, plan.target) == ("3", "2"), plan
        assert "undoes the likely trigger: champion v2 → v3" in plan.target_why
        shown = app.screen.query_one("#rb-plan").content.plain
        assert "champion: v3 → v2" in shown and "default: its undo, champion back to v2" in shown


async def test_a_rollout_as_trigger_makes_its_undo_the_deployment_rollbacks_default(bare_am, kube, tmp_path):
    """Revisions 1 (2 days ago), 2 (10 min ago) and 3 (1 min ago, after the alert began, current): the
    trigger is revision 2, so the plan goes back to revision 1 — not to 2, the `rollout undo` default."""
    from datetime import datetime, timedelta, timezone

    from textual.widgets import Button

    from oncall_tui.ui.screens.deployment_rollback import DeploymentRollbackScreen
    from tests.support.ui import post_alerts

    name = f"fraud-{secrets.token_hex(3)}"
    v1, v2, v3 = k.template("fraud:1.3"), k.template("fraud:1.4"), k.template("fraud:1.5")
    dep = k.deployment(name, "ml", 3, v3, uid=f"uid-{name}")
    kube.put(k.DEPLOYMENTS, dep)
    kube.put(k.REPLICASETS, k.replica_set(dep, 1, v1, "aaa111", age=2 * 86400))
    kube.put(k.REPLICASETS, k.replica_set(dep, 2, v2, "bbb222", age=600,
                                          annotations={"kubernetes.io/change-cause": "release 1.4"}))
    kube.put(k.REPLICASETS, k.replica_set(dep, 3, v3, "ccc333", age=60, replicas=3))
    starts = datetime.now(timezone.utc) - timedelta(minutes=4)
    post_alerts(bare_am, [{"labels": {"alertname": "ModelInferenceLatenessHigh", "severity": "critical",
                                      "model": name, "namespace": "ml"}, "startsAt": starts.isoformat()}])
    settings = Settings(alertmanager_urls=(bare_am,), refresh=0.5, timeout=3.0, user="oncall-tester",
                        audit_log=str(tmp_path / "audit.jsonl"), kubeconfig=str(kube.kubeconfig(tmp_path)),
                        kube_context="kmock", namespace="ml")
    app = MlcallApp(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash")
        app.alerts_screen.query_one("#filter").value = f"model={name}"
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(table_rows(app)) == 1, what="the alert")
        detail = app.alerts_screen.query_one(AlertDetail)
        await wait_for(pilot, lambda: detail.trigger is not None, what="the likely trigger")
        assert f"likely trigger: {name} revision 2 (fraud:1.4), 6 min before the alert" in detail.content.plain
        assert "undo: ml/" + name + " back to revision 1" in detail.content.plain

        for _ in range(20):  # the access review runs after the panel loaded: the chooser says "checking…" until then
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, RollbackChooser), what="the chooser")
            if not app.screen.query_one("#kind-deployment", Button).disabled:
                break
            await pilot.press("escape")
            await pilot.pause(0.3)
        assert app.screen.focused.id == "kind-deployment"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DeploymentRollbackScreen) and app.screen.plan is not None
                       and app.screen.plan.dry_run, timeout=30, what="the deployment plan")
        plan = app.screen.plan
        assert (plan.current_revision, plan.target_revision) == (3, 1)
        shown = app.screen.query_one("#dr-plan").content.plain
        assert f"likely trigger: {name} revision 2 (fraud:1.4)" in shown and "revision 3 → 1" in shown
