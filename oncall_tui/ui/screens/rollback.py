"""`R`: roll back. First choose what to roll back (kinds register here), then plan → confirm → execute.

Extension point: another kind (the Kubernetes Deployment rollback) adds itself with
`register_rollback_kind(RollbackKind("deployment", "Deployment …", unavailable=…, open=…))` from its own
module; until then the chooser shows it disabled. The registry kind is defined at the bottom.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...actions.rollback import PlanError, execute_registry_rollback, plan_registry_rollback
from ...models import Alert, ModelVersion, RegistryRollbackPlan, RegistryRollbackResult
from ...safe_text import safe, sanitize
from ..widgets.model_panel import metrics_line
from .typed_confirm import TypedConfirmDialog

if TYPE_CHECKING:
    from ..registry_ui import RegistryUI


@dataclass(frozen=True)
class RollbackKind:
    key: str  # "registry", "deployment"
    label: str  # the chooser's button
    unavailable: Callable[[App, Alert | None], str]  # "" when usable, else why not (shown on the button)
    open: Callable[[App, Alert | None], None]  # opens this kind's plan/confirm dialog


ROLLBACK_KINDS: dict[str, RollbackKind] = {}
# Kinds the chooser mentions (disabled) until their module registers them.
PLANNED_KINDS = {"deployment": "Deployment: undo the Kubernetes rollout (not available in this build)"}


def register_rollback_kind(kind: RollbackKind) -> None:
    ROLLBACK_KINDS[kind.key] = kind


def open_rollback(app: App, alert: Alert | None) -> None:
    from ...incidents import is_drill

    if alert is not None and is_drill(alert.labels):  # production is never touched for a synthetic alert
        app.notify("DRILL: rollbacks are refused for a fire-drill alert (it is synthetic; production is fine).",
                   severity="error", markup=False, timeout=8)
        return

    def chosen(key: str | None) -> None:
        if key in ROLLBACK_KINDS:
            ROLLBACK_KINDS[key].open(app, alert)

    app.push_screen(RollbackChooser(app, alert), chosen)


class RollbackChooser(ModalScreen[str | None]):
    DEFAULT_CSS = """
    RollbackChooser { align: center middle; }
    RollbackChooser > Vertical { width: 80; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    RollbackChooser Button { width: 1fr; margin-bottom: 1; }
    RollbackChooser #rk-title { text-style: bold; margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, app: App, alert: Alert | None) -> None:
        super().__init__()
        self.alert = alert
        self.choices: list[tuple[str, str, str]] = []  # (key, label, why unavailable)
        for key, kind in ROLLBACK_KINDS.items():
            self.choices.append((key, kind.label, kind.unavailable(app, alert)))
        for key, label in PLANNED_KINDS.items():
            if key not in ROLLBACK_KINDS:
                self.choices.append((key, label, "not available"))

    def compose(self) -> ComposeResult:
        with Vertical():
            title = Text("Roll back", end="")
            if self.alert is not None:
                title.append(" · alert ")
                title.append_text(safe(self.alert.name, single_line=True, max_len=60))
            yield Label(title, id="rk-title")
            for key, label, why in self.choices:
                text = Text(label, end="")
                if why and why != "not available":
                    text.append(f" ({why})")
                yield Button(safe(text.plain, single_line=True, max_len=120), id=f"kind-{key}", disabled=bool(why))
            yield Button(Text("Cancel"), id="kind-cancel")

    def on_mount(self) -> None:
        usable = [b for b in self.query(Button) if not b.disabled]
        usable[0].focus()  # the first usable kind (Cancel when none is)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        key = (event.button.id or "").removeprefix("kind-")
        self.dismiss(None if key == "cancel" else key)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _option(version: ModelVersion, plan: RegistryRollbackPlan) -> Text:
    text = Text(end="")
    text.append_text(safe(f"v{version.version}", "bold", single_line=True, max_len=20))
    text.append("  ")
    text.append_text(safe(version.status, single_line=True, max_len=20))
    if version.created_at:
        text.append(f"  created {version.created_at:%Y-%m-%d %H:%M}", style="dim")
    if version.metrics:
        text.append("  ")
        text.append_text(metrics_line(version.metrics))
    if version.version == plan.target:
        text.append("  ← default", style="bold")
    if version.version == plan.undo_of:
        text.append(f"  ← undo (mlcall moved {plan.alias} here from it)", style="bold")
    return text


class RegistryRollbackScreen(TypedConfirmDialog[RegistryRollbackResult | None]):
    """Plan (current → target, selectable), confirm by typing the model name, then execute."""

    DEFAULT_CSS = """
    RegistryRollbackScreen { align: center middle; }
    RegistryRollbackScreen > #rb-dialog {
        width: 100; max-width: 98%; height: auto; max-height: 95%;
        border: thick $error; background: $surface; padding: 1 2;
    }
    RegistryRollbackScreen #rb-title { text-style: bold; margin-bottom: 1; }
    RegistryRollbackScreen #rb-targets { height: auto; max-height: 8; margin: 1 0; }
    RegistryRollbackScreen Input { margin-bottom: 1; }
    RegistryRollbackScreen #rb-status { height: auto; margin-bottom: 1; }
    RegistryRollbackScreen #rb-buttons { height: auto; align-horizontal: right; }
    RegistryRollbackScreen Button { margin-left: 2; }
    """
    PREFIX = "rb"
    RUNNING = "Rolling back: audit intent → re-read alias → set → read back…"
    RUN_GROUP = "rollback-run"

    def __init__(self, registry: RegistryUI, model: str, *, reason: str = "") -> None:
        super().__init__()
        self.registry = registry
        self.model = model
        self.reason = sanitize(reason, single_line=True, max_len=200)
        self.plan: RegistryRollbackPlan | None = None
        self.target = ""
        self.result: RegistryRollbackResult | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="rb-dialog"):
            title = Text("Roll back the registry alias · ", end="")
            title.append_text(safe(self.model, "bold", single_line=True, max_len=80))
            yield Label(title, id="rb-title")
            yield Static(Text("Reading the registry…", style="dim"), id="rb-plan")
            yield OptionList(id="rb-targets")
            hint = Text("Type the model name to confirm: ", end="")
            hint.append_text(safe(self.model, "bold", single_line=True, max_len=80))
            yield Label(hint, id="rb-hint")
            yield Input(id="rb-confirm")
            yield Input(value=self.reason, placeholder="reason (required; written to the audit log)", id="rb-reason")
            yield Static("", id="rb-status")
            with Horizontal(id="rb-buttons"):
                yield Button(Text("Cancel"), id="rb-cancel")
                yield Button(Text("Roll back"), id="rb-go", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#rb-targets", OptionList).display = False
        self.run_worker(self._make_plan, group="rollback-plan", exclusive=True, exit_on_error=False)

    async def _make_plan(self) -> None:
        source = self.registry.source
        if source is None:
            self._status(Text("✖ MLflow registry not configured", style="bold red"))
            return
        try:
            plan = await asyncio.to_thread(plan_registry_rollback, source, self.model, self.registry.alias)
        except PlanError as exc:
            self.query_one("#rb-plan", Static).update(Text(""))
            self._status(safe(f"✖ {exc}", "bold red", max_len=600))
            return
        self.plan = plan
        self.target = plan.target
        options = self.query_one("#rb-targets", OptionList)
        options.add_options([Option(_option(v, plan), id=v.version) for v in plan.candidates])
        options.display = True
        if plan.target:
            options.highlighted = next(i for i, v in enumerate(plan.candidates) if v.version == plan.target)
        self._show_plan()

    def _show_plan(self) -> None:
        plan = self.plan
        if plan is None:
            return
        text = Text(end="")
        for warning in self.registry.warnings:
            text.append(f"⚠ {warning}\n", style="bold red")
        text.append("registry ", style="dim")
        text.append_text(safe(plan.registry, single_line=True, max_len=100))
        text.append("\n")
        text.append_text(safe(plan.alias, "bold", single_line=True, max_len=40))
        text.append(": ")
        text.append_text(safe(f"v{plan.current}", "bold", single_line=True))
        text.append(" → ")
        if self.target:
            text.append_text(safe(f"v{self.target}", "bold green", single_line=True))
            if self.target == plan.target:
                text.append("  (")
                text.append_text(safe(plan.target_why, single_line=True, max_len=100))
                text.append(")")
            elif self.target == plan.undo_of:
                text.append("  (undo: the version this tool moved the alias away from)")
        else:
            text.append_text(safe(plan.target_why, "bold", single_line=True, max_len=100))
        if plan.undo_of and self.target != plan.undo_of:
            text.append("\nto undo the last move of ")
            text.append_text(safe(plan.alias, single_line=True, max_len=40))
            text.append(" by mlcall, choose ")
            text.append_text(safe(f"v{plan.undo_of}", "bold", single_line=True))
        text.append("\n↑/↓ in the list to choose another READY version", style="dim")
        self.query_one("#rb-plan", Static).update(text)
        self._update_go()

    def _confirmed(self) -> bool:
        typed = self.query_one("#rb-confirm", Input).value.strip()
        reason = self.query_one("#rb-reason", Input).value.strip()
        return bool(self.plan and self.target and typed == self.model and reason and not self.busy
                    and self.result is None)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.result is None and not self.busy:
            self.target = event.option.id or ""
            self._show_plan()

    async def _execute(self) -> None:
        assert self.plan is not None and self.registry.source is not None
        reason = self.query_one("#rb-reason", Input).value
        result = await asyncio.to_thread(execute_registry_rollback, self.registry.source, self.registry.audit,
                                         self.plan, self.target, reason)
        self.result, self.busy = result, False
        style = "bold green" if result.ok else "bold red"
        self._status(safe(("✔ " if result.ok else "✖ ") + result.message + ("" if result.ok or result.outcome != "unknown"
                          else " [outcome unknown]"), style, max_len=800))
        for widget in self.query(Input):
            widget.disabled = True
        self.query_one("#rb-targets", OptionList).disabled = True
        self._update_go()
        cancel = self.query_one("#rb-cancel", Button)
        cancel.label = Text("Close")
        cancel.focus()
        self.registry.invalidate(self.model)
        self.app.notify(sanitize(result.message, max_len=300), title="Registry rollback",
                        severity="information" if result.ok else "error", timeout=10, markup=False)

    def action_cancel(self) -> None:
        if not self.busy:  # while it runs, the dialog stays: the result must be seen
            self.dismiss(self.result)


def _registry_unavailable(app: App, alert: Alert | None) -> str:
    registry = getattr(app, "registry", None)
    if registry is None or registry.source is None:
        return "MLflow registry not configured"
    if not registry.model_of(alert):
        return f"the alert has no '{app.settings.model_label}' label"
    return ""


def _open_registry(app: App, alert: Alert | None) -> None:
    registry = app.registry
    reason = f"alert {alert.name}" if alert is not None and alert.name else ""
    app.push_screen(RegistryRollbackScreen(registry, registry.model_of(alert), reason=reason))


register_rollback_kind(RollbackKind(
    "registry", "Registry: move the serving alias (MLflow) back to an earlier version",
    unavailable=_registry_unavailable, open=_open_registry))

from . import deployment_rollback  # noqa: E402,F401  registers the "deployment" and "both" kinds
