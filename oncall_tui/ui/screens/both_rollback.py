"""`R` → "both": one plan (the registry alias and the Deployment), one confirmation (the model name and a
reason), two audited steps — the registry alias first (the restarted pods then load the rolled-back
version), then the Deployment; the second step is not started if the first fails. Each step is the same
code as its single rollback (actions/rollback.py, actions/k8s_rollback.py), with its own audit intent and
result. The rollout is then watched like the single deployment rollback does."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar, Static

from ...actions import k8s_rollback as kr
from ...actions.rollback import PlanError, execute_registry_rollback, plan_registry_rollback
from ...models import Alert, DeploymentRollbackPlan, RegistryRollbackPlan
from ...safe_text import safe, sanitize
from .deployment_rollback import DIALOG_CSS, RolloutProgress, plan_text
from .typed_confirm import TypedConfirmDialog

if TYPE_CHECKING:
    from ..cluster_ui import ClusterUI
    from ..registry_ui import RegistryUI


class BothRollbackScreen(TypedConfirmDialog[bool]):
    DEFAULT_CSS = DIALOG_CSS.format(name="BothRollbackScreen")
    PREFIX = "dr"
    RUNNING = "Step 1: moving the registry alias…"
    RUN_GROUP = "dr-run"

    def __init__(self, cluster: ClusterUI, registry: RegistryUI, alert: Alert | None, *, reason: str = "") -> None:
        super().__init__()
        self.cluster = cluster
        self.registry = registry
        self.model = self.registry.model_of(alert)
        self.key = cluster.target(alert)
        self.reason = sanitize(reason, single_line=True, max_len=200)
        self.registry_plan: RegistryRollbackPlan | None = None
        self.deployment_plan: DeploymentRollbackPlan | None = None
        self.busy = False
        self.done = False
        self.progress = RolloutProgress(self, cluster, self.key)

    def compose(self) -> ComposeResult:
        with Vertical(id="dr-dialog"):
            title = Text("Roll back both · model ", end="")
            title.append_text(safe(self.model, "bold", single_line=True, max_len=60))
            title.append(" · deployment ")
            title.append_text(safe("/".join(self.key), "bold", single_line=True, max_len=80))
            yield Label(title, id="dr-title")
            yield Static(Text("Checking permissions and reading both plans…", style="dim"), id="dr-plan")
            hint = Text("Type the model name to confirm both steps: ", end="")
            hint.append_text(safe(self.model, "bold", single_line=True, max_len=80))
            yield Label(hint, id="dr-hint")
            yield Input(id="dr-confirm")
            yield Input(value=self.reason, placeholder="reason (required; both audit records)", id="dr-reason")
            yield Static("", id="dr-status")
            with Vertical(id="dr-progress-row"):
                yield ProgressBar(total=1, show_eta=False, id="dr-progress")
                yield Static("", id="dr-rollout")
            with Horizontal(id="dr-buttons"):
                yield Button(Text("Cancel"), id="dr-cancel")
                yield Button(Text("Roll back both"), id="dr-go", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#dr-progress-row").display = False
        self.run_worker(self._prepare, group="dr-plan", exclusive=True, exit_on_error=False)

    def on_unmount(self) -> None:
        self.progress.stop()

    async def _registry_plan(self) -> RegistryRollbackPlan | str:
        try:
            return await asyncio.to_thread(plan_registry_rollback, self.registry.source, self.model, self.registry.alias)
        except PlanError as exc:
            return f"registry: {exc}"

    async def _deployment_plan(self) -> DeploymentRollbackPlan | str:
        source = self.cluster.source
        if source is None:
            return f"deployment: Kubernetes not configured: {self.cluster.problem}"
        review = await asyncio.to_thread(kr.access, source, *self.key, fresh=True)
        if kr.denial(review):
            return f"deployment: rollback not offered: {kr.denial(review)}"
        try:
            plan = await asyncio.to_thread(kr.plan_rollback, source, *self.key)
        except kr.PlanError as exc:
            return f"deployment: {exc}"
        plan = await asyncio.to_thread(kr.dry_run, source, plan)
        return plan if plan.dry_run == "ok" else f"deployment: dry run refused: {plan.dry_run}"

    async def _prepare(self) -> None:
        try:
            registry, deployment = await asyncio.gather(self._registry_plan(), self._deployment_plan())
        except Exception as exc:  # a bug or an odd answer: say so, offer nothing
            self._status(safe(f"✖ could not plan: {type(exc).__name__}: {exc}", "bold red", max_len=500))
            return
        text = Text("Step 1 · registry alias\n", style="bold underline", end="")
        if isinstance(registry, RegistryRollbackPlan):
            self.registry_plan = registry
            text.append_text(safe(f"{registry.alias}: v{registry.current} → v{registry.target} "
                                  f"({registry.target_why})", max_len=300))
        else:
            text.append_text(safe(f"✖ {registry}", "bold red", max_len=500))
        text.append("\nStep 2 · Deployment (not started if step 1 fails)\n", style="bold underline")
        if isinstance(deployment, DeploymentRollbackPlan):
            self.deployment_plan = deployment
            text.append_text(plan_text(deployment, self.cluster.source.server if self.cluster.source else ""))
        else:
            text.append_text(safe(f"✖ {deployment}", "bold red", max_len=500))
        self.query_one("#dr-plan", Static).update(text)
        if self.registry_plan is not None and not self.registry_plan.target:
            self.registry_plan = None
            self._status(Text("✖ the registry has no default target: use the registry rollback to pick one",
                              style="bold red"))
        self._update_go()

    def _confirmed(self) -> bool:
        typed = self.query_one("#dr-confirm", Input).value.strip()
        reason = self.query_one("#dr-reason", Input).value.strip()
        return bool(self.registry_plan and self.deployment_plan and typed == self.model and reason
                    and not self.busy and not self.done)

    async def _execute(self) -> None:
        try:
            await self._steps()
        except Exception as exc:  # a bug: never leave the dialog locked, never claim an outcome
            self._finish(safe(f"✖ {type(exc).__name__}: {exc}: the outcome is unknown; check the registry, the "
                              "Deployment and the audit log", "bold red", max_len=600), ok=False)

    async def _steps(self) -> None:
        assert self.registry_plan is not None and self.deployment_plan is not None
        reason = self.query_one("#dr-reason", Input).value
        audit = self.cluster.audit
        first = await asyncio.to_thread(execute_registry_rollback, self.registry.source, audit, self.registry_plan,
                                        self.registry_plan.target, reason)
        self.registry.invalidate(self.model)
        lines = Text(end="")
        lines.append_text(safe(("✔ step 1: " if first.ok else "✖ step 1: ") + first.message,
                               "bold green" if first.ok else "bold red", max_len=600))
        if not first.ok:
            lines.append("\n✖ step 2 (deployment) not started because step 1 did not succeed", style="bold red")
            self._finish(lines, ok=False)
            return
        self._status(lines + Text("\nStep 2: patching the Deployment…", style="bold"))
        second = await asyncio.to_thread(kr.execute_rollback, self.cluster.source, audit, self.deployment_plan, reason)
        self.cluster.invalidate(self.key)
        lines.append("\n")
        lines.append_text(safe(("✔ step 2: " if second.ok else "✖ step 2: ") + second.message +
                               ("" if second.ok else "; the registry step stays done: retry the deployment alone "
                                "(R → deployment) from a fresh plan"),
                               "bold green" if second.ok else "bold red", max_len=800))
        self._finish(lines, ok=second.ok)
        if second.ok:
            self.progress.start()

    def _finish(self, lines: Text, *, ok: bool) -> None:
        self.busy, self.done = False, True
        self._status(lines)
        self._update_go()
        for widget in self.query(Input):
            widget.disabled = True
        self.app.notify(sanitize(lines.plain, max_len=400), title="Rollback (both)",
                        severity="information" if ok else "error", timeout=10, markup=False)
        cancel = self.query_one("#dr-cancel", Button)
        cancel.label = Text("Close (the rollout watch goes on)" if ok else "Close")
        cancel.focus()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(self.done)
