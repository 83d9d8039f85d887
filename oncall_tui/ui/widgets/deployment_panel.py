"""The highlighted alert's Kubernetes Deployment: replicas, revision, images, the current ReplicaSet's age,
and its pods (phase, restarts, last termination reason, node). Given models by ui/cluster_ui.py; never
fetches. Every remote string goes through `safe()`."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from ...models import DeploymentView, Pod, RolloutStatus, utcnow
from ...safe_text import safe
from ..cells import age

MAX_PODS = 8


def bar(done: int, total: int, width: int = 12) -> str:
    filled = 0 if total <= 0 else min(width, round(width * done / total))
    return "█" * filled + "░" * (width - filled)


BAD_REASONS = {"CrashLoopBackOff", "OOMKilled", "Error", "ImagePullBackOff", "ErrImagePull"}


def _pod_line(pod: Pod, prefix: str, now: datetime) -> Text:
    """`name phase [not ready] ↻N @node`, then one indented line per container with a problem:
    `CrashLoopBackOff · last OOMKilled (137) 2m ago` (the cause of a crash loop is the last death)."""
    text = Text(end="")
    name = pod.name[len(prefix):] if prefix and pod.name.startswith(prefix) else pod.name
    troubled = [c for c in pod.containers if c.troubled]
    bad = any(c.reason in BAD_REASONS or c.last_reason in BAD_REASONS for c in troubled)
    text.append_text(safe(name, "bold" if bad or not pod.ready else "", single_line=True, max_len=24))
    text.append(" ")
    text.append_text(safe(pod.phase or "?", "" if pod.phase == "Running" else "bold", single_line=True, max_len=12))
    if not pod.ready:
        text.append(" not ready", style="bold")
    text.append(f" ↻{pod.restarts}", style="bold" if pod.restarts else "dim")
    if pod.node:
        text.append(" @", style="dim")
        text.append_text(safe(pod.node, "dim", single_line=True, max_len=24))
    for c in troubled:
        text.append("\n  ")
        if len(pod.containers) > 1:
            text.append_text(safe(c.name, "dim", single_line=True, max_len=20))
            text.append(": ", style="dim")
        worst = c.reason in BAD_REASONS or c.last_reason in BAD_REASONS
        text.append_text(safe(c.status_text(now), "bold reverse" if worst else "bold", single_line=True, max_len=90))
    return text


def rollout_line(status: RolloutStatus) -> Text:
    text = Text("rollout ", style="bold", end="")
    text.append(bar(status.updated if not status.done else status.desired, status.desired))
    text.append(f" {status.updated}/{status.desired} updated · {status.ready} ready · {status.available} available\n")
    style = "bold reverse" if status.failed else ("bold" if status.done else "dim")
    text.append_text(safe(("✖ " if status.failed else "✔ " if status.done else "… ") + status.message, style,
                          single_line=True, max_len=160))
    return text


def describe_view(view: DeploymentView, now: datetime | None = None, *, rollback_note: str = "",
                  rollout: RolloutStatus | None = None) -> Text:
    now = now or utcnow()
    d = view.deployment
    text = Text("Kubernetes · ", style="dim", end="")
    text.append_text(safe(f"{d.namespace}/{d.name}", "bold", single_line=True, max_len=70))
    if view.context:
        text.append(" (", style="dim")
        text.append_text(safe(view.context, "dim", single_line=True, max_len=30))
        text.append(")", style="dim")
    text.append("\n")
    short = d.available_replicas < d.replicas
    text.append(f"replicas {d.replicas} desired · {d.updated_replicas} updated · {d.ready_replicas} ready · ",
                style="")
    text.append(f"{d.available_replicas} available", style="bold reverse" if short else "")
    text.append("\n")
    current = view.current
    text.append(f"revision {d.revision}", style="bold")
    if d.paused:
        text.append(" PAUSED", style="bold reverse")
    if current is not None:
        text.append(" · rs ")
        text.append_text(safe(current.name, single_line=True, max_len=50))
        text.append(f" · {age(current.created_at, now)} old", style="dim")
    text.append("\n")
    for image in d.images:
        text.append("image ", style="dim")
        text.append_text(safe(image, single_line=True, max_len=90))
        text.append("\n")
    progressing = d.condition("Progressing")
    if progressing and progressing[2] == "ProgressDeadlineExceeded":
        text.append("✖ ProgressDeadlineExceeded\n", style="bold reverse")
    if rollout is not None:
        text.append_text(rollout_line(rollout))
        text.append("\n")
    text.append(f"pods ({len(view.pods)})\n", style="bold underline")
    prefix = f"{d.name}-"
    for pod in view.pods[:MAX_PODS]:
        text.append_text(_pod_line(pod, prefix, now))
        text.append("\n")
    if len(view.pods) > MAX_PODS:
        text.append(f"… {len(view.pods) - MAX_PODS} more (d diagnose)\n", style="dim")
    if not view.pods:
        text.append("no pods\n", style="dim")
    text.append("d", style="bold")
    text.append(" diagnose")
    if rollback_note:
        text.append(" · ")
        text.append_text(safe(rollback_note, "dim", max_len=300))
    return text


class DeploymentPanel(Static):
    """Shows one Deployment, or one sentence about why it cannot be shown."""

    DEFAULT_CSS = """
    DeploymentPanel {
        width: 1fr;
        min-width: 30;
        max-width: 60;
        height: 100%;
        padding: 0 1;
        border-left: solid $primary;
        overflow-y: auto;
    }
    DeploymentPanel.-quiet {
        width: 18;
        min-width: 0;
        color: $text-muted;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(Text("Kubernetes: no alert selected.", style="dim"), **kwargs)
        self.view: DeploymentView | None = None
        self.message = ""

    def show_message(self, message: str, target: str = "", *, error: bool = False, quiet: bool = False) -> None:
        """The program's own sentence; `target` (namespace/name, remote) is kept literal."""
        self.view, self.message = None, message
        self.set_class(quiet, "-quiet")
        text = Text("Kubernetes", style="dim", end="")
        if target:
            text.append(" · ", style="dim")
            text.append_text(safe(target, "bold", single_line=True, max_len=70))
        text.append("\n")
        text.append_text(safe(("✖ " if error else "") + message, "bold" if error else "dim", max_len=600))
        self.update(text)

    def show_view(self, view: DeploymentView, *, rollback_note: str = "", rollout: RolloutStatus | None = None) -> None:
        self.view, self.message = view, ""
        self.set_class(False, "-quiet")
        self.update(describe_view(view, rollback_note=rollback_note, rollout=rollout))
