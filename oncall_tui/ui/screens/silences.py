"""The silences screen (`S`): active, pending and recently expired silences, and the ones made with this
tool that vanished from Alertmanager. `x` expires, `e` extends, `r` re-creates a vanished one.

Given models by `Silencing` on every poll; every change goes through `actions.silence` in a worker.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Static

from ...actions import silence as act
from ...actions.audit import AuditError
from ...models import Silence, utcnow
from ...safe_text import safe
from ..notices import say
from ..widgets.confirm import ConfirmModal
from ..widgets.silence_info import describe_silence, until

if TYPE_CHECKING:
    from ..silencing import Silencing

RECENT = timedelta(hours=24)
COLUMNS = (("state", "State", 9), ("ends", "Ends", 12), ("alerts", "Alerts", 6), ("matchers", "Matchers", 38),
           ("by", "By", 18), ("reason", "Reason", None))
CLUSTER_COLUMN = ("cluster", "Cluster", 12)  # second, only with several clusters
_ORDER = {"vanished": 0, "active": 1, "pending": 2, "expired": 3}
MUTATING = {"expire", "extend", "recreate"}


def _remaining(row: Silence | act.ToolSilence) -> str:
    now = utcnow()
    delta = row.ends_at - now
    return f"in {act.format_duration(delta)}" if delta.total_seconds() > 0 else f"{act.format_duration(-delta)} ago"


class ExtendModal(ModalScreen[str | None]):
    """Ask by how long: a preset or a custom duration. Dismisses with the duration text."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ExtendModal { align: center middle; }
    ExtendModal > Vertical { width: 70; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    ExtendModal #extend-error { color: $error; }
    """

    def __init__(self, silence: Silence, default: str) -> None:
        super().__init__()
        self.silence, self.default = silence, default

    def compose(self) -> ComposeResult:
        with Vertical():
            text = Text("Extend the silence ending ", style="bold", end="")
            text.append(until(self.silence.ends_at))
            text.append("\nby how long? (" + " ".join(act.PRESETS) + ", or e.g. 90m) · enter · escape cancels")
            yield Static(text)
            yield Input(value=self.default, id="extend-by")
            yield Static("", id="extend-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            act.parse_duration(event.value)
        except ValueError as exc:
            self.query_one("#extend-error", Static).update(safe(str(exc)))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SilencesScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("x", "expire", "Expire"),
        Binding("e", "extend", "Extend"),
        Binding("r", "recreate", "Re-create vanished"),
        Binding("ctrl+r", "app.refresh_now", "Refresh"),
    ]
    DEFAULT_CSS = """
    SilencesScreen #silences-title { height: 1; padding: 0 1; background: $panel; }
    SilencesScreen #silences { height: 1fr; }
    SilencesScreen #silence-detail { height: 9; padding: 0 1; border-top: solid $primary; overflow-y: auto; }
    SilencesScreen #silences-filter { height: 3; display: none; }
    """

    def __init__(self, silencing: Silencing) -> None:
        super().__init__()
        self.silencing = silencing
        self.rows: list[tuple[str, Silence | act.ToolSilence]] = []
        self.filter_text = ""
        self.clusters = silencing.fleet.multi
        self.columns = (COLUMNS[0], CLUSTER_COLUMN, *COLUMNS[1:]) if self.clusters else COLUMNS
        if silencing.settings.read_only:  # no mutating binding exists at all
            self._bindings.key_to_bindings = {
                k: [b for b in bs if b.action not in MUTATING] for k, bs in self._bindings.key_to_bindings.items()}
            self._bindings.key_to_bindings = {k: v for k, v in self._bindings.key_to_bindings.items() if v}

    def compose(self) -> ComposeResult:
        yield Static(Text("Silences", style="bold"), id="silences-title")
        yield DataTable(id="silences", cursor_type="row")
        yield Static("", id="silence-detail")
        yield Input(placeholder="filter silences: matcher text, author, reason, id", id="silences-filter")
        yield Footer()

    def on_unmount(self) -> None:
        if self.refresh_data in self.silencing.listeners:
            self.silencing.listeners.remove(self.refresh_data)

    def on_mount(self) -> None:
        self.silencing.listeners.append(self.refresh_data)  # every Alertmanager poll
        table = self.query_one("#silences", DataTable)
        for key, label, width in self.columns:
            table.add_column(label, key=key, width=width)
        table.focus()
        self.refresh_data()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MUTATING and self.silencing.settings.read_only:
            return False
        return True

    # -- data ----------------------------------------------------------------------------------
    def _collect(self) -> list[tuple[str, Silence | act.ToolSilence]]:
        now = utcnow()
        rows: list[tuple[str, Silence | act.ToolSilence]] = [("vanished", v) for v in self.silencing.vanished]
        for s in self.silencing.silences.values():
            if s.state != "expired" or now - s.ends_at <= RECENT:
                rows.append((s.state, s))
        words = self.filter_text.casefold().split()
        if words:
            rows = [r for r in rows if all(w in self._haystack(*r) for w in words)]
        return sorted(rows, key=lambda r: (_ORDER.get(r[0], 9),
                                           r[1].ends_at if r[0] != "expired" else now - r[1].ends_at))

    def _haystack(self, state: str, row: Any) -> str:
        parts = [state, row.comment, row.created_by, row.silence_id if state == "vanished" else row.id,
                 self.silencing.cluster_of(row), *(str(m) for m in row.matchers)]
        return " ".join(parts).casefold()

    def _cells(self, state: str, row: Any) -> tuple:
        cluster = self.silencing.cluster_of(row)  # a silence mutes only its own cluster's alerts
        alerts = self.silencing.current_alerts()
        count = sum(1 for a in alerts if a.cluster == cluster and act.matches_labels(row.matchers, a.labels))
        style = {"vanished": "bold reverse", "active": "bold", "expired": "dim"}.get(state, "")
        where = (safe(cluster, single_line=True, max_len=40),) if self.clusters else ()
        return (Text(state.upper() if state == "vanished" else state, style=style, end=""), *where, _remaining(row),
                Text(str(count), justify="right", end=""),
                safe(" ".join(str(m) for m in row.matchers), single_line=True, max_len=200),
                safe(row.created_by, single_line=True, max_len=60),
                safe(act.strip_token(row.comment), single_line=True, max_len=200))

    def refresh_data(self) -> None:
        if not self.query("#silences"):
            return  # not composed yet, or being torn down
        table = self.query_one("#silences", DataTable)
        current = self.current_key()
        self.rows = self._collect()
        table.clear()
        for state, row in self.rows:
            table.add_row(*self._cells(state, row), key=self._key(state, row))
        keys = [self._key(*r) for r in self.rows]
        if current in keys:
            table.move_cursor(row=keys.index(current), animate=False)
        counts = {k: sum(1 for s, _ in self.rows if s == k) for k in _ORDER}
        title = Text("Silences  ", style="bold", end="")
        title.append(" · ".join(f"{n} {k}" for k, n in counts.items() if n) or "none")
        if self.filter_text:
            title.append(" · filter: ")
            title.append_text(safe(self.filter_text, "bold", single_line=True, max_len=60))
        self.query_one("#silences-title", Static).update(title)
        self._show_detail()

    @staticmethod
    def _key(state: str, row: Any) -> str:
        return f"v:{row.silence_id}" if state == "vanished" else row.id

    def current_key(self) -> str | None:
        table = self.query_one("#silences", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self._key(*self.rows[table.cursor_row])

    def current(self) -> tuple[str, Any] | tuple[None, None]:
        table = self.query_one("#silences", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None, None
        return self.rows[table.cursor_row]

    def _show_detail(self) -> None:
        state, row = self.current()
        detail = self.query_one("#silence-detail", Static)
        if row is None:
            detail.update(Text("No silence selected.", style="dim"))
        elif state == "vanished":
            text = Text("Made with mlcall-tui, no longer known to any Alertmanager peer (restart before it was "
                        "persisted?). Press r to re-create it from the audit log.\n", style="bold", end="")
            text.append_text(safe(f"was {row.silence_id} · audit {row.audit_id} · by {row.created_by}\n", max_len=200))
            text.append_text(safe(act.strip_token(row.comment), max_len=400))
            text.append("\nuntil " + until(row.ends_at))
            detail.update(text)
        else:
            detail.update(describe_silence(row))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    # -- filter and navigation -----------------------------------------------------------------
    def action_filter(self) -> None:
        box = self.query_one("#silences-filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "silences-filter":
            self.filter_text = event.value
            self.refresh_data()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "silences-filter":
            self.query_one("#silences", DataTable).focus()

    def action_back(self) -> None:
        box = self.query_one("#silences-filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.query_one("#silences", DataTable).focus()
            return
        self.dismiss()

    # -- actions -------------------------------------------------------------------------------
    def _selected_silence(self, *, vanished: bool = False) -> Any:
        state, row = self.current()
        if row is None or (state == "vanished") != vanished:
            say(self, "Select a vanished silence (r re-creates it)." if vanished else
                        "Select a silence that Alertmanager knows.", severity="warning")
            return None
        return row

    def _writable(self, row: Any) -> bool:
        """False (and says why) when the session, or the silence's cluster of the fleet, is read-only."""
        if row is None or self.silencing.settings.read_only:
            return False
        cluster = self.silencing.fleet.named(self.silencing.cluster_of(row))
        if cluster.settings.read_only:
            say(self, f"Cluster {cluster.name} is read-only: its silences are not changed from here.",
                severity="warning")
            return False
        return True

    def action_expire(self) -> None:
        silence = self._selected_silence()
        if not self._writable(silence):
            return
        if silence.state == "expired":
            say(self, "That silence has already expired.", severity="warning")
            return
        count = sum(1 for a in self.silencing.current_alerts()
                    if a.cluster == silence.cluster and act.matches_labels(silence.matchers, a.labels))
        body = describe_silence(silence)
        body.append(f"\n\nExpiring it lets {count} current alert{'s' if count != 1 else ''} notify again.")

        def done(ok: bool | None) -> None:
            if ok:
                reason = f"expired from the silences screen by {self.silencing.settings.author}"
                self._run(act.expire(self.silencing.source_of(silence.cluster), self.silencing.audit, silence,
                                     reason=reason, verify_timeout=self.silencing.verify_timeout), "Expired")

        self.app.push_screen(ConfirmModal("Expire this silence?", body, "Expire", danger=True), done)

    def action_extend(self) -> None:
        silence = self._selected_silence()
        if not self._writable(silence):
            return

        def done(value: str | None) -> None:
            if value:
                start = max(silence.ends_at, utcnow())
                ends = start + act.parse_duration(value)
                self._run(act.extend(self.silencing.source_of(silence.cluster), self.silencing.audit, silence, ends,
                                     actor_reason=f"extended by {value} by {self.silencing.settings.author}",
                                     verify_timeout=self.silencing.verify_timeout), "Extended")

        self.app.push_screen(ExtendModal(silence, self.silencing.settings.silence_duration), done)

    def action_recreate(self) -> None:
        gone = self._selected_silence(vanished=True)
        if not self._writable(gone):
            return
        d = act.recreate_draft(gone, self.silencing.settings.author)
        body = Text("Re-create this silence, written by mlcall-tui and since lost by Alertmanager?\n", end="")
        body.append_text(safe(" ".join(str(m) for m in d.matchers) + "\n" + d.comment, max_len=600))
        body.append("\nuntil " + until(d.ends_at))

        def done(ok: bool | None) -> None:
            if ok:
                source = self.silencing.source_of(self.silencing.cluster_of(gone))  # the cluster it vanished from
                self._run(act.create(source, self.silencing.audit, d, action="silence.recreate",
                                     verify_timeout=self.silencing.verify_timeout,
                                     extra={"recreates": gone.audit_id, "replaces": gone.silence_id}), "Re-created")

        self.app.push_screen(ConfirmModal("Re-create vanished silence?", body, "Re-create"), done)

    def _run(self, work, verb: str) -> None:
        async def runner() -> None:
            try:
                outcome = await work
            except (AuditError, act.ValidationError) as exc:
                say(self, f"Not done: {exc}", severity="error", timeout=10)
                return
            if outcome.ok:
                say(self, f"{verb}: {outcome.silence_id[:8]} · {outcome.spread}", timeout=6)
            else:
                say(self, f"{verb} {outcome.result}: {outcome.message}", severity="error", timeout=12)
            self.silencing.after_write()

        self.run_worker(runner(), group="silence-change", exit_on_error=False)
