"""`d`: diagnose the alert's model. Checks run concurrently with a progress indicator; findings by severity
on the left, the worst pod's log tail on the right; `w` saves the result as Markdown for the incident
notes and says where. Every remote string goes through `safe()`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static

from ...actions.diagnose import (
    CHECKS,
    Diagnosis,
    ago,
    diagnose,
    registry_findings,
    signal_findings,
    to_markdown,
)
from ...models import Alert, Finding
from ...safe_text import safe
from ..cells import severity_cell
from ..saved_markdown import save_markdown, slug

if TYPE_CHECKING:
    from ..cluster_ui import ClusterUI
    from ..registry_ui import RegistryUI
    from ..signals_ui import SignalsUI

MARKS = {"running": ("…", "dim"), "ok": ("✔", "bold"), "failed": ("✖", "bold reverse"), "skipped": ("–", "dim")}


def findings_text(findings: tuple[Finding, ...]) -> Text:
    text = Text(end="")
    for f in findings:
        if f.severity == "ok":
            text.append("✔ OK  ", style="bold")
        else:
            text.append_text(severity_cell(f.severity))
            text.append("  ")
        text.append(f"[{f.check}] ", style="dim")
        text.append_text(safe(f.title, "bold" if f.severity == "critical" else "", max_len=400))
        text.append("\n")
        if f.detail:
            text.append("    ")
            text.append_text(safe(f.detail, "dim", max_len=600))
            text.append("\n")
    return text


def events_text(d: Diagnosis) -> Text:
    text = Text(end="")
    if d.events:
        text.append("\nWarning events\n", style="bold underline")
    for e in d.events[:15]:
        text.append(f"{ago(e.last_seen):>6} ago ×{e.count:<4} ", style="dim")
        text.append_text(safe(e.reason, "bold", single_line=True, max_len=40))
        text.append(" ")
        text.append_text(safe(f"{e.kind}/{e.object_name}", single_line=True, max_len=70))
        text.append("\n    ")
        text.append_text(safe(e.message, "dim", max_len=400))
        text.append("\n")
    return text


def log_text(d: Diagnosis | None) -> Text:
    if d is None:
        return Text("reading the log…", style="dim")
    log = d.log
    if log is None:
        return Text("no log read (see the findings)", style="dim")
    text = Text(end="")
    text.append_text(safe(f"{log.pod}/{log.container}", "bold", single_line=True, max_len=90))
    text.append(f"{' (previous instance)' if log.previous else ''} · last {log.tail_lines} lines, "
                f"≤{log.limit_bytes // 1024} KiB\n", style="dim")
    for line in log.lines:
        text.append_text(safe(line, max_len=2000))
        text.append("\n")
    if not log.lines:
        text.append("(empty log)", style="dim")
    return text


def report_path(directory: Path, d: Diagnosis) -> Path:
    name = slug(d.deployment or d.model or d.alert or "alert")
    stamp = (d.finished_at or d.started_at).strftime("%Y%m%d-%H%M%S")
    return directory / f"diagnose-{name or 'alert'}-{stamp}.md"


class DiagnoseScreen(Screen):
    DEFAULT_CSS = """
    DiagnoseScreen #dg-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    DiagnoseScreen #dg-progress-row { height: 1; padding: 0 1; }
    DiagnoseScreen #dg-progress { width: 36; }
    DiagnoseScreen #dg-checks { width: 1fr; padding: 0 1; }
    DiagnoseScreen #dg-body { height: 1fr; }
    DiagnoseScreen #dg-left { width: 3fr; padding: 0 1; }
    DiagnoseScreen #dg-right { width: 2fr; padding: 0 1; border-left: solid $primary; }
    DiagnoseScreen #dg-saved { height: auto; padding: 0 1; }
    """
    BINDINGS = [
        Binding("w", "save", "Save Markdown", tooltip="Write the diagnosis as Markdown for the incident notes"),
        Binding("ctrl+r", "rerun", "Run again"),
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
    ]

    def __init__(self, cluster: ClusterUI, alert: Alert | None, *, signals: SignalsUI | None = None,
                 registry: RegistryUI | None = None) -> None:
        super().__init__()
        self.cluster = cluster
        self.signals = signals  # the live PromQL checks (None: not offered)
        self.registry = registry  # the registry facts (None: not offered)
        self.alert = alert
        settings = cluster.settings
        self.namespace, self.deployment = cluster.target(alert)
        self.model = alert.label(settings.model_label) if alert is not None else ""
        self.result: Diagnosis | None = None
        self.saved: Path | None = None
        self.states: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        title = Text("Diagnose", end="")
        if self.alert is not None:
            title.append(" · alert ")
            title.append_text(safe(self.alert.name, single_line=True, max_len=60))
        if self.deployment:
            title.append(" · deployment ")
            title.append_text(safe(f"{self.namespace}/{self.deployment}", single_line=True, max_len=80))
        yield Static(title, id="dg-title")
        with Horizontal(id="dg-progress-row"):
            yield ProgressBar(total=len(CHECKS), show_eta=False, id="dg-progress")
            yield Static("", id="dg-checks")
        with Horizontal(id="dg-body"):
            with VerticalScroll(id="dg-left"):
                yield Static(Text("Running the checks…", style="dim"), id="dg-findings")
            with VerticalScroll(id="dg-right"):
                yield Static(Text("Log tail", style="bold underline"), id="dg-log-title")
                yield Static(log_text(None), id="dg-log")
        yield Static("", id="dg-saved")
        yield Footer()

    def on_mount(self) -> None:
        self.action_rerun()

    # -- running --------------------------------------------------------------------------------------
    def action_rerun(self) -> None:
        self.states = {}
        self.result = None
        self.query_one("#dg-progress", ProgressBar).update(progress=0)
        self.query_one("#dg-findings", Static).update(Text("Running the checks…", style="dim"))
        self.query_one("#dg-log", Static).update(log_text(None))
        self.run_worker(self._run, group="diagnose", exclusive=True, exit_on_error=False)

    def _progress(self, check: str, state: str) -> None:
        self.states[check] = state
        finished = sum(1 for s in self.states.values() if s != "running")
        self.query_one("#dg-progress", ProgressBar).update(progress=finished)
        self.query_one("#dg-checks", Static).update(self._checks_line())

    def _checks_line(self) -> Text:
        text = Text(end="")
        for i, check in enumerate(CHECKS):
            state = self.states.get(check, "running")
            mark, style = MARKS[state.split(":")[0]] if state.split(":")[0] in MARKS else ("?", "")
            if i:
                text.append(" · ", style="dim")
            text.append(f"{mark} {check}", style=style)
        return text

    async def _run(self) -> None:
        promql = registry = None
        service = self.signals.ensure_service() if self.signals is not None else None
        if service is not None and self.alert is not None:
            alert = self.alert

            async def live_checks():  # the live PromQL checks of the metrics feature
                return signal_findings(await service.view(alert, 60))

            promql = live_checks
        reg = self.registry
        if reg is not None and reg.source is not None and self.model:
            model, alias, source = self.model, reg.alias, reg.source

            def registry_facts():
                return registry_findings(source.serving(model, alias))

            registry = registry_facts
        self.result = await diagnose(
            alert=self.alert.name if self.alert else "", model=self.model, namespace=self.namespace,
            deployment=self.deployment, cluster=self.cluster.source, cluster_problem=self.cluster.problem,
            promql=promql, registry=registry, progress=self._progress)
        self.query_one("#dg-progress", ProgressBar).update(progress=len(CHECKS))
        self.query_one("#dg-checks", Static).update(self._checks_line())
        body = findings_text(self.result.findings)
        body.append_text(events_text(self.result))
        self.query_one("#dg-findings", Static).update(body)
        self.query_one("#dg-log", Static).update(log_text(self.result))
        self.call_after_refresh(self.query_one("#dg-right", VerticalScroll).scroll_end, animate=False)  # newest lines

    # -- saving ---------------------------------------------------------------------------------------
    def action_save(self) -> None:
        saved = self.query_one("#dg-saved", Static)
        if self.result is None:
            saved.update(Text("The checks are still running: nothing to save yet.", style="bold"))
            return
        directory = Path(self.cluster.settings.audit_path).parent / "reports"
        path = report_path(directory, self.result)
        message, ok = save_markdown(path, to_markdown(self.result), saved_as="the diagnosis", failed="the report")
        saved.update(message)
        if not ok:
            return
        self.saved = path
        self.app.notify(f"Diagnosis saved to {path}", timeout=8, markup=False)

    def action_back(self) -> None:
        self.app.pop_screen()
