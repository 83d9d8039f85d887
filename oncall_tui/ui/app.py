"""The application: wires settings, sources, poll loops, features and screens together. Nothing else.

Each feature gets what it needs here (settings, the audit log, the sources); each screen gets its features
in its constructor. The alerts screen's `AlertHighlighted` is handed to every feature that follows the
highlighted alert (`highlight_listeners`): a new panel is a feature with a `panel` and `alert_highlighted`,
added below, and no screen changes.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Callable, Iterable

from rich.text import Text
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .. import grouping
from ..actions.audit import AuditLog
from ..config import Settings
from ..fleet import Cluster, Fleet
from ..models import Alert, AlertGroup, SourceHealth, SourceStatus
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
WARM_FROM = 5000  # alerts from which the filter's search texts are prepared in a thread after a change
POLL_CONCURRENCY = 4  # fetches at once over every cluster's poll loops (a fleet of 10 never opens 20)


class MlcallApp(ErgonomicApp):  # themes, keys, help, danger profile, small terminals
    CSS_PATH = "app.tcss"
    TITLE = "mlcall-tui"
    BINDINGS = [Binding("ctrl+c", "quit", "Quit", show=False, priority=True)]

    def __init__(self, settings: Settings, *, alertmanager: AlertmanagerSource | None = None,
                 prometheus: PrometheusSource | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.fleet = Fleet(settings, alertmanager=alertmanager, prometheus=prometheus)  # its clusters' sources
        self._alerts: dict[tuple[str, str], tuple[Alert, ...]] = {}  # (kind, cluster tag) → alerts by fingerprint
        self._am_ok: dict[str, bool] = {}
        self._merged: dict[str, list[Alert]] = {}  # each cluster's alerts (Alertmanager's, or Prometheus')
        self._groups: dict[str, list[AlertGroup]] = {}  # each cluster's groups, until its alerts change
        self._received: dict[tuple[str, str], list[Alert]] = {}
        self._ticks = 0
        self.pollers: list[Poller] = []
        self._poller_of: list[tuple[Cluster, str]] = []  # beside self.pollers: whose and which source
        self.audit = AuditLog(settings.audit_path, settings.author)  # the one audit log of this session
        # silences: the Alertmanager poll, the silence panel, form and screen
        self.silencing = Silencing(self, settings, self.audit, fleet=self.fleet,
                                   alerts=lambda: self.am_alerts, refresh=self._refresh_pollers)
        first = self.fleet.clusters[0].settings if self.fleet.multi else settings  # followed: see _follow
        self.signals = SignalsUI(self, first)  # signal and model-health sparklines, zoom view
        self.registry = RegistryUI(self, first, self.audit)  # the model panel, models screen
        self.cluster = ClusterUI(self, first, self.audit)  # deployment panel, access reviews, rollout watches
        # what changed before the alert: marks on the sparkline, the Changes list, the likely trigger
        self.changes = ChangesUI(self, first, self.audit, panel=self.signals.panel, details=self._details,
                                 registry=lambda: self.registry.source, cluster=lambda: self.cluster.source,
                                 cluster_problem=lambda: self.cluster.problem)
        self.signals.changes = self.changes.cached_view
        self.rollback = RollbackUI(self, settings, self.registry, self.cluster,  # `R`: registry, deployment, both
                                   trigger=self.changes.trigger)
        settings_of = lambda alert: self.fleet.of(alert).settings  # noqa: E731 - the alert's own cluster's
        self.runbooks = RunbooksUI(self, settings, self.audit, settings_of=settings_of)  # `r`: runbook, its steps
        # `i`: incident timelines; first seen / resolved per alert; notes the first look at a drill alert
        self.incidents = IncidentsUI(settings, self.audit, silences=lambda: tuple(self.silencing.silences.values()),
                                     settings_of=settings_of)
        # the panels beside the alert's detail, in this order, and who follows the highlighted alert
        panels = (self.signals.panel, self.registry.panel, self.cluster.panel,
                  self.silencing.panel)  # last: in the 2×2 grid the silence panel spans the row below
        self.highlight_listeners: list[Callable[[Alert | None], None]] = [
            self.silencing.alert_highlighted, self.signals.alert_highlighted, self.registry.alert_highlighted,
            self.cluster.alert_highlighted, self.changes.alert_highlighted, self.incidents.alert_highlighted]
        self.alerts_screen = AlertsScreen(
            title=self._title(), read_only=settings.read_only, panels=panels, silencing=self.silencing,
            runbooks=self.runbooks, registry=self.registry, cluster=self.cluster, signals=self.signals,
            rollback=self.rollback, clusters=self.fleet.multi)
        if self.fleet.multi:
            for feature in (self.signals, self.registry, self.cluster, self.changes):
                feature.cluster_tag = self.fleet.clusters[0].tag
        self.setup_theme()

    def _details(self) -> Iterable[AlertDetail]:
        return self.alerts_screen.query(AlertDetail) if self.alerts_screen.is_mounted else ()

    @property
    def am_alerts(self) -> tuple[Alert, ...]:
        """Every cluster's Alertmanager alerts of the last polls."""
        parts = [alerts for (kind, _), alerts in self._alerts.items() if kind == "am"]
        return parts[0] if len(parts) == 1 else tuple(a for part in parts for a in part)

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

    @property
    def current_cluster(self) -> Cluster:
        """The highlighted alert's cluster: the one every action and panel goes to."""
        return self.fleet.named(self.signals.cluster_tag or "")

    def _follow(self, alert: Alert | None) -> None:
        """The panels' features and the actions follow the highlighted alert's cluster."""
        if not self.fleet.multi or alert is None:
            return
        cluster = self.fleet.of(alert)
        for feature in (self.signals, self.registry, self.cluster, self.changes):  # changes: last, it asks the others
            feature.use_cluster(cluster.tag, cluster.settings)

    def danger_profile(self, screen: Screen) -> str | None:
        """A screen opened from an alert acts on its cluster: red with the cluster's name if that is a danger
        one. The alerts screen shows every cluster: only a danger profile of the whole session turns it red."""
        if self.fleet.multi and screen is not self.alerts_screen:
            cluster = self.current_cluster
            return f"{cluster.name} (cluster)" if cluster.settings.danger else None
        return super().danger_profile(screen)

    def on_alerts_screen_alert_highlighted(self, event: AlertsScreen.AlertHighlighted) -> None:
        self._follow(event.alert)
        for listener in self.highlight_listeners:
            listener(event.alert)

    def on_alerts_screen_ready(self) -> None:
        # httpx and its TLS context cost ~0.3 s: paint the first frame before paying for them
        self.call_after_refresh(self._start_polling)

    def _start_polling(self) -> None:
        """One poll loop per source per cluster, started once the screen they feed is on screen; they
        back off independently, and at most POLL_CONCURRENCY of them fetch at once."""
        self.fleet.make_sources()  # sources (and httpx) are made after the first frame, not before it
        bar = self.alerts_screen.query_one("#sources")
        interval, timeout = self.settings.refresh, self.settings.timeout
        limit = asyncio.Semaphore(POLL_CONCURRENCY) if self.fleet.multi else None
        for cluster in self.fleet:
            where = cluster.name if self.fleet.multi else ""  # the status bar folds clusters together
            if cluster.alertmanager is not None:
                self.pollers.append(Poller("Alertmanager", self.silencing.fetcher(cluster.tag),
                                           self._reporter(cluster, "am"), interval=interval, timeout=timeout,
                                           limit=limit))
                if where:  # several clusters: in the order of the config
                    bar.set_status(self.pollers[-1].status, cluster=where)
            else:
                cluster.statuses["Alertmanager"] = SourceStatus("Alertmanager", SourceHealth.NOT_CONFIGURED)
                bar.set_status(cluster.statuses["Alertmanager"], cluster=where)
            if cluster.prometheus is not None:
                self.pollers.append(Poller("Prometheus", cluster.prometheus.alerts, self._reporter(cluster, "prom"),
                                           interval=interval, timeout=timeout, limit=limit))
                if where:  # several clusters: in the order of the config
                    bar.set_status(self.pollers[-1].status, cluster=where)
            else:
                cluster.statuses["Prometheus"] = SourceStatus("Prometheus", SourceHealth.NOT_CONFIGURED)
                bar.set_status(cluster.statuses["Prometheus"], cluster=where)
        for poller, (cluster, _kind) in zip(self.pollers, self._poller_of, strict=True):
            if not self.fleet.multi:
                bar.set_status(poller.status)
            self.run_worker(poller.run(), name=f"poll {cluster.name} {poller.name}", group="poll",
                            exit_on_error=False)
        self.set_interval(1.0, self._tick)

    def _reporter(self, cluster: Cluster, kind: str) -> Callable[[SourceStatus, list[Alert] | None], None]:
        self._poller_of.append((cluster, kind))

        return lambda status, alerts: self.deliver(cluster, kind, status, alerts)

    def deliver(self, cluster: Cluster, kind: str, status: SourceStatus, alerts: list[Alert] | None) -> None:
        """A poll of one source ("am" or "prom") of one cluster finished: status bar, alerts, silences."""
        force = False
        if kind == "am":
            status = self.silencing.on_status(status, cluster.tag)  # cluster state, peers down; silences
            was_ok = self._am_ok.get(cluster.tag, False)
            self._am_ok[cluster.tag] = status.health is SourceHealth.OK
            force = was_ok != self._am_ok[cluster.tag]
        cluster.statuses[status.name] = status
        self._source_update(cluster, status, kind, alerts, force=force)

    async def on_unmount(self) -> None:
        await self.fleet.aclose()
        await self.signals.aclose()

    # -- data arriving ---------------------------------------------------------------------------------
    def _source_update(self, cluster: Cluster, status: SourceStatus, kind: str, alerts: list[Alert] | None,
                       force: bool = False) -> None:
        self.alerts_screen.query_one("#sources").set_status(status, cluster=cluster.name if self.fleet.multi else "")
        changed = force
        key = (kind, cluster.tag)
        if alerts is not None and alerts is not self._received.get(key):  # same list: source saw no change
            self._received[key] = alerts
            new = tuple(sorted(alerts, key=lambda a: a.fingerprint))
            if new != self._alerts.get(key, ()):
                self._alerts[key] = new
                changed = True
        if changed:  # an unchanged poll rebuilds nothing; a changed one regroups its own cluster only
            self._groups.pop(cluster.tag, None)
            self.regroup()

    def regroup(self) -> None:
        for cluster in self.fleet:  # Prometheus' firing alerts stand in for a dead Alertmanager of ITS cluster
            if cluster.tag not in self._groups:
                merged = grouping.merge(self._alerts.get(("am", cluster.tag), ()),
                                        self._alerts.get(("prom", cluster.tag), ()),
                                        alertmanager_ok=self._am_ok.get(cluster.tag, False))
                self._merged[cluster.tag] = merged
                self._groups[cluster.tag] = grouping.group(merged, self.settings.group_by)
        self.incidents.observe([a for c in self.fleet for a in self._merged[c.tag]],
                               blind={c.tag for c in self.fleet if not self._am_ok.get(c.tag, False)})
        runs = [self._groups[c.tag] for c in self.fleet]
        groups = runs[0] if len(runs) == 1 else grouping.combine(runs)
        self.alerts_screen.show_groups(groups)
        if sum(g.count for g in groups) >= WARM_FROM:  # the filter's first keystroke finds them ready
            self.run_worker(partial(_warm_search, groups), thread=True, group="warm", exit_on_error=False,
                            name="warm search", description="filter search texts")

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


def _warm_search(groups: list[AlertGroup]) -> None:
    for g in groups:
        g.search_blob  # noqa: B018 - a cached_property: computed here, in a worker thread, once


def _runner(node, action: str):
    async def run() -> None:
        await node.run_action(action)

    return run
