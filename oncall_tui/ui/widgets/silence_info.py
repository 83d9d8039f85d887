"""Who silenced the highlighted alert, why, and until when. Given models; never fetches."""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from rich.text import Text
from textual.widgets import Static

from ...actions.silence_plan import format_duration, strip_token, token_of
from ...models import Alert, Silence, utcnow
from ...safe_text import safe


def until(when: datetime, now: datetime | None = None) -> str:
    now = now or utcnow()
    stamp = when.strftime("%Y-%m-%d %H:%M UTC")
    if when > now:
        return f"{stamp} (in {format_duration(when - now)})"
    return f"{stamp} ({format_duration(now - when)} ago)"


def describe_silence(silence: Silence, now: datetime | None = None) -> Text:
    text = Text(end="")
    text.append("◍ ", style="bold")
    text.append_text(safe(silence.created_by or "(no author)", "bold", single_line=True, max_len=60))
    text.append(f"  {silence.state}\n", style="dim")
    text.append("why   ", style="dim")
    text.append_text(safe(strip_token(silence.comment) or "(no reason)", max_len=400))
    text.append("\nuntil ", style="dim")
    text.append(until(silence.ends_at, now))
    text.append("\n")
    text.append_text(safe(" ".join(str(m) for m in silence.matchers), "dim", max_len=300))
    audit_id = token_of(silence.comment)
    text.append("\n")
    text.append_text(safe(f"id {silence.id}" + (f" · audit {audit_id}" if audit_id else ""), "dim",
                          single_line=True, max_len=80))
    return text


class SilenceInfo(Static):
    """Shown beside the alert detail when the highlighted alert is silenced."""

    DEFAULT_CSS = """
    SilenceInfo {
        width: 44;
        height: 100%;
        padding: 0 1;
        border-left: solid $primary;
        overflow-y: auto;
        display: none;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.alert: Alert | None = None
        self.silences: Mapping[str, Silence] = {}

    def set_silences(self, silences: Mapping[str, Silence]) -> None:
        if silences is not self.silences:
            self.silences = silences
            self._redraw()

    def show_alert(self, alert: Alert | None) -> None:
        self.alert = alert
        self._redraw()

    def _redraw(self) -> None:
        alert = self.alert
        if alert is None or not alert.silenced_by:
            self.display = False
            return
        text = Text("Silenced\n", style="bold underline", end="")
        for i, silence_id in enumerate(alert.silenced_by):
            if i:
                text.append("\n\n")
            silence = self.silences.get(silence_id)
            if silence is None:
                text.append_text(safe(f"silence {silence_id} (details not loaded yet)", "dim", max_len=80))
            else:
                text.append_text(describe_silence(silence))
        self.update(text)
        self.display = True
