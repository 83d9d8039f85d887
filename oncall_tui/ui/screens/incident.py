"""`i`: the incident timeline of an alert or group: what happened when (absolute UTC and relative to the
start), MTTA and MTTR; `w` writes the Markdown incident note; `e` ends a fire drill.

The screen gets a loader (an async callable returning a Timeline), where to write notes, and for drills a
resolve callback: it never reaches into the app for a feature.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ...incidents.markdown import render
from ...incidents.timeline import Timeline, span, utc
from ...safe_text import safe
from ..keys import with_ids
from ..saved_markdown import save_markdown, slug
from ..widgets.confirm import ConfirmModal

KIND_STYLE = {"ack": "bold", "silence": "bold", "other-silence": "bold", "step": "", "rollback": "bold",
              "resolved": "bold", "resolve": "bold", "firing": "bold"}
OWN_WORDS = {"start", "seen", "pending", "firing", "inactive", "resolved", "look"}  # texts that are all ours


def note_path(directory: Path, t: Timeline, now: datetime) -> Path:
    name = slug(f"{t.name}-{t.model}" if t.model else t.name)
    return directory / f"incident-{name or 'alert'}-{now.strftime('%Y%m%d-%H%M%S')}.md"


class IncidentScreen(Screen):
    DEFAULT_CSS = """
    IncidentScreen #in-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    IncidentScreen #in-summary { height: auto; padding: 0 1; }
    IncidentScreen #in-events { height: 1fr; }
    IncidentScreen #in-saved { height: auto; padding: 0 1; }
    """
    BINDINGS = with_ids("incident", [
        Binding("w", "save", "Save Markdown", tooltip="Write the incident note (postmortem skeleton) as Markdown"),
        Binding("e", "end_drill", "End drill", tooltip="Fire drill: mark it resolved (the drill command stops)"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
    ])

    def __init__(self, name: str, load: Callable[[], Awaitable[Timeline]], *, export_dir: Path,
                 resolve: Callable[[str], None] | None = None, refresh: float = 5.0) -> None:
        super().__init__()
        self.alert_name = name
        self.load = load
        self.export_dir = export_dir
        self.resolve = resolve
        self.refresh_every = refresh
        self.timeline: Timeline | None = None
        self.saved: Path | None = None

    def compose(self) -> ComposeResult:
        title = Text("Incident · ", end="")
        title.append_text(safe(self.alert_name, single_line=True, max_len=80))
        yield Static(title, id="in-title")
        yield Static(Text("Loading the timeline…", style="dim"), id="in-summary")
        yield DataTable(id="in-events", cursor_type="row", zebra_stripes=False)
        yield Static("", id="in-saved")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#in-events", DataTable)
        for key, label, width in (("utc", "Time (UTC)", 23), ("rel", "Since start", 11), ("event", "Event", 44),
                                  ("by", "By", 18), ("details", "Reason / details", None)):
            table.add_column(label, key=key, width=width)
        table.focus()
        self.action_reload()
        self.set_interval(self.refresh_every, self.action_reload)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "end_drill":
            return self.resolve is not None  # only drills, never in read-only mode
        return True

    # -- loading ---------------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.run_worker(self._load(), group="incident-load", exclusive=True, exit_on_error=False)

    async def _load(self) -> None:
        try:
            t = await self.load()
        except Exception as exc:  # a broken backend must not close the screen
            self.query_one("#in-summary", Static).update(safe(f"Timeline not loaded: {exc}", "bold", max_len=300))
            return
        if t == self.timeline:
            return
        self.timeline = t
        self._show(t)

    def _show(self, t: Timeline) -> None:
        title = Text("Incident · ", end="")
        title.append_text(safe(t.name, single_line=True, max_len=80))
        if t.model:
            title.append(" · model ")
            title.append_text(safe(t.model, single_line=True, max_len=60))
        if t.alerts > 1:
            title.append(f" · {t.alerts} alerts")
        if t.drill:
            title.append("  DRILL", style="bold reverse")
        self.query_one("#in-title", Static).update(title)
        self.query_one("#in-summary", Static).update(summary(t))
        table = self.query_one("#in-events", DataTable)
        row = table.cursor_row
        table.clear()
        for e in t.events:
            event = Text(e.text, style=KIND_STYLE.get(e.kind, ""), end="") if e.kind in OWN_WORDS else \
                safe(e.text, KIND_STYLE.get(e.kind, ""), single_line=True, max_len=120)
            details = Text(end="")
            for part in (e.reason, f"[{e.category}]" if e.category else "", e.result if e.result not in ("", "ok") else "",
                         e.detail):
                if part:
                    if details.plain:
                        details.append(" · ")
                    details.append_text(safe(part, single_line=True, max_len=200))
            table.add_row(Text(utc(e.at)), Text(t.relative(e.at)), event,
                          safe(e.actor, single_line=True, max_len=40), details)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), animate=False)

    # -- actions ---------------------------------------------------------------------------------------
    def action_save(self) -> None:
        saved = self.query_one("#in-saved", Static)
        if self.timeline is None:
            saved.update(Text("The timeline is still loading: nothing to save yet.", style="bold"))
            return
        now = datetime.now(timezone.utc)
        path = note_path(self.export_dir, self.timeline, now)
        message, ok = save_markdown(path, render(self.timeline, now=now), saved_as="the incident note",
                                    failed="the incident note")
        saved.update(message)
        if ok:
            self.saved = path

    def action_end_drill(self) -> None:
        if self.resolve is None:
            return
        body = Text("Mark this fire drill resolved. The `mlcall-tui drill` command that posted it sees this in the "
                    "audit log, resolves the alert in Alertmanager and writes the drill report.")
        self.app.push_screen(ConfirmModal("End the drill", body, "Resolved"), self._end_confirmed)

    def _end_confirmed(self, ok: bool | None) -> None:
        if not ok or self.resolve is None:
            return
        try:
            self.resolve("drill resolved in mlcall-tui")
        except Exception as exc:  # the audit log is the only channel to the drill command
            self.query_one("#in-saved", Static).update(safe(f"✖ not recorded: {exc}", "bold", max_len=300))
            return
        self.query_one("#in-saved", Static).update(Text("Drill marked resolved (audit log).", style="bold"))
        self.action_reload()

    def action_back(self) -> None:
        self.app.pop_screen()


def summary(t: Timeline) -> Text:
    text = Text(f"Started {utc(t.starts_at)}", end="")
    text.append(f" · resolved {utc(t.resolved_at)}" if t.resolved_at else " · still open")
    ack = t.first_ack
    text.append(f" · MTTA {span(t.mtta)}", style="bold")
    text.append(f" · MTTR {span(t.mttr)}", style="bold")
    if ack is not None:
        text.append(" · first action: ")
        text.append_text(safe(ack.text, single_line=True, max_len=80))
    if t.summary:
        text.append("\n")
        text.append_text(safe(t.summary, single_line=True, max_len=300))
    if t.drill:
        text.append("\nFIRE DRILL: a synthetic alert from `mlcall-tui drill`; rollbacks are refused for it. "
                    "e ends the drill.", style="bold")
    return text
