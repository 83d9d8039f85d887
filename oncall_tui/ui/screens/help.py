"""`?`: every key active on the screen you came from, generated from its bindings (never a kept list).

Rows come from `Screen.active_bindings` at the moment `?` is pressed, so they reflect the focused
widget, read-only mode (absent actions are absent here too) and the user's `[keys]` overrides. Each row
shows the binding id to use in `[keys]`.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ..keys import with_ids


def screen_title(screen: Screen) -> str:
    explicit = getattr(screen, "HELP_TITLE", "")
    if explicit:
        return explicit
    name = re.sub(r"(Screen|Modal)$", "", type(screen).__name__) or type(screen).__name__
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


def _where(node, screen: Screen) -> str:
    if node is screen:
        return "screen"
    if node is screen.app:
        return "everywhere"
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(node).__name__).lower()


def binding_rows(screen: Screen) -> list[tuple[str, str, str, str, str]]:
    """(key, what, more, where, id) for every active binding of `screen`, screen's own first."""
    app = screen.app
    rows = []
    for key, active in screen.active_bindings.items():
        binding = active.binding
        what = binding.description or binding.action.split(".")[-1].replace("_", " ")
        more = active.tooltip or binding.tooltip
        if not active.enabled:
            more = f"{more} (not available now)".strip()
        shown = binding if binding.key == key else binding.with_key(key)
        rows.append((app.get_key_display(shown), what, more, _where(active.node, screen),
                     binding.id or ""))
    order = {"screen": 0, "everywhere": 2}
    rows.sort(key=lambda r: (order.get(r[3], 1), r[3]))
    return rows


class HelpScreen(Screen):
    """The keys of `target` (the screen `?` was pressed on). `escape`, `q` or `?` closes it."""

    HELP_TITLE = "Keys"
    BINDINGS = with_ids("help", [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", key_display="?", show=False),
        Binding("q", "close", "Close", show=False),
    ])
    DEFAULT_CSS = """
    HelpScreen #help-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    HelpScreen #help-keys { height: 1fr; }
    HelpScreen #help-note { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, target: Screen) -> None:
        super().__init__()
        self.target_title = screen_title(target)
        self.rows = binding_rows(target)

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Keys · {self.target_title}", end=""), id="help-title")
        yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
        yield Static(Text('Remap a key in config.toml:  [keys]  "<id>" = "ctrl+s"  (several: "ctrl+s,f2")', end=""),
                     id="help-note")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("key", "Key"), ("what", "Does"), ("id", "Id for [keys]"), ("more", "Details")):
            table.add_column(Text(label), key=key)  # Text: a str label would be read as markup
        where = None
        for key, what, more, place, ident in self.rows:  # Text cells: a description is never markup
            if place != where:
                where = place
                heading = f"{self.target_title} screen" if place == "screen" else place.capitalize()
                table.add_row(Text(heading, style="bold underline", end=""), "", "", "")
            table.add_row(Text(key, style="bold", end=""), Text(what, end=""), Text(ident, end=""),
                          Text(more, style="dim", end=""))
        table.focus()

    def action_close(self) -> None:
        self.dismiss()
