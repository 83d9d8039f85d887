"""The main screen: grouped alerts, the highlighted alert's detail, filter, and every source's health.

It is given what it needs: the features behind its keys (silencing, runbooks, registry, cluster, signals,
rollback), which it hands to the screens it opens, and the panels shown beside the alert's detail. It
states a fact, `AlertHighlighted`, and the features behind the panels follow it (wired in app.py): adding a
panel touches no screen.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from ...clipboard import matcher_string
from ...filtering import Filter, FilterError, parse
from ...models import Alert, AlertGroup
from ...safe_text import safe, sanitize
from ..keys import with_ids
from ..widgets.alert_detail import AlertDetail
from ..widgets.alert_table import AlertTable
from ..widgets.source_bar import SourceBar

FOLLOW_AFTER_TYPING = 0.15  # s of pause in typing the filter before the detail and panels follow the highlight

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.widget import Widget

    from ...actions.silence import Outcome
    from ..cluster_ui import ClusterUI
    from ..registry_ui import RegistryUI
    from ..rollback_ui import RollbackUI
    from ..runbooks_ui import RunbooksUI
    from ..signals_ui import SignalsUI
    from ..silencing import Silencing


class AlertsScreen(Screen):
    SHOWS_PROFILE = True  # a danger profile turns the title bar red with its name (ui/profile.py)
    # ids `alerts.<action>` (alerts.silence, alerts.refresh-now …) for [keys] in the config: ui/keys.py
    BINDINGS = with_ids("alerts", [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Back", show=False),
        Binding("space", "mark", "Mark", show=False),
        Binding("s", "silence", "Silence", tooltip="Silence the selected or marked alerts (a reason is required)"),
        Binding("a", "acknowledge", "Ack", tooltip="Acknowledge: a 15-minute silence with an ACK: reason"),
        Binding("r", "runbook", "Runbook", tooltip="The alert's runbook: symptom, diagnosis, fix, rollback"),
        Binding("S", "silences", "Silences", tooltip="Active, pending and recently expired silences"),
        Binding("i", "incident", "Incident", show=False,  # the footer is full at 120 columns; in ? and ctrl+p
                tooltip="Incident timeline: what fired and what was done, MTTA/MTTR"),
        Binding("I", "session_incidents", "Incidents", show=False,
                tooltip="Every alert this session has seen, open or resolved; enter opens its timeline"),
        Binding("d", "diagnose", "Diagnose", tooltip="Pods, restarts, OOMKills, warning events, log tail, live checks"),
        Binding("R", "rollback", "Roll back", tooltip="Roll the alert's model back (registry alias, deployment)"),
        Binding("m", "models", "Models", tooltip="The MLflow model registry: models, aliases, versions"),
        Binding("t", "cycle_window", "Range", tooltip="Time range of the sparklines: 15m, 1h, 6h, 24h"),
        Binding("z", "zoom", "Zoom", tooltip="The alert's signal and model health full-screen (also enter)"),
        Binding("ctrl+r", "app.refresh_now", "Refresh"),
        Binding("c", "clusters", "Clusters", tooltip="Every cluster's sources, one line each (again: fold)"),
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("y", "copy_matcher", "Copy", tooltip='Copy the labels as a matcher {alertname="…",…} (OSC 52)'),
        Binding("q", "app.quit", "Quit"),
    ])

    MUTATING_ACTIONS = {"silence", "acknowledge", "rollback"}  # absent in --read-only: not disabled, absent
    follow_after_typing = FOLLOW_AFTER_TYPING

    def __init__(self, title: Text | None = None, *, read_only: bool = False, panels: Sequence[Widget] = (),
                 silencing: Silencing, runbooks: RunbooksUI, registry: RegistryUI, cluster: ClusterUI,
                 signals: SignalsUI, rollback: RollbackUI, clusters: bool = False) -> None:
        super().__init__()
        self.read_only = read_only
        self.panels = tuple(panels)  # beside the alert's detail, in this order
        self.silencing, self.runbooks, self.registry = silencing, runbooks, registry
        self.cluster, self.signals, self.rollback = cluster, signals, rollback
        if read_only:
            bindings = {k: [b for b in bs if b.action not in self.MUTATING_ACTIONS]
                        for k, bs in self._bindings.key_to_bindings.items()}
            self._bindings.key_to_bindings = {k: bs for k, bs in bindings.items() if bs}
        self.title_text = title or Text("mlcall-tui")
        self.clusters = clusters  # several clusters: a cluster column, a folding status bar
        self.all_groups: list[AlertGroup] = []
        self.filter: Filter = parse("")
        self._pending_follow: Callable[[], None] | None = None  # a highlight the panels follow after typing
        self._follow_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(self.title_text, id="title")
        with Vertical(id="main"):
            yield AlertTable(id="alerts", cluster_column=self.clusters)
            with Horizontal(id="detail-row"):
                yield AlertDetail(id="detail")
                yield from self.panels
        yield Input(placeholder='filter: text, label=value, label=~regex, label!=value', id="filter")
        yield Static("", id="filter-error")
        yield SourceBar(id="sources")
        yield Footer()

    class Ready(Message):
        """The screen is composed: the app may start feeding it."""

    class AlertHighlighted(Message):
        """The highlighted alert (None: none), also repeated as ages refresh: the panels' features follow it."""

        def __init__(self, alert: Alert | None, group: AlertGroup | None) -> None:
            super().__init__()
            self.alert, self.group = alert, group

    class IncidentRequested(Message):
        """`i`: the incident timeline of these alerts (the one under the cursor, or its whole group);
        `I` (session=True): every alert this session has seen."""

        def __init__(self, alerts: list[Alert], session: bool = False) -> None:
            self.alerts = alerts
            self.session = session
            super().__init__()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(AlertTable).focus()
        self.post_message(self.Ready())

    @property
    def table(self) -> AlertTable:
        return self.query_one(AlertTable)

    def show_groups(self, groups: list[AlertGroup]) -> None:
        self.all_groups = groups
        self._render_groups()

    def _render_groups(self) -> None:
        shown = self.filter.apply(self.all_groups)
        self.table.show(shown)
        total = sum(g.count for g in self.all_groups)
        visible = sum(g.count for g in shown)
        noun = "alert" if total == 1 else "alerts"
        note = f"{visible}/{total} {noun} · filter: " if self.filter.text else f"{total} {noun}"
        text = Text(note, end="")
        if self.filter.text:
            text.append_text(safe(self.filter.text, "bold", single_line=True, max_len=60))
        if self.table.truncated:
            text.append(f" · {self.table.truncated} groups not shown: filter to see them", style="bold")
        self.query_one(SourceBar).set_note(text)

    def on_alert_table_alert_highlighted(self, event: AlertTable.AlertHighlighted) -> None:
        """The detail and the panels follow the highlight; while the filter is typed, once typing pauses
        (each keystroke then redraws the table alone, not four panels for rows only passed through)."""
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
        follow = partial(self._follow, event.alert, event.group)
        if self.query_one("#filter", Input).has_focus:
            self._pending_follow = follow
            self._follow_timer = self.set_timer(self.follow_after_typing, self._flush_follow)
        else:
            self._pending_follow = None
            follow()

    def _follow(self, alert: Alert | None, group: AlertGroup | None) -> None:
        self.query_one(AlertDetail).show(alert, group)
        self.post_message(self.AlertHighlighted(alert, group))

    def _flush_follow(self) -> None:
        """Typing paused or ended: the detail and panels catch up now (before any action on the alert)."""
        if self._follow_timer is not None:
            self._follow_timer.stop()
            self._follow_timer = None
        follow, self._pending_follow = self._pending_follow, None
        if follow is not None:
            follow()

    def refresh_ages(self) -> None:
        """The clock moved: the Age column and the detail's "since … (N ago)"."""
        self.table.refresh_ages()
        self.query_one(AlertDetail).refresh_age()

    def selected(self) -> tuple[AlertGroup | None, Alert | None]:
        return self.table.current()

    # -- actions -------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.read_only and action in self.MUTATING_ACTIONS:
            return False  # hidden from the footer and the command palette, and never run
        if action == "clusters" and not self.clusters:
            return False  # one cluster: nothing to expand
        return True

    def _silence_targets(self) -> tuple[list[Alert], bool | None]:
        """Marked alerts (one silence per label set), else the alert or whole group under the cursor."""
        marked = self.table.marked_alerts()
        if marked:
            return marked, False
        group, alert = self.selected()
        if group is None or alert is None:
            return [], None
        if (self.table.current_key() or "").startswith("a\x00") or group.count == 1:
            return [alert], None
        return list(group.alerts), True

    def action_silence(self) -> None:
        if not self.read_only:
            self._open_silence_form(ack=False)

    def action_acknowledge(self) -> None:
        if not self.read_only:
            self._open_silence_form(ack=True)

    def _open_silence_form(self, *, ack: bool) -> None:
        from .silence_form import SilenceForm  # the actions bring httpx: on first use

        alerts, common = self._silence_targets()
        alerts = self.silencing.silenceable(alerts)
        if alerts:
            self.app.push_screen(SilenceForm(self.silencing, alerts, ack=ack, common=common), self._silenced)

    def _silenced(self, outcomes: list[Outcome] | None) -> None:
        if not outcomes:
            return
        if self.table.marked:  # the marked alerts are done with
            self.table.marked.clear()
            self.table.refresh_rows()
        self.silencing.form_done(outcomes)

    def action_runbook(self) -> None:
        self.runbooks.open(self.selected()[1])

    def action_incident(self) -> None:
        group, alert = self.selected()
        whole = group is not None and not (self.table.current_key() or "").startswith("a\x00")
        self.post_message(self.IncidentRequested(list(group.alerts) if whole and group else [alert] if alert else []))

    def action_session_incidents(self) -> None:
        self.post_message(self.IncidentRequested([], session=True))

    def action_silences(self) -> None:
        from .silences import SilencesScreen

        self.app.push_screen(SilencesScreen(self.silencing))

    def action_rollback(self) -> None:
        if not self.read_only:
            self.rollback.open(self.selected()[1])

    def action_diagnose(self) -> None:
        from .diagnose import DiagnoseScreen  # the diagnosis brings the kubernetes actions: on first use

        self.app.push_screen(DiagnoseScreen(self.cluster, self.selected()[1], signals=self.signals,
                                            registry=self.registry))

    def action_models(self) -> None:
        model = self.registry.model_of(self.selected()[1])
        if self.registry.source is None:
            self.notify("MLflow registry not configured (--mlflow or MLFLOW_TRACKING_URI).", severity="warning")
            return
        from .models import ModelsScreen

        self.app.push_screen(ModelsScreen(self.registry, select=model or self.registry.wanted))

    def action_cycle_window(self) -> None:
        label = self.signals.cycle_window()
        if label:
            self.notify(f"Sparklines: last {label}", timeout=1.5)

    def action_zoom(self) -> None:
        self.signals.zoom(self.selected()[1])

    def on_alert_table_zoom_requested(self, event: AlertTable.ZoomRequested) -> None:
        self.signals.zoom(event.alert)

    def action_copy_matcher(self) -> None:
        """Put the alert's labels on the clipboard as `{name="value",…}` (OSC 52: works over SSH)."""
        alert = self.selected()[1]
        if alert is None:
            self.notify("No alert selected.", severity="warning")
            return
        text = matcher_string(alert.labels)
        self.app.copy_to_clipboard(text)
        shown = sanitize(text)
        self.notify(shown if len(shown) <= 200 else shown[:199] + "…", title="Copied", timeout=4, markup=False)

    def action_clusters(self) -> None:
        self.query_one(SourceBar).toggle()

    def action_mark(self) -> None:
        self.table.toggle_mark()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus and box.value:
            box.value = ""
            return
        if box.display or self.filter.text:
            box.value = ""
            box.display = False
            self._set_filter("")
            self.table.focus()
            self._flush_follow()
        elif self.table.marked:
            self.table.marked.clear()
            self.table.refresh_rows()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            if self._follow_timer is not None:  # still typing: the panels wait for the pause
                self._follow_timer.reset()
            self._set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            if not event.value:
                event.input.display = False
            self.table.focus()
            self._flush_follow()

    def _set_filter(self, text: str) -> None:
        error = self.query_one("#filter-error", Static)
        try:
            self.filter = parse(text)
        except FilterError as exc:
            error.update(Text(str(exc), style="bold"))
            error.display = True
            return
        error.display = False
        self._render_groups()
