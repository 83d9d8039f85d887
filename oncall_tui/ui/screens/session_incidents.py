"""`I`: every alert this session has seen, open or resolved, newest first; `enter` opens its timeline
(also for alerts that are gone from Alertmanager, which forgets resolved alerts)."""

from __future__ import annotations

from datetime import datetime
from typing import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ...incidents import is_drill
from ...incidents.timeline import span, utc
from ...models import Alert, utcnow
from ...safe_text import safe
from ..keys import with_ids

Entry = tuple[Alert, datetime, "datetime | None"]  # (alert, first seen, resolved at)


class SessionIncidentsScreen(Screen):
    DEFAULT_CSS = """
    SessionIncidentsScreen #si-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    SessionIncidentsScreen #si-table { height: 1fr; }
    """
    BINDINGS = with_ids("incidents", [
        Binding("enter", "open", "Timeline", tooltip="The incident timeline of the highlighted alert"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
    ])

    def __init__(self, entries: Callable[[], Sequence[Entry]], open_timeline: Callable[[Alert], None]) -> None:
        super().__init__()
        self.entries = entries
        self.open_timeline = open_timeline
        self.rows: list[Entry] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Incidents of this session (open and resolved) · enter: timeline"), id="si-title")
        yield DataTable(id="si-table", cursor_type="row", zebra_stripes=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("State", 9), ("Alert", 30), ("Model", 18), ("Started (UTC)", 23), ("Lasted", 8),
                             ("First seen", 10), ("Summary", None)):
            table.add_column(label, width=width)
        self.action_reload()
        table.focus()

    def action_reload(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.rows = sorted(self.entries(), key=lambda e: e[0].starts_at or e[1], reverse=True)
        now = utcnow()
        for alert, seen, resolved in self.rows:
            start = alert.starts_at or seen
            state = Text("resolved" if resolved else "open", style="" if resolved else "bold", end="")
            name = Text("DRILL ", style="bold reverse", end="") if is_drill(alert.labels) else Text(end="")
            name.append_text(safe(alert.name, single_line=True, max_len=60))
            table.add_row(state, name, safe(alert.label("model"), single_line=True, max_len=40), Text(utc(start)),
                          Text(span((resolved or now) - start)), Text("+" + span(seen - start)),
                          safe(alert.summary, single_line=True, max_len=200))

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.rows and 0 <= table.cursor_row < len(self.rows):
            self.open_timeline(self.rows[table.cursor_row][0])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_back(self) -> None:
        self.app.pop_screen()
