"""`m`: the MLflow registry. Registered models with their aliases; the highlighted model's versions,
newest first (version, aliases, status, created, run, metrics, tags). `R` rolls the selected model's
serving alias back (not in read-only mode: the binding does not exist there)."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ...models import ModelVersion, RegisteredModel
from ...safe_text import safe
from ...sources.registry import RegistryError
from ..widgets.model_panel import error_line, metrics_line

if TYPE_CHECKING:
    from ..registry_ui import RegistryUI

RUNS_FOR = 15  # versions whose run metrics are fetched (one request each)


def aliases_text(aliases, serving_alias: str) -> Text:
    text = Text(end="")
    for i, (alias, version) in enumerate(sorted(aliases.items(), key=lambda kv: (kv[0] != serving_alias, kv[0]))):
        if i:
            text.append(", ")
        text.append_text(safe(f"{alias}→v{version}", "bold" if alias == serving_alias else "",
                              single_line=True, max_len=40))
    return text


def tags_text(tags) -> Text:
    return safe(", ".join(f"{k}={v}" for k, v in sorted(tags.items())), single_line=True, max_len=120)


class ModelsScreen(Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+r", "reload", "Refresh"),
        Binding("tab", "switch", "Models/versions", show=False),
        Binding("j", "cursor('down')", "Down", show=False),
        Binding("k", "cursor('up')", "Up", show=False),
    ]
    DEFAULT_CSS = """
    ModelsScreen #models-title { height: 1; padding: 0 1; background: $panel; }
    ModelsScreen #models-body { height: 1fr; }
    ModelsScreen #models { height: auto; max-height: 12; }
    ModelsScreen #versions { height: 1fr; border-top: solid $primary; }
    ModelsScreen #models-status { height: auto; max-height: 3; padding: 0 1; }
    """

    def __init__(self, registry: RegistryUI, select: str = "") -> None:
        super().__init__()
        self.registry = registry
        self.select = select
        self.models: list[RegisteredModel] = []
        self.versions: dict[str, list[ModelVersion]] = {}
        self.current = ""
        if not registry.read_only:
            self._bindings.bind("R", "rollback", "Roll back", key_display="R")

    def compose(self) -> ComposeResult:
        title = Text("MLflow registry · ", end="", style="bold")
        title.append_text(safe(self.registry.source.display_uri if self.registry.source else "", single_line=True))
        title.append(f" · serving alias {self.registry.alias}", style="dim")
        yield Static(title, id="models-title")
        with Vertical(id="models-body"):
            yield DataTable(id="models", cursor_type="row")
            yield DataTable(id="versions", cursor_type="row")
        yield Static(Text("Loading models…", style="dim"), id="models-status")
        yield Footer()

    def on_mount(self) -> None:
        models = self.query_one("#models", DataTable)
        models.add_column("Model", key="name", width=32)
        models.add_column("Aliases", key="aliases", width=48)
        models.add_column("Latest", key="latest", width=6)
        versions = self.query_one("#versions", DataTable)
        for key, label, width in (("version", "Version", 7), ("aliases", "Aliases", 12), ("status", "Status", 8),
                                  ("created", "Created", 16), ("run", "Run", 10), ("metrics", "Metrics", 36),
                                  ("tags", "Tags", None)):
            versions.add_column(label, key=key, width=width)
        models.focus()
        self.action_reload()

    def _status(self, text: Text) -> None:
        self.query_one("#models-status", Static).update(text)

    # -- loading ----------------------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.versions.clear()
        self.run_worker(self._load_models, group="models", exclusive=True, exit_on_error=False)

    async def _load_models(self) -> None:
        source = self.registry.source
        assert source is not None
        try:
            models = await asyncio.to_thread(source.models)
        except RegistryError as exc:
            self._status(safe("✖ " + error_line(exc, "", source.display_uri), "bold red", max_len=400))
            return
        self.models = models
        table = self.query_one("#models", DataTable)
        table.clear()
        for m in models:
            table.add_row(safe(m.name, single_line=True, max_len=60), aliases_text(m.aliases, self.registry.alias),
                          safe(f"v{m.latest_version}" if m.latest_version else "-", single_line=True), key=m.name)
        self._status(Text(f"{len(models)} registered models · enter/tab: versions · escape: back", style="dim"))
        if not models:
            return
        names = [m.name for m in models]
        index = names.index(self.select) if self.select in names else 0
        table.move_cursor(row=index, animate=False)
        self.show_versions(names[index])

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "models" and event.row_key.value:
            self.show_versions(str(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "models":
            self.query_one("#versions", DataTable).focus()

    def show_versions(self, name: str) -> None:
        if name == self.current and name in self.versions:
            return
        self.current = name
        if name in self.versions:
            self._fill_versions(name)
            return
        self.query_one("#versions", DataTable).clear()
        self.run_worker(partial(self._load_versions, name), group="versions", exclusive=True, exit_on_error=False)

    async def _load_versions(self, name: str) -> None:
        source = self.registry.source
        assert source is not None
        try:
            versions = await asyncio.to_thread(source.versions, name, runs_for=RUNS_FOR)
        except RegistryError as exc:
            if name == self.current:
                self._status(safe("✖ " + error_line(exc, name, source.display_uri), "bold red", max_len=400))
            return
        self.versions[name] = versions
        if name == self.current:
            self._fill_versions(name)

    def _fill_versions(self, name: str) -> None:
        table = self.query_one("#versions", DataTable)
        table.clear()
        for v in self.versions[name]:
            table.add_row(
                safe(f"v{v.version}", "bold" if self.registry.alias in v.aliases else "", single_line=True),
                safe(", ".join(v.aliases), single_line=True, max_len=40),
                safe(v.status, single_line=True, max_len=20),
                Text(f"{v.created_at:%Y-%m-%d %H:%M}" if v.created_at else "-"),
                safe(v.run_id[:8], single_line=True),
                metrics_line(v.metrics) if v.metrics else Text("-", style="dim"),
                tags_text(v.tags),
                key=v.version,
            )
        count = len(self.versions[name])
        line = Text(f"{count} versions of ", style="dim", end="")
        line.append_text(safe(name, "bold", single_line=True, max_len=60))
        line.append(" (metrics for the newest" f" {RUNS_FOR})" if count > RUNS_FOR else "", style="dim")
        if not self.registry.read_only:
            line.append(" · R: roll back the serving alias", style="dim")
        self._status(line)

    # -- actions ----------------------------------------------------------------------------------------------
    def action_switch(self) -> None:
        models, versions = self.query_one("#models", DataTable), self.query_one("#versions", DataTable)
        (versions if models.has_focus else models).focus()

    def action_cursor(self, direction: str) -> None:
        table = self.focused if isinstance(self.focused, DataTable) else self.query_one("#models", DataTable)
        table.action_cursor_down() if direction == "down" else table.action_cursor_up()

    def action_rollback(self) -> None:
        if self.registry.read_only or not self.current:
            return
        from .rollback import RegistryRollbackScreen

        def done(result) -> None:
            if result is not None:
                self.versions.pop(self.current, None)
                self.action_reload()

        self.app.push_screen(RegistryRollbackScreen(self.registry, self.current), done)
