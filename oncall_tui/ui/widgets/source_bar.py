"""Status bar: each source's health and the age of its data ("Prometheus · 3 s").

With several clusters it folds to one line, "9/10 clusters ok · eu-prod stale 2 min · connection refused",
and `expanded` shows one line per cluster with each of its sources.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...models import SourceHealth, SourceStatus, utcnow
from ...safe_text import safe
from ..cells import style


def _ago(status: SourceStatus) -> str:
    if status.last_success is None:
        return "never"
    seconds = int((utcnow() - status.last_success).total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _stale(status: SourceStatus) -> str:
    """"stale 2 min" (the age of the last good data), or "unreachable" when it never answered."""
    return "unreachable" if status.last_success is None else f"stale {_ago(status)}"


def render_status(status: SourceStatus, brief: bool = False) -> Text:
    """"● Prometheus · 3 s", "✖ Alertmanager · stale 2 min · <error> · <detail>"; `brief`: no error, no detail."""
    text = Text(end="")
    if status.health is SourceHealth.OK:
        text.append("● ", style=style("ok"))
        text.append(f"{status.name} · {_ago(status)}")
    elif status.health is SourceHealth.STALE:
        text.append("✖ ", style=style("error"))
        text.append(f"{status.name} · {_stale(status)}", style=style("error"))
        if not brief:
            text.append(" · ")
            text.append_text(safe(status.error, single_line=True, max_len=80))
    elif status.health is SourceHealth.NOT_CONFIGURED:
        text.append(f"○ {status.name} · not configured", style="dim")
    else:
        text.append(f"… {status.name} · connecting", style="dim")
    if status.detail and not brief:
        text.append(" · ")
        text.append_text(safe(status.detail, single_line=True, max_len=60))
    return text


def fold_clusters(clusters: dict[str, dict[str, SourceStatus]]) -> Text:
    """"9/10 clusters ok · eu-prod stale 2 min · connection refused": the stalest cluster named."""
    stale = {name: [s for s in sts.values() if s.health is SourceHealth.STALE] for name, sts in clusters.items()}
    waiting = [n for n, sts in clusters.items()
               if not stale[n] and not any(s.health is SourceHealth.OK for s in sts.values())]
    bad = {n: ss for n, ss in stale.items() if ss}
    ok = len(clusters) - len(bad) - len(waiting)
    text = Text(end="")
    text.append("● " if not bad else "✖ ", style=style("ok" if not bad else "error"))
    text.append(f"{ok}/{len(clusters)} clusters ok")
    if waiting:
        text.append(f" · {len(waiting)} connecting", style="dim")
    order = sorted(bad, key=lambda n: min((s.last_success or utcnow().replace(year=1970)) for s in bad[n]))
    for i, name in enumerate(order[:2]):
        worst = min(bad[name], key=lambda s: s.last_success or utcnow().replace(year=1970))
        text.append(" · ")
        text.append_text(safe(name, style("error"), single_line=True, max_len=40))
        text.append(f" {_stale(worst)}", style=style("error"))
        if i == 0:
            text.append(" · ")
            text.append_text(safe(f"{worst.name}: {worst.error}", single_line=True, max_len=60))
    if len(order) > 2:
        text.append(f" · +{len(order) - 2} more stale", style=style("error"))
    return text


class SourceBar(Static):
    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.statuses: dict[str, SourceStatus] = {}  # the one cluster's sources (no [[clusters]])
        self.clusters: dict[str, dict[str, SourceStatus]] = {}  # cluster name → its sources' statuses
        self.expanded = False  # one line per cluster instead of the folded summary
        self.note = Text(end="")

    @property
    def folds(self) -> bool:
        return len(self.clusters) > 1

    def set_status(self, status: SourceStatus, cluster: str = "") -> None:
        if cluster:
            self.clusters.setdefault(cluster, {})[status.name] = status
        else:
            self.statuses[status.name] = status
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def set_note(self, note: Text) -> None:
        self.note = note
        self.redraw()

    def toggle(self) -> None:
        self.expanded = not self.expanded
        self.styles.height = 1 + len(self.clusters) if self.expanded and self.folds else 1
        self.redraw(layout=True)

    def _first_line(self, brief: bool) -> Text:
        parts = [render_status(s, brief) for s in self.statuses.values()]
        if self.clusters:
            parts.insert(0, fold_clusters(self.clusters))
        if self.note.plain:
            parts.append(self.note)
        if brief:  # every source's health fits; then the first error, as much of it as fits
            failed = [s for s in self.statuses.values() if s.health is SourceHealth.STALE]
            if failed:
                parts.append(safe(f"{failed[0].name}: {failed[0].error}", single_line=True, max_len=200))
        line = Text(end="")
        for i, part in enumerate(parts):
            if i:
                line.append("  │  ", style="dim")
            line.append_text(part)
        return line

    def redraw(self, layout: bool = False) -> None:
        width = self.size.width
        line = self._first_line(brief=False)
        failing = any(s.health is SourceHealth.STALE for s in self.statuses.values())
        if failing and width and line.cell_len > width:  # a long error must not push the others off the edge
            line = self._first_line(brief=True)
        lines = [line]
        if self.expanded and self.folds:
            for name, statuses in self.clusters.items():
                lines.append(safe(name, "bold", single_line=True, max_len=40))
                for status in statuses.values():
                    lines[-1].append("  │  ", style="dim")
                    lines[-1].append_text(render_status(status))
        for one in lines:  # one row each, cut at the edge (a wrapped first line would hide the last cluster)
            if width:
                one.truncate(width, overflow="ellipsis")
        line = Text("\n", end="").join(lines)
        self.update(line, layout=layout)  # one row (unless expanded) whatever it says: no relayout
