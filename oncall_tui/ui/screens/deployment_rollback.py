"""`R` → "deployment": undo the Deployment's rollout safely (actions/k8s_rollback.py), and "both".

The dialog: permissions checked first (SelfSubjectAccessReview; a deny says why and offers nothing) →
plan (target pinned: the previous revision, or one picked from the list) → server-side dry run shown as
a diff of images/env/args → type the deployment name and a reason → audit intent → patch with the
resourceVersion precondition → read back → audit result. A 409 is shown and the plan re-read (the name
must be typed again); nothing is retried. Afterwards the rollout is watched with a progress bar; Close
leaves the watch running in the background (the deployment panel keeps showing it).

The chooser's "deployment" and "both" kinds are built in ui/rollback_ui.py.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from ...actions import k8s_rollback as kr
from ...models import Alert, Change, DeploymentRollbackPlan, DeploymentRollbackResult, RolloutStatus
from ...safe_text import safe, sanitize
from ..cells import age
from .rollback import trigger_note
from .typed_confirm import TypedConfirmDialog

if TYPE_CHECKING:
    from ..cluster_ui import ClusterUI

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > #dr-dialog {{
    width: 104; max-width: 98%; height: auto; max-height: 96%;
    border: thick $error; background: $surface; padding: 1 2; overflow-y: auto;
}}
{name} #dr-title {{ text-style: bold; margin-bottom: 1; }}
{name} #dr-targets {{ height: auto; max-height: 6; margin: 1 0 0 0; }}
{name} Input {{ margin-bottom: 0; }}
{name} #dr-status {{ height: auto; margin: 1 0; }}
{name} #dr-progress-row {{ height: auto; }}
{name} #dr-buttons {{ height: auto; align-horizontal: right; }}
{name} Button {{ margin-left: 2; }}
{name} #dr-cancel {{ width: auto; }}
"""


def changes_text(plan: DeploymentRollbackPlan) -> Text:
    text = Text(end="")
    if plan.dry_run == "ok":
        text.append("server-side dry run (dryRun=All): accepted; what the API server would store:\n", style="bold")
    elif plan.dry_run:
        text.append_text(safe(f"✖ dry run: {plan.dry_run}\n", "bold reverse", max_len=500))
    else:
        text.append("dry run pending…\n", style="dim")
    for c in plan.changes:
        text.append("  ")
        if c.container:
            text.append_text(safe(c.container, "dim", single_line=True, max_len=30))
            text.append(" ")
        text.append_text(safe(c.field, "bold", single_line=True, max_len=60))
        text.append("  ")
        text.append_text(safe(c.before, single_line=True, max_len=80))
        if c.after:
            text.append(" → ")
            text.append_text(safe(c.after, "bold", single_line=True, max_len=80))
        text.append("\n")
    return text


def plan_text(plan: DeploymentRollbackPlan, server: str = "") -> Text:
    text = Text("context ", style="dim", end="")
    text.append_text(safe(plan.context or "?", single_line=True, max_len=40))
    if server:
        text.append(" · ", style="dim")
        text.append_text(safe(server, "dim", single_line=True, max_len=60))
    text.append(" · resourceVersion ", style="dim")
    text.append_text(safe(plan.resource_version, single_line=True, max_len=30))
    text.append(" (precondition)\n", style="dim")
    text.append(f"revision {plan.current_revision} → ", style="bold")
    text.append(f"{plan.target_revision}", style="bold green")
    text.append("  (ReplicaSet ")
    text.append_text(safe(plan.target_replica_set, single_line=True, max_len=60))
    text.append("; pinned: a concurrent change makes the patch fail, it never moves the target)\n", style="dim")
    text.append_text(changes_text(plan))
    return text


def progress_text(status: RolloutStatus) -> Text:
    text = Text(f"{status.updated}/{status.desired} updated · {status.ready} ready · {status.available} available  ",
                end="")
    style = "bold reverse" if status.failed else ("bold green" if status.done else "dim")
    text.append_text(safe(("✖ " if status.failed else "✔ " if status.done else "") + status.message, style,
                          single_line=True, max_len=200))
    return text


