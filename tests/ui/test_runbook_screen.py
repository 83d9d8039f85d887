"""RunbookScreen with Pilot: the alert's runbook with values filled in, steps, confirm, run, block."""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path

from textual.app import App
from textual.widgets import Log, Markdown, OptionList, Static

from oncall_tui.models import Alert
from oncall_tui.runbooks import REQUIRED_SECTIONS, resolve, runbook_dirs
from oncall_tui.ui.screens.runbook import RunbookScreen
from oncall_tui.ui.widgets.confirm import ConfirmModal

CONFIG = {"prometheus_url": "http://prometheus.monitoring:9090", "mlflow_uri": "http://mlflow.ml-prod:5000"}


def drift_alert(**labels: str) -> Alert:
    return Alert(
        "fp-drift",
        {"alertname": "DataDriftDetected", "severity": "critical", "component": "data",
         "model": "churn-predictor", "feature": "account_age_days", **labels},
        {"summary": "Input feature account_age_days of churn-predictor drifted [/] [@click=app.quit]x[/]",
         "runbook_url": "https://runbooks.mlcall.invalid/data-drift.md"},
    )


class RunbookApp(App):
    def __init__(self, alert: Alert, dirs: list[Path] | None = None, *, read_only: bool = False,
                 audit=None, config=None) -> None:
        super().__init__()
        self.alert = alert
        self.resolution = resolve(alert, dirs if dirs is not None else runbook_dirs(env={}))
        self.read_only, self.audit, self.config = read_only, audit, CONFIG if config is None else config

    def on_mount(self) -> None:
        self.push_screen(RunbookScreen(self.alert, self.resolution, read_only=self.read_only,
                                       audit=self.audit, config=self.config, step_timeout=20))


def hello_runbook(tmp_path: Path) -> Path:
    """A runbook whose first step prints a greeting with the model label in it."""
    command = shlex.join([sys.executable, "-c", "print('hello from step', '{{ labels.model }}')"])
    sections = "\n".join(f"## {s}\n\ntext\n" for s in REQUIRED_SECTIONS if s != "Diagnosis")
    (tmp_path / "hello.md").write_text(
        "---\nalerts: [DataDriftDetected]\nseverity: critical\nowner: t\nlast_reviewed: 2026-11-27\n---\n"
        f"# Hello {{{{ labels.model }}}}\n\n## Diagnosis\n\n```sh run\n{command}\n```\n\n"
        f"```sh run mutating\n{shlex.join([sys.executable, '-c', 'print(1)'])}\n```\n\n{sections}",
        encoding="utf-8",
    )
    return tmp_path


def spy_processes(monkeypatch) -> list[tuple]:
    started: list[tuple] = []
    real = asyncio.create_subprocess_exec

    async def spy(*args, **kwargs):
        started.append(args)
        return await real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    return started


def plain(widget: Static) -> str:
    return widget.render().plain if hasattr(widget.render(), "plain") else str(widget.render())


