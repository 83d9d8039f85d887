"""The MLflow registry against a real `mlflow server` (sqlite, --workers 1), driven through the real app:
the model panel, the models screen, and the registry rollback (plan → typed confirm → audit → re-read →
set → read back → history tag), plus the failures: alias moved concurrently, 403, unreachable, 404."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from textual.widgets import Button, DataTable, OptionList

from oncall_tui.actions.audit import AuditLog
from oncall_tui.actions.rollback import execute_registry_rollback, plan_registry_rollback
from oncall_tui.config import Settings
from oncall_tui.sources.registry import RegistrySource
from oncall_tui.stack.registry_seed import SeedModel, SeedVersion, seed_model
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.screens.rollback import RegistryRollbackScreen, RollbackChooser
from tests.support.ui import FakeServer, json_body, plain, post_alerts, table_rows, wait_for

pytestmark = pytest.mark.integration
SIZE = (120, 40)


def mlflow_client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def new_model(uri: str, prefix: str = "fraud") -> str:
    """A model of this test only: v1, v2, v3 READY with metrics, champion → v3."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    seed_model(mlflow_client(uri), SeedModel(name, (
        SeedVersion(30, {"val_accuracy": 0.912}),
        SeedVersion(16, {"val_accuracy": 0.934}, {"git_commit": "4c1d2e9"}),
        SeedVersion(2, {"val_accuracy": 0.941, "val_auc": 0.958}),
    ), {"champion": 3}))
    return name


def alert(name: str, model: str) -> dict:
    starts = datetime.now(timezone.utc) - timedelta(minutes=3)
    return {"labels": {"alertname": name, "severity": "critical", "component": "inference", "model": model},
            "annotations": {"summary": f"{name} on {model}"}, "startsAt": starts.isoformat()}


def settings(tmp_path: Path, **kw) -> Settings:
    kw.setdefault("timeout", 10.0)  # generous: other engineers' tests share the 2 cores
    return Settings(refresh=0.5, user="oncall-tester", audit_log=str(tmp_path / "audit.jsonl"), **kw)


def panel_text(app) -> str:
    return plain(app.alerts_screen.query_one("#model-panel").content)


async def wait_panel(pilot, app, needle: str, timeout: float = 60.0) -> str:
    """The model panel's text once it contains `needle` (the failure says what it showed instead)."""
    try:
        return await wait_for(pilot, lambda: needle in panel_text(app) and panel_text(app), timeout, what=needle)
    except AssertionError:
        raise AssertionError(f"the model panel never showed {needle!r}; it shows:\n{panel_text(app)}") from None


def status_of(screen) -> str:
    return plain(screen.query_one("#rb-status").content)


def plan_text(screen) -> str:
    return plain(screen.query_one("#rb-plan").content)


def champion(uri: str, model: str) -> str:
    return mlflow_client(uri).get_registered_model(model).aliases.get("champion")


