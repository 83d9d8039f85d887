"""The highlighted alert's model in the MLflow registry: which version serves, the one before it, how old.

A widget that is *given* what to show (ModelServing or an error line); the fetching is done by the app's
registry workers (ui/registry_ui.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from ...models import ModelServing, ModelVersion, utcnow
from ...safe_text import safe

if TYPE_CHECKING:
    from ...sources.registry import RegistryError

KEY_METRIC_HINTS = ("val_accuracy", "accuracy", "val_auc", "auc", "val_f1", "f1", "ndcg", "precision", "recall",
                    "rmse", "loss")
MAX_METRICS = 3


def days_since(when: datetime | None, now: datetime | None = None) -> float | None:
    if when is None:
        return None
    return max(0.0, ((now or utcnow()) - when).total_seconds() / 86400)


def _days(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.1f} d" if value < 10 else f"{value:.0f} d"


def key_metrics(metrics, limit: int = MAX_METRICS) -> list[tuple[str, float]]:
    """The metrics worth a glance: validation-looking ones first, then alphabetical."""
    def rank(name: str) -> tuple[int, str]:
        lower = name.lower()
        for i, hint in enumerate(KEY_METRIC_HINTS):
            if lower == hint or lower.startswith(hint) or hint in lower:
                return (i, lower)
        return (len(KEY_METRIC_HINTS), lower)

    return [(name, metrics[name]) for name in sorted(metrics, key=rank)[:limit]]


def metrics_line(metrics) -> Text:
    text = Text(end="")
    for i, (name, value) in enumerate(key_metrics(metrics)):
        if i:
            text.append(" · ", style="dim")
        text.append_text(safe(name, "dim", single_line=True, max_len=30))
        text.append(f" {value:.4g}" if isinstance(value, (int, float)) else " ?")
    return text


def _version_lines(label: str, version: ModelVersion, now: datetime, style: str = "") -> Text:
    text = Text(end="")
    text.append(label, style="bold")
    text.append_text(safe(f"v{version.version}", f"bold {style}".strip(), single_line=True, max_len=20))
    text.append("  ")
    text.append_text(safe(version.status or "?", single_line=True, max_len=24))
    if version.trained_at:
        text.append(f"  trained {_days(days_since(version.trained_at, now))} ago")
    text.append("\n  ")
    created = version.created_at.strftime("%Y-%m-%d %H:%M") if version.created_at else "?"
    text.append(f"created {created}", style="dim")
    if version.run_id:
        text.append(" · run ", style="dim")
        text.append_text(safe(version.run_id[:12], single_line=True))
    text.append("\n")
    if version.metrics:
        text.append("  ")
        text.append_text(metrics_line(version.metrics))
        text.append("\n")
    elif version.run_error:
        text.append_text(safe(f"  source run unavailable ({version.run_error}): no metrics\n", "dim"))
    return text


def describe_serving(serving: ModelServing, now: datetime | None = None, *, can_roll_back: bool = True,
                     warnings: list[str] | tuple[str, ...] = ()) -> Text:
    now = now or utcnow()
    text = Text(end="")
    for warning in warnings:
        text.append(f"⚠ {warning}\n", style="bold red")
    text.append("MLflow · ", style="dim")
    text.append_text(safe(serving.model.name, "bold", single_line=True, max_len=60))
    text.append("\n")
    alias = serving.alias
    current = serving.serving
    if current is None:
        text.append("no ")
        text.append_text(safe(alias, "bold", single_line=True, max_len=40))
        text.append(" alias: no version serves from the registry\n")
        return text
    text.append_text(_version_lines(f"{alias} → ", current, now, "green"))
    if serving.previous is not None:
        text.append_text(_version_lines("previous ", serving.previous, now))
        text.append("  (")
        text.append_text(safe(serving.previous_why, "dim", single_line=True, max_len=80))
        text.append(")\n")
    else:
        text.append("previous: none ", style="bold")
        text.append_text(safe(f"({serving.previous_why})" if serving.previous_why else "", "dim", single_line=True))
        text.append("\n")
    stale = days_since(current.trained_at or current.created_at, now)  # registration when the run is unknown
    basis = "training" if current.trained_at else "registration"
    text.append(f"staleness {_days(stale)}", style="bold")
    text.append(f" (since {basis})\n", style="dim")
    if can_roll_back and serving.previous is not None:
        text.append("R", style="bold")
        text.append(" roll back to ")
        text.append_text(safe(f"v{serving.previous.version}", single_line=True, max_len=20))
        text.append(" · ")
    text.append("m", style="bold")
    text.append(" models")
    return text


class ModelPanel(Static):
    """Shows one model's registry state; `show_*` are called by the registry workers' callbacks."""

    DEFAULT_CSS = """
    ModelPanel {
        width: 52;
        height: 100%;
        padding: 0 1;
        border-left: solid $primary;
        overflow-y: auto;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(Text("No model selected.", style="dim"), **kwargs)
        self.model_name = ""
        self.serving: ModelServing | None = None
        self.error = ""

    def show_message(self, message: str, model: str = "", *, error: bool = False) -> None:
        """The program's own sentence, with the (remote) model name kept literal."""
        self.model_name, self.serving, self.error = model, None, message if error else ""
        text = Text(end="")
        if model:
            text.append("MLflow · ", style="dim")
            text.append_text(safe(model, "bold", single_line=True, max_len=60))
            text.append("\n")
        text.append_text(safe(("✖ " if error else "") + message, "bold" if error else "dim", max_len=600))
        self.update(text)

    def show_serving(self, serving: ModelServing, *, can_roll_back: bool = True,
                     warnings: list[str] | tuple[str, ...] = ()) -> None:
        self.model_name, self.serving, self.error = serving.model.name, serving, ""
        self.update(describe_serving(serving, can_roll_back=can_roll_back, warnings=warnings))


def error_line(exc: RegistryError, model: str, where: str) -> str:
    """One clear sentence for the panel about why the model cannot be shown."""
    from ...sources.registry import NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED

    if exc.kind == NOT_FOUND:
        return f"{model} is not in the MLflow registry at {where}"
    if exc.kind == PERMISSION_DENIED:
        return f"MLflow registry refused access (403 permission denied; READ on the model is needed): {exc.message}"
    if exc.kind == UNAUTHENTICATED:
        return "MLflow registry wants credentials (MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD)"
    return f"MLflow registry unavailable ({exc.kind}): {exc.message}"