class RolloutProgress:
    """Feeds a ProgressBar and a Static from the cluster UI's background watch of one Deployment."""

    def __init__(self, screen: ModalScreen, cluster: ClusterUI, key: tuple[str, str]) -> None:
        self.screen, self.cluster, self.key = screen, cluster, key

    def start(self) -> None:
        self.screen.query_one("#dr-progress-row").display = True
        self.cluster.listeners.append(self.update)
        self.cluster.watch(self.key)

    def update(self, key: tuple[str, str], status: RolloutStatus) -> None:
        if key != self.key or not self.screen.is_mounted:
            return
        total = max(1, status.desired)
        done = total if status.done else (min(status.updated, status.available) if status.observed else 0)
        self.screen.query_one("#dr-progress", ProgressBar).update(total=total, progress=min(total, done))
        self.screen.query_one("#dr-rollout", Static).update(progress_text(status))

    def stop(self) -> None:
        if self.update in self.cluster.listeners:
            self.cluster.listeners.remove(self.update)


class DeploymentRollbackScreen(TypedConfirmDialog[DeploymentRollbackResult | None]):
    DEFAULT_CSS = DIALOG_CSS.format(name="DeploymentRollbackScreen")
    PREFIX = "dr"
    RUNNING = "Rolling back: audit intent → patch (resourceVersion precondition) → read back…"
    RUN_GROUP = "dr-run"

    def __init__(self, cluster: ClusterUI, key: tuple[str, str], *, reason: str = "", trigger: Change | None = None,
                 alert: Alert | None = None) -> None:
        super().__init__()
        self.cluster, self.key = cluster, key
        undo = trigger.undo if trigger is not None else None
        # the likely trigger's undo (a revision of this Deployment) is the default target
        self.first_revision = undo.revision if undo is not None and undo.kind == "deployment" and \
            (undo.namespace, undo.name) == key else 0
        self.note = trigger_note(trigger, alert)
        self.reason = sanitize(reason, single_line=True, max_len=200)
        self.plan: DeploymentRollbackPlan | None = None
        self.result: DeploymentRollbackResult | None = None
        self.busy = False
        self.progress = RolloutProgress(self, cluster, key)

    def compose(self) -> ComposeResult:
        namespace, name = self.key
        with Vertical(id="dr-dialog"):
            title = Text("Roll back the Deployment · ", end="")
            title.append_text(safe(f"{namespace}/{name}", "bold", single_line=True, max_len=80))
            yield Label(title, id="dr-title")
            yield Static(Text("Checking permissions (SelfSubjectAccessReview)…", style="dim"), id="dr-plan")
            yield OptionList(id="dr-targets")
            hint = Text("Type the deployment name to confirm: ", end="")
            hint.append_text(safe(name, "bold", single_line=True, max_len=80))
            yield Label(hint, id="dr-hint")
            yield Input(id="dr-confirm")
            yield Input(value=self.reason, placeholder="reason (required; audit log and change-cause)", id="dr-reason")
            yield Static("", id="dr-status")
            with Vertical(id="dr-progress-row"):
                yield ProgressBar(total=1, show_eta=False, id="dr-progress")
                yield Static("", id="dr-rollout")
            with Horizontal(id="dr-buttons"):
                yield Button(Text("Cancel"), id="dr-cancel")
                yield Button(Text("Roll back"), id="dr-go", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#dr-targets", OptionList).display = False
        self.query_one("#dr-progress-row").display = False
        self.run_worker(partial(self._prepare, self.first_revision), group="dr-plan", exclusive=True,
                        exit_on_error=False)

    def on_unmount(self) -> None:
        self.progress.stop()  # the watch itself goes on in the background

    async def _prepare(self, to_revision: int, note: Text | None = None) -> None:
        try:
            await self._plan(to_revision, note)
        except Exception as exc:  # a bug or an odd answer: say so, offer nothing
            self.plan = None
            self._update_go()
            self._status(safe(f"✖ could not plan the rollback: {type(exc).__name__}: {exc}", "bold red", max_len=500))

    async def _plan(self, to_revision: int, note: Text | None = None) -> None:
        """Permissions → plan (pinned target) → dry run; the go button only when all three are fine."""
        source = self.cluster.source
        self.plan = None
        self._update_go()
        if source is None:
            self._status(safe(f"✖ Kubernetes not configured: {self.cluster.problem}", "bold red"))
            return
        review = await asyncio.to_thread(kr.access, source, *self.key, fresh=True)
        why = kr.denial(review)
        if why:
            self.query_one("#dr-plan", Static).update(Text(""))
            self._status(safe(f"✖ Rollback not offered: {why}", "bold red", max_len=600))
            return
        try:
            plan = await asyncio.to_thread(kr.plan_rollback, source, *self.key, to_revision)
        except kr.PlanError as exc:
            if to_revision and to_revision == self.first_revision:  # the trigger's undo cannot be planned
                self.first_revision = 0
                note = safe(f"the likely trigger's undo cannot be planned: {exc}; the previous revision instead",
                            "bold", max_len=400)
                await self._plan(0, note)
                return
            self.query_one("#dr-plan", Static).update(Text(""))
            self._status(safe(f"✖ {exc}", "bold red", max_len=600))
            return
        self.query_one("#dr-plan", Static).update(self._plan_text(plan, source.server))
        plan = await asyncio.to_thread(kr.dry_run, source, plan)
        self.plan = plan
        self.query_one("#dr-plan", Static).update(self._plan_text(plan, source.server))
        self._fill_targets(plan)
        self._status(note or Text(""))
        self._update_go()

    def _plan_text(self, plan: DeploymentRollbackPlan, server: str) -> Text:
        if not self.note.plain:
            return plan_text(plan, server)
        text = self.note.copy()
        if plan.target_revision != self.first_revision:
            text.append(" (not the target chosen below)", style="dim")
        text.append("\n")
        text.append_text(plan_text(plan, server))
        return text

    def _fill_targets(self, plan: DeploymentRollbackPlan) -> None:
        options = self.query_one("#dr-targets", OptionList)
        options.clear_options()
        for rs in plan.candidates:
            text = Text(f"revision {rs.revision}  ", style="bold", end="")
            text.append_text(safe(", ".join(rs.images), single_line=True, max_len=60))
            text.append(f"  {age(rs.created_at)} old", style="dim")
            if rs.revision == plan.target_revision:
                text.append("  ← target", style="bold")
            options.add_option(Option(text, id=str(rs.revision)))
        options.display = bool(plan.candidates)
        index = next((i for i, rs in enumerate(plan.candidates) if rs.revision == plan.target_revision), None)
        if index is not None:
            options.highlighted = index

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        revision = int(event.option.id or 0)
        if self.plan is not None and revision != self.plan.target_revision and not self.busy and self.result is None:
            self.run_worker(partial(self._prepare, revision), group="dr-plan", exclusive=True, exit_on_error=False)

    def _confirmed(self) -> bool:
        typed = self.query_one("#dr-confirm", Input).value.strip()
        reason = self.query_one("#dr-reason", Input).value.strip()
        return bool(self.plan and self.plan.dry_run == "ok" and typed == self.key[1] and reason and not self.busy
                    and (self.result is None or not self.result.ok))

    async def _execute(self) -> None:
        assert self.plan is not None and self.cluster.source is not None
        reason = self.query_one("#dr-reason", Input).value
        try:
            result = await asyncio.to_thread(kr.execute_rollback, self.cluster.source, self.cluster.audit,
                                             self.plan, reason)
        except Exception as exc:  # a bug: never leave the dialog locked, never claim an outcome
            result = DeploymentRollbackResult(False, "unknown", f"{type(exc).__name__}: {exc}: the outcome is "
                                              "unknown; check the Deployment and the audit log")
        self.result, self.busy = result, False
        message = safe(("✔ " if result.ok else "✖ ") + result.message +
                       (" [outcome unknown]" if result.outcome == "unknown" else ""),
                       "bold green" if result.ok else "bold red", max_len=800)
        self.app.notify(sanitize(result.message, max_len=300), title="Deployment rollback",
                        severity="information" if result.ok else "error", timeout=10, markup=False)
        self.cluster.invalidate(self.key)
        if result.conflict:  # shown, and the plan re-read with the same pinned target; confirm again
            self.query_one("#dr-confirm", Input).value = ""
            self._status(message)
            await self._prepare(self.plan.target_revision, note=message)
            return
        self._status(message)
        self._update_go()
        if result.ok:
            for widget in self.query(Input):
                widget.disabled = True
            self.query_one("#dr-targets", OptionList).disabled = True
            self.progress.start()
            cancel = self.query_one("#dr-cancel", Button)
            cancel.label = Text("Close (the rollout watch goes on)")
            cancel.focus()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(self.result)