async def test_drift_runbook_opens_with_the_model_filled_in():
    app = RunbookApp(drift_alert(namespace="ml-prod"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        assert app.resolution.runbook.path.name == "data-drift.md"
        header = str(screen.query_one("#rb-header", Static).render())
        assert "DataDriftDetected" in header and "model=churn-predictor" in header
        doc = screen.query_one("#rb-doc", Markdown)
        assert "churn\\-predictor" in doc.source and "{{" not in doc.source
        h1 = doc.query("MarkdownH1").first()
        assert "Data drift: account_age_days of churn-predictor" in str(h1.render())
        # The remote summary is shown literally: markup in it neither crashed nor became an action.
        assert any("[@click=app.quit]x[/]" in str(p.render()) for p in doc.query("MarkdownParagraph, MarkdownListItem *"))
        assert app.is_running


async def test_n_and_p_move_between_steps():
    app = RunbookApp(drift_alert(namespace="ml-prod"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        steps = app.screen.query_one("#rb-steps", OptionList)
        assert steps.highlighted == 0
        await pilot.press("n")
        assert steps.highlighted == 1
        detail = str(app.screen.query_one("#rb-step-detail", Static).render())
        assert "Step 2" in detail and "churn-predictor" in detail and "offset 1d" in detail
        await pilot.press("n", "n", "p")
        assert steps.highlighted == 2


async def test_a_step_runs_after_confirmation_and_its_output_is_shown(tmp_path, monkeypatch):
    started = spy_processes(monkeypatch)
    records: list[dict] = []
    app = RunbookApp(drift_alert(), [hello_runbook(tmp_path)], audit=records.append)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert modal.focused is not None and modal.focused.id == "cancel"  # Cancel is the default
        body = str(modal.query_one("#body", Static).render())
        assert "print('hello from step', 'churn-predictor')" in body and started == []
        await pilot.click("#confirm")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        log = app.screen.query_one("#rb-output", Log)
        assert any("hello from step churn-predictor" in line for line in log.lines)
        status = str(app.screen.query_one("#rb-status", Static).render())
        assert "exit code 0" in status
    assert started and started[0][0] == sys.executable
    assert [r["event"] for r in records] == ["intent", "result"]
    assert records[0]["argv"][-1] == "print('hello from step', 'churn-predictor')"
    assert records[1]["exit_code"] == 0 and records[1]["result"] == "ok"


async def test_cancel_runs_nothing(tmp_path, monkeypatch):
    started = spy_processes(monkeypatch)
    app = RunbookApp(drift_alert(), [hello_runbook(tmp_path)])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("enter")  # Cancel has the focus
        await pilot.pause()
        assert isinstance(app.screen, RunbookScreen)
        await pilot.press("enter", "escape")
        await pilot.pause()
    assert started == []


async def test_an_injected_label_blocks_the_step_and_starts_nothing(tmp_path, monkeypatch):
    started = spy_processes(monkeypatch)
    app = RunbookApp(drift_alert(model="x$(id)[/]"), [hello_runbook(tmp_path)])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        steps = app.screen.query_one("#rb-steps", OptionList)
        prompt = str(steps.get_option_at_index(0).prompt)
        assert "labels.model" in prompt and "contains '$'" in prompt
        detail = str(app.screen.query_one("#rb-step-detail", Static).render())
        assert "blocked" in detail and "labels.model" in detail and "shell metacharacter" in detail
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunbookScreen)  # no confirm dialog for a blocked step
        doc = app.screen.query_one("#rb-doc", Markdown)
        assert "$(id)" not in doc.source.split("## Diagnosis")[1].split("```")[1]
    assert started == []


async def test_read_only_hides_mutating_steps(tmp_path):
    app = RunbookApp(drift_alert(), [hello_runbook(tmp_path)], read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert [v.step.mutating for v in screen.views] == [False]
        assert screen.query_one("#rb-steps", OptionList).option_count == 1
        assert "READ-ONLY" in str(screen.query_one("#rb-header", Static).render())
        assert "not available in read-only mode" in screen.query_one("#rb-doc", Markdown).source


async def test_a_failing_audit_log_prevents_the_run(tmp_path, monkeypatch):
    started = spy_processes(monkeypatch)

    def broken(record: dict) -> None:
        raise OSError("disk full")

    app = RunbookApp(drift_alert(), [hello_runbook(tmp_path)], audit=broken)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.click("#confirm")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "audit log could not be written" in str(app.screen.query_one("#rb-status", Static).render())
    assert started == []


async def test_escape_closes_the_screen():
    app = RunbookApp(drift_alert(namespace="ml-prod"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RunbookScreen)


def test_snapshot_of_the_drift_runbook(snap_compare):
    app = RunbookApp(drift_alert(namespace="ml-prod"))

    async def settle(pilot) -> None:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=settle)
