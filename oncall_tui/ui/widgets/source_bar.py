"""Status bar: each source's health and the age of its data ("Prometheus · 3 s")."""

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


def render_status(status: SourceStatus) -> Text:
    text = Text(end="")
    if status.health is SourceHealth.OK:
        text.append("● ", style=style("ok"))
        text.append(f"{status.name} · {_ago(status)}")
    elif status.health is SourceHealth.STALE:
        text.append("✖ ", style=style("error"))
        text.append(f"{status.name} · stale {_ago(status)}", style=style("error"))
        text.append(" · ")
        text.append_text(safe(status.error, single_line=True, max_len=80))
    elif status.health is SourceHealth.NOT_CONFIGURED:
        text.append(f"○ {status.name} · not configured", style="dim")
    else:
        text.append(f"… {status.name} · connecting", style="dim")
    if status.detail:
        text.append(" · ")
        text.append_text(safe(status.detail, single_line=True, max_len=60))
    return text


class SourceBar(Static):
    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.statuses: dict[str, SourceStatus] = {}
        self.note = Text(end="")

    def set_status(self, status: SourceStatus) -> None:
        self.statuses[status.name] = status
        self.redraw()

    def set_note(self, note: Text) -> None:
        self.note = note
        self.redraw()

    def redraw(self) -> None:
        line = Text(end="")
        for i, status in enumerate(self.statuses.values()):
            if i:
                line.append("  │  ", style="dim")
            line.append_text(render_status(status))
        if self.note.plain:
            line.append("  │  ", style="dim")
            line.append_text(self.note)
        self.update(line, layout=False)  # one row whatever it says: no relayout of the screen