def audit_records(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


async def open_registry_rollback(app, pilot) -> RegistryRollbackScreen:
    """`R` on the alerts screen, choose "registry", wait for the plan."""
    await pilot.press("R")
    await wait_for(pilot, lambda: isinstance(app.screen, RollbackChooser), what="the rollback chooser")
    assert app.focused.id == "kind-registry"
    assert app.screen.query_one("#kind-deployment", Button).disabled  # the extension point, not built here
    await pilot.press("enter")
    return await wait_for_plan(app, pilot)


async def wait_for_plan(app, pilot) -> RegistryRollbackScreen:
    await wait_for(pilot, lambda: isinstance(app.screen, RegistryRollbackScreen), what="the rollback dialog")
    screen = app.screen
    await wait_for(pilot, lambda: screen.plan is not None or "✖" in status_of(screen), what="the plan")
    return screen


async def confirm(pilot, screen, model: str, *, fresh: bool = True) -> str:
    """Type the model name and press Roll back; returns the final status line."""
    if fresh:
        assert screen.app.focused.id == "rb-cancel"  # Cancel is focused when the dialog opens
    go = screen.query_one("#rb-go", Button)
    assert go.disabled
    await pilot.click("#rb-confirm")
    await pilot.press(*model[:-1])
    assert go.disabled  # a partial name does not arm it
    await pilot.press(model[-1])
    if not screen.query_one("#rb-reason").value:  # opened without an alert: the reason is still required
        assert go.disabled
        await pilot.click("#rb-reason")
        await pilot.press(*"bad release")
    await wait_for(pilot, lambda: not go.disabled, what="Roll back enabled by the typed name")
    await pilot.click("#rb-go")
    return await wait_for(pilot, lambda: screen.result is not None and status_of(screen), what="the result")


async def test_panel_shows_the_serving_version_of_the_alerts_model(bare_am, mlflow_stack, tmp_path):
    model = new_model(mlflow_stack.mlflow_uri)
    missing = f"ghost-{uuid.uuid4().hex[:6]}"
    post_alerts(bare_am, [alert("ModelInferenceLatenessHigh", model), alert("DataDriftDetected", missing)])
    app = MlcallApp(settings(tmp_path, alertmanager_urls=(bare_am,), mlflow_uri=mlflow_stack.mlflow_uri))
    async with app.run_test(size=(170, 40)) as pilot:  # wide: every panel of the detail row side by side
        await wait_for(pilot, lambda: any(model in r[3] for r in table_rows(app)), what="the alert")
        await pilot.press("slash", *f"model={model}", "enter")
        await wait_for(pilot, lambda: len(table_rows(app)) == 1, what="filtered to the alert")
        text = await wait_panel(pilot, app, "champion → v3")
        assert model in text
        assert "previous v2" in text and "newest READY version older than v3" in text
        assert "val_accuracy 0.941" in text and "val_auc 0.958" in text
        assert "trained 2.0 d ago" in text and "staleness 2.0 d" in text
        assert "R roll back to v2" in text
        assert app.alerts_screen.query_one("#model-panel").region.width >= 40  # on screen, not folded away
        # a model the registry does not know: a clear line, and the screen keeps working
        app.alerts_screen.query_one("#filter").value = f"model={missing}"
        text = await wait_panel(pilot, app, "not in the MLflow registry")
        assert missing in text
        assert [r[1].strip() for r in table_rows(app)] == ["DataDriftDetected"]


async def test_rollback_undo_and_second_rollback_through_the_ui(bare_am, mlflow_stack, tmp_path):
    uri = mlflow_stack.mlflow_uri
    model = new_model(uri)
    post_alerts(bare_am, [alert("ModelInferenceLatenessHigh", model)])
    app = MlcallApp(settings(tmp_path, alertmanager_urls=(bare_am,), mlflow_uri=uri))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *f"model={model}", "enter")
        await wait_panel(pilot, app, "champion → v3")

        # 1. rollback: v3 → v2 (the newest older READY version)
        screen = await open_registry_rollback(app, pilot)
        assert "champion: v3 → v2" in plan_text(screen)
        assert screen.query_one("#rb-reason").value == "alert ModelInferenceLatenessHigh"
        status = await confirm(pilot, screen, model)
        assert "✔" in status and "moved from v3 to v2" in status
        assert champion(uri, model) == "2"
        assert mlflow_client(uri).get_model_version(model, "2").tags["mlcall.previous.champion"] == "3"
        intent, result = audit_records(tmp_path)[-2:]
        assert intent["phase"] == "intent" and intent["action"] == "registry.rollback"
        assert intent["before"] == {"alias": "champion", "version": "3"} and intent["planned"] == {"version": "2"}
        assert intent["target"]["model"] == model and intent["actor"] == "oncall-tester"
        assert intent["reason"] == "alert ModelInferenceLatenessHigh"
        assert result["phase"] == "result" and result["id"] == intent["id"] and result["result"] == "ok"
        assert result["after"] == {"alias": "champion", "version": "2"}
        await pilot.press("escape")
        await wait_panel(pilot, app, "champion → v2")

        # 2. a second rollback goes further back (v1), never flips forward to v3; v3 is offered as the undo
        screen = await open_registry_rollback(app, pilot)
        assert "champion: v2 → v1" in plan_text(screen)
        assert "to undo the last move of champion by mlcall, choose v3" in plan_text(screen)
        options = screen.query_one(OptionList)
        prompts = [plain(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert prompts[0].startswith("v3") and "undo" in prompts[0]
        assert prompts[1].startswith("v1") and "default" in prompts[1]

        # 3. undo: choose v3 in the list
        options.focus()
        await pilot.press("up")
        await wait_for(pilot, lambda: "champion: v2 → v3" in plan_text(screen), what="v3 chosen")
        assert "undo" in plan_text(screen)
        status = await confirm(pilot, screen, model, fresh=False)
        assert "moved from v2 to v3" in status and champion(uri, model) == "3"
        assert mlflow_client(uri).get_model_version(model, "3").tags["mlcall.previous.champion"] == "2"
        await pilot.press("escape")

        # 4. rollback after the undo: back to v2, where the user went the first time
        screen = await open_registry_rollback(app, pilot)
        assert "champion: v3 → v2" in plan_text(screen) and "tag mlcall.previous.champion" in plan_text(screen)
        status = await confirm(pilot, screen, model)
        assert "moved from v3 to v2" in status and champion(uri, model) == "2"
        await pilot.press("escape")
        await wait_panel(pilot, app, "champion → v2")
    results = [r for r in audit_records(tmp_path) if r["phase"] == "result"]
    assert [(r["result"], r["after"]["version"]) for r in results] == [("ok", "2"), ("ok", "3"), ("ok", "2")]


async def test_models_screen_and_alias_moved_between_plan_and_confirm(mlflow_stack, tmp_path):
    uri = mlflow_stack.mlflow_uri
    model = new_model(uri, "churn")
    app = MlcallApp(settings(tmp_path, mlflow_uri=uri))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        models = await wait_for(pilot, lambda: app.screen.query("#models") and app.screen.query_one("#models", DataTable),
                                what="models screen")
        await wait_for(pilot, lambda: models.row_count >= 4, what="registered models")
        rows = {plain(models.get_row_at(i)[0]): plain(models.get_row_at(i)[1]) for i in range(models.row_count)}
        assert rows["fraud-detector"] == "champion→v3"
        assert rows["churn-predictor"] == "champion→v3, challenger→v4"
        index = sorted(rows, key=str.lower).index(model)
        models.move_cursor(row=index)
        versions = app.screen.query_one("#versions", DataTable)
        await wait_for(pilot, lambda: versions.row_count == 3 and plain(versions.get_row_at(0)[0]) == "v3"
                       and "val_accuracy" in plain(versions.get_row_at(0)[5]),
                       what="versions of the model with their runs' metrics")
        cells = [[plain(c) for c in versions.get_row_at(i)] for i in range(3)]
        assert [c[0] for c in cells] == ["v3", "v2", "v1"]  # newest first
        assert cells[0][1] == "champion" and cells[0][2] == "READY" and "val_accuracy 0.941" in cells[0][5]
        assert cells[1][6] == "git_commit=4c1d2e9"

        await pilot.press("R")
        screen = await wait_for_plan(app, pilot)
        assert "champion: v3 → v2" in plan_text(screen)
        mlflow_client(uri).set_registered_model_alias(model, "champion", "1")  # someone else, meanwhile
        status = await confirm(pilot, screen, model)
        assert "✖" in status and "moved from v3 to v1 since the plan was made" in status
        assert champion(uri, model) == "1"  # untouched
    intent, result = audit_records(tmp_path)
    assert intent["phase"] == "intent" and result["result"] == "failed"
    assert result["error"] == "alias moved concurrently" and intent["reason"] == "bad release"


def forbidden_body() -> str:
    return json_body({"error_code": "PERMISSION_DENIED", "message": "Permission denied for requested operation."})


# kind: (what the panel says, what the rollback dialog says)
ERRORS = {"403": ("403 permission denied", "permission denied"),
          "unreachable": ("unavailable (unreachable)", "cannot connect"),
          "hanging": ("unavailable (timeout)", "no answer from")}


@pytest.mark.parametrize("kind", list(ERRORS))
async def test_registry_error_is_shown_and_the_screen_keeps_working(bare_am, tmp_path, kind):
    """A hanging registry answers within our timeout (wait_for gives up after 60 s; MLflow's own defaults
    would block for 5 retries × 120 s)."""
    tag = uuid.uuid4().hex[:6]
    post_alerts(bare_am, [alert("ModelStalenessHigh", f"m-{tag}"), alert("TrainingJobFailed", f"n-{tag}")])
    with FakeServer(403, forbidden_body()) as forbidden, FakeServer(200, "{}", delay=30) as hanging:
        uri = {"403": forbidden.url, "hanging": hanging.url,
               "unreachable": "http://127.0.0.1:9"}[kind]  # discard port: nothing listens
        app = MlcallApp(settings(tmp_path, alertmanager_urls=(bare_am,), mlflow_uri=uri, timeout=2.0))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("slash", *tag, "enter")
            await wait_for(pilot, lambda: len(table_rows(app)) == 2, what="this test's alerts")
            expected, in_dialog = ERRORS[kind]
            text = await wait_panel(pilot, app, expected)
            assert "✖" in text
            # the rest of the screen works: move, filter, detail
            await pilot.press("down")
            await wait_for(pilot, lambda: f"n-{tag}" in panel_text(app) or f"m-{tag}" in panel_text(app),
                           what="panel follows the cursor")
            app.alerts_screen.query_one("#filter").value = f"model=n-{tag}"
            await wait_for(pilot, lambda: [r[1].strip() for r in table_rows(app)] == ["TrainingJobFailed"],
                           what="filter still works")
            # the rollback dialog says why it cannot plan; nothing is recorded
            await open_registry_rollback(app, pilot)
            status = status_of(app.screen)
            assert "✖" in status and in_dialog in status
            assert app.screen.query_one("#rb-go", Button).disabled
            await pilot.press("escape")
        if kind == "403":
            assert forbidden.requests and all(p.startswith("/api/2.0/mlflow/") for p in forbidden.requests)
    assert not (tmp_path / "audit.jsonl").exists()


async def test_read_only_has_no_rollback_binding(mlflow_stack, bare_am, tmp_path):
    model = new_model(mlflow_stack.mlflow_uri)
    post_alerts(bare_am, [alert("ModelInferenceLatenessHigh", model)])
    app = MlcallApp(settings(tmp_path, alertmanager_urls=(bare_am,), mlflow_uri=mlflow_stack.mlflow_uri,
                             read_only=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *f"model={model}", "enter")
        text = await wait_panel(pilot, app, "champion → v3")
        assert "roll back" not in text
        assert "R" not in app.alerts_screen.active_bindings and "m" in app.alerts_screen.active_bindings
        await pilot.press("R")
        await pilot.pause(0.3)
        assert app.screen is app.alerts_screen
        await pilot.press("m")
        await wait_for(pilot, lambda: app.screen.query("#versions"), what="models screen")
        assert "R" not in app.screen.active_bindings
    assert champion(mlflow_stack.mlflow_uri, model) == "3"


def test_version_gone_and_unwritable_audit_change_nothing(mlflow_stack, tmp_path):
    """The action layer on the real server: a deleted target version (404) and an audit log that cannot
    be written each stop the rollback before the alias moves."""
    uri = mlflow_stack.mlflow_uri
    model = new_model(uri)
    source = RegistrySource(uri, timeout=5)
    plan = plan_registry_rollback(source, model, "champion")
    assert (plan.current, plan.target) == ("3", "2")
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    refused = execute_registry_rollback(source, AuditLog(blocked / "audit.jsonl", "t"), plan, "2", "test")
    assert not refused.ok and "not run" in refused.message and champion(uri, model) == "3"

    mlflow_client(uri).delete_model_version(model, "2")
    audit = AuditLog(tmp_path / "audit.jsonl", "t")
    gone = execute_registry_rollback(source, audit, plan, "2", "test")
    assert not gone.ok and "v2 of" in gone.message and "no longer exists" in gone.message
    assert champion(uri, model) == "3"
    assert [r["result"] for r in audit.records() if r["phase"] == "result"] == ["failed"]
    # re-planning skips the deleted version
    assert plan_registry_rollback(source, model, "champion").target == "1"
