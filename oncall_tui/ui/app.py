"""The application: wires settings, sources, poll loops, features and screens together. Nothing else.

Each feature gets what it needs here (settings, the audit log, the sources); each screen gets its features
in its constructor. The alerts screen's `AlertHighlighted` is handed to every feature that follows the
highlighted alert (`highlight_listeners`): a new panel is a feature with a `panel` and `alert_highlighted`,
added below, and no screen changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from rich.text import Text
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .. import grouping
from ..actions.audit import AuditLog
from ..config import Settings
from ..models import Alert, SourceHealth, SourceStatus
from ..polling import Poller
from ..safe_text import safe

if TYPE_CHECKING:
    from ..sources.alertmanager import AlertmanagerSource
    from ..sources.prometheus import PrometheusSource
from .changes_ui import ChangesUI
from .cluster_ui import ClusterUI
from .ergonomics import ErgonomicApp
from .incidents_ui import IncidentsUI
from .registry_ui import RegistryUI
from .rollback_ui import RollbackUI
from .runbooks_ui import RunbooksUI
from .screens.alerts import AlertsScreen
from .signals_ui import SignalsUI
from .silencing import Silencing
from .widgets.alert_detail import AlertDetail

AGE_EVERY = 10  # seconds between rewrites of the age column (the status bar's ages move every second)


class MlcallApp(ErgonomicApp):  # themes, keys, help, danger profile, small terminals
    CSS_PATH = "app.tcss"
    TITLE = "mlcall-tui"
    BINDINGS = [Binding("ctrl+c", "quit", "Quit", show=False, priority=True)]

    def __init__(self, settings: Settings, *, alertmanager: AlertmanagerSource | None = None,
                 prometheus: PrometheusSource | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.alertmanager = alertmanager
        self.prometheus = prometheus
        self.am_alerts: tuple[Alert, ...] = ()
        self.prom_alerts: tuple[Alert, ...] = ()
        self.am_ok = False
        self._received: dict[str, list[Alert]] = {}
        self._ticks = 0
        self.pollers: list[Poller] = []
        self.audit = AuditLog(settings.audit_path, settings.author)  # the one audit log of this session
        # silences: the Alertmanager poll, the silence panel, form and screen
        self.silencing = Silencing(self, settings, self.audit, source=lambda: self.alertmanager,
                                   alerts=lambda: self.am_alerts, refresh=self._refresh_pollers)
        self.signals = SignalsUI(self, settings)  # signal and model-health sparklines, zoom view
        self.registry = RegistryUI(self, settings, self.audit)  # the model panel, models screen
        self.cluster = ClusterUI(self, settings, self.audit)  # deployment panel, access reviews, rollout watches
        # what changed before the alert: marks on the sparkline, the Changes list, the likely trigger
        self.changes = ChangesUI(self, settings, self.audit, panel=self.signals.panel, details=self._details,
                                 registry=lambda: self.registry.source, cluster=self.cluster.source,
                                 cluster_problem=self.cluster.problem)
        self.signals.changes = self.changes.cached_view
        self.rollback = RollbackUI(self, settings, self.registry, self.cluster,  # `R`: registry, deployment, both
                                   trigger=self.changes.trigger)
        self.runbooks = RunbooksUI(self, settings, self.audit)  # `r`: the alert's runbook, runnable steps
        # `i`: incident timelines; first seen / resolved per alert; notes the first look at a drill alert
        self.incidents = IncidentsUI(settings, self.audit, silences=lambda: tuple(self.silencing.silences.values()))
        # the panels beside the alert's detail, in this order, and who follows the highlighted alert
        panels = (self.signals.panel, self.registry.panel, self.cluster.panel,
                  self.silencing.panel)  # last: in the 2×2 grid the silence panel spans the row below
        self.highlight_listeners: list[Callable[[Alert | None], None]] = [
            self.silencing.alert_highlighted, self.signals.alert_highlighted, self.registry.alert_highlighted,
            self.cluster.alert_highlighted, self.changes.alert_highlighted, self.incidents.alert_highlighted]
        self.alerts_screen = AlertsScreen(
            title=self._title(), read_only=settings.read_only, panels=panels, silencing=self.silencing,
            runbooks=self.runbooks, registry=self.registry, cluster=self.cluster, signals=self.signals,
            rollback=self.rollback)
        self.setup_theme()

    def _details(self) -> Iterable[AlertDetail]:
        return self.alerts_screen.query(AlertDetail) if self.alerts_screen.is_mounted else ()

    def _title(self) -> Text:
        title = Text("mlcall-tui", style="bold", end="")
        if self.settings.profile:
            title.append("  ⚠ PROFILE " if self.settings.danger else "  profile ", style="bold" if self.settings.danger else "")
            title.append_text(safe(self.settings.profile, "bold", single_line=True, max_len=40))
        if self.settings.read_only:
            title.append("  READ-ONLY", style="bold")
        return title

    def get_default_screen(self) -> Screen:
        return self.alerts_screen

    def on_mount(self) -> None:
        self.setup_ergonomics()  # theme (cell palette), keymap, danger profile on every screen, layout

    def _make_sources(self) -> None:
        """Sources (and httpx) are created after the first frame, not before it."""
        timeout = self.settings.timeout
        if self.alertmanager is None and self.settings.alertmanager_urls:
            from ..sources.alertmanager import AlertmanagerSource

            self.alertmanager = AlertmanagerSource(self.settings.alertmanager_urls, timeout=timeout)
        if self.prometheus is None and self.settings.prometheus_url:
            from ..sources.http_config import prometheus_client
            from ..sources.prometheus import PrometheusSource

            self.prometheus = PrometheusSource(self.settings.prometheus_url, timeout=timeout,
                                               client=prometheus_client(self.settings, timeout))

    def on_alerts_screen_alert_highlighted(self, event: AlertsScreen.AlertHighlighted) -> None:
        for listener in self.highlight_listeners:
            listener(event.alert)

    def on_alerts_screen_ready(self) -> None:
        # httpx and its TLS context cost ~0.3 s: paint the first frame before paying for them
        self.call_after_refresh(self._start_polling)

    def _start_polling(self) -> None:
        """Start one poll loop per configured source, once the screen they feed is on screen."""
        self._make_sources()
        bar = self.alerts_screen.query_one("#sources")
        interval = self.settings.refresh
        if self.alertmanager is not None:
            self.pollers.append(Poller("Alertmanager", self.silencing.fetch, self._on_alertmanager,
                                       interval=interval, timeout=self.settings.timeout))
        else:
            bar.set_status(SourceStatus("Alertmanager", SourceHealth.NOT_CONFIGURED))
        if self.prometheus is not None:
            self.pollers.append(Poller("Prometheus", self.prometheus.alerts, self._on_prometheus,
                                       interval=interval, timeout=self.settings.timeout))
        else:
            bar.set_status(SourceStatus("Prometheus", SourceHealth.NOT_CONFIGURED))
        for poller in self.pollers:
            bar.set_status(poller.status)
            self.run_worker(poller.run(), name=f"poll {poller.name}", group="poll", exit_on_error=False)
        self.set_interval(1.0, self._tick)

    async def on_unmount(self) -> None:
        for source in (self.alertmanager, self.prometheus):
            if source is not None:
                await source.aclose()
        await self.signals.aclose()

    # -- data arriving ---------------------------------------------------------------------------------
    def _on_alertmanager(self, status: SourceStatus, alerts: list[Alert] | None) -> None:
        status = self.silencing.on_status(status)  # cluster state, peers down; silences to the views
        was_ok = self.am_ok
        self.am_ok = status.health is SourceHealth.OK
        self._source_update(status, "am_alerts", alerts, force=was_ok != self.am_ok)

    def _on_prometheus(self, status: SourceStatus, alerts: list[Alert] | None) -> None:
        self._source_update(status, "prom_alerts", alerts)

    def _source_update(self, status: SourceStatus, attr: str, alerts: list[Alert] | None, force: bool = False) -> None:
        self.alerts_screen.query_one("#sources").set_status(status)
        changed = force
        if alerts is not None and alerts is not self._received.get(attr):  # same list: source saw no change
            self._received[attr] = alerts
            new = tuple(sorted(alerts, key=lambda a: a.fingerprint))
            if new != getattr(self, attr):
                setattr(self, attr, new)
                changed = True
        if changed:  # an unchanged poll rebuilds nothing
            self.regroup()

    def regroup(self) -> None:
        merged = grouping.merge(self.am_alerts, self.prom_alerts, alertmanager_ok=self.am_ok)
        self.incidents.observe(merged, alertmanager_ok=self.am_ok)
        self.alerts_screen.show_groups(grouping.group(merged, self.settings.group_by))

    def _tick(self) -> None:
        if not self.alerts_screen.query("#sources"):
            return  # shutting down (e.g. quit with another screen on top): the widgets are gone
        self.alerts_screen.query_one("#sources").redraw()
        self._ticks += 1
        if self._ticks % AGE_EVERY == 0:  # any changed cell re-renders the whole visible table
            self.alerts_screen.refresh_ages()

    def on_alerts_screen_incident_requested(self, event: AlertsScreen.IncidentRequested) -> None:
        self.incidents.requested(self, event.alerts, session=event.session)

    # -- actions ---------------------------------------------------------------------------------------
    def _refresh_pollers(self) -> None:
        for poller in self.pollers:
            poller.refresh_now()

    def action_refresh_now(self) -> None:
        self._refresh_pollers()
        self.signals.refresh_now()
        self.changes.refresh_now()
        self.notify("Refreshing…", timeout=1.5)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The screen's key bindings are commands too; no SVG screenshot command (R12)."""
        seen = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if (not binding.description or binding.action in seen or binding.action == "app.command_palette"
                    or binding.action.startswith("nav(")):
                continue
            seen.add(binding.action)
            yield SystemCommand(binding.description, f"{binding.tooltip or binding.description} [{key}]",
                                _runner(active.node, binding.action))
        yield SystemCommand("Theme", "Change the colour theme", self.action_change_theme)
        yield SystemCommand("Keys", "Every key of this screen, with its id for [keys] in the config", self.action_help)


def _runner(node, action: str):
    async def run() -> None:
        await node.run_action(action)

    return run
