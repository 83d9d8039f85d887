"""Everything known about the highlighted alert: labels, annotations, times, where it came from."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...grouping import cluster_counts
from ...incidents import is_drill
from ...models import Alert, AlertGroup
from ...safe_text import safe
from ..cells import age, severity_cell, state_cell


def describe(alert: Alert, group: AlertGroup | None = None, trigger: Text | None = None) -> Text:
    text = Text(end="")
    text.append_text(severity_cell(alert.severity))
    text.append("  ")
    text.append_text(safe(alert.name, "bold", single_line=True, max_len=120))
    text.append("  ")
    text.append_text(state_cell(alert.state))
    if group is not None and group.count > 1:
        text.append(f"  ({group.count} alerts in this group)", style="dim")
    text.append("\n")
    if is_drill(alert.labels):
        text.append("DRILL", style="bold reverse")
        text.append(" fire drill: a synthetic alert from `mlcall-tui drill`, not production; rollbacks are refused\n",
                    style="bold")
    if alert.summary:
        text.append_text(safe(alert.summary, max_len=1000))
        text.append("\n")
    started = alert.starts_at.strftime("%Y-%m-%d %H:%M:%S UTC") if alert.starts_at else "unknown"
    text.append(f"since {started} ({age(alert.starts_at)} ago) · from {alert.source}", style="dim")
    if alert.cluster:  # several clusters: whose alert, and for a group, how many in each cluster
        text.append(" of cluster ", style="dim")
        text.append_text(safe(alert.cluster, "bold", single_line=True, max_len=40))
        if group is not None and group.count > 1:
            text.append("\n")
            text.append_text(safe("per cluster: " + cluster_counts(group), "dim", max_len=400))
    if trigger is not None:  # the change nearest before the start (ui/changes_ui.py)
        text.append("\n")
        text.append_text(trigger)
    text.append("\n\n")
    text.append("Labels\n", style="bold underline")
    for key, value in sorted(alert.labels.items()):
        text.append_text(safe(key, "bold", single_line=True, max_len=80))
        text.append(" = ")
        text.append_text(safe(value, single_line=True, max_len=300))
        text.append("\n")
    if alert.annotations:
        text.append("Annotations\n", style="bold underline")
        for key, value in sorted(alert.annotations.items()):
            text.append_text(safe(key, "bold", single_line=True, max_len=80))
            text.append(": ")
            text.append_text(safe(value, max_len=2000))
            text.append("\n")
    if alert.silenced_by:
        text.append("Silenced by ", style="bold")
        text.append_text(safe(", ".join(alert.silenced_by), single_line=True, max_len=300))
        text.append("\n")
    if alert.inhibited_by:
        text.append("Inhibited by ", style="bold")
        text.append_text(safe(", ".join(alert.inhibited_by), single_line=True, max_len=300))
        text.append("\n")
    if alert.receivers:
        text.append("Receivers ", style="bold")
        text.append_text(safe(", ".join(alert.receivers), single_line=True, max_len=300))
        text.append("\n")
    if alert.generator_url:
        text.append("Source ", style="bold")
        text.append_text(safe(alert.generator_url, single_line=True, max_len=500))
        text.append("\n")
    return text


class AlertDetail(Static):
    """A read-only panel; it is given alerts, it never fetches."""

    def __init__(self, **kwargs) -> None:
        super().__init__(Text("No alert selected.", style="dim"), **kwargs)
        self.alert: Alert | None = None
        self.group: AlertGroup | None = None
        self.trigger: Text | None = None
        self.shown_age = ""

    def show(self, alert: Alert | None, group: AlertGroup | None = None) -> None:
        if alert == self.alert and alert is not None:
            return
        if alert is None or self.alert is None or alert.fingerprint != self.alert.fingerprint:
            self.trigger = None
        self.alert, self.group = alert, group
        self.shown_age = age(alert.starts_at) if alert else ""
        self.update(describe(alert, group, self.trigger) if alert else Text("No alert selected.", style="dim"))

    def show_trigger(self, fingerprint: str, trigger: Text | None) -> None:
        """The likely trigger of the shown alert (program text plus safe remote text), or None."""
        if self.alert is None or self.alert.fingerprint != fingerprint or trigger == self.trigger:
            return
        self.trigger = trigger
        self.update(describe(self.alert, self.group, trigger))

    def refresh_age(self) -> None:
        """"since … (N ago)" moves with the clock, like the table's Age column (redrawn when it changed)."""
        if self.alert is not None and age(self.alert.starts_at) != self.shown_age:
            self.shown_age = age(self.alert.starts_at)
            self.update(describe(self.alert, self.group, self.trigger))
