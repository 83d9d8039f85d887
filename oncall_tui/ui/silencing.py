"""Silencing, wired into the app: the Alertmanager poll (alerts + silences + cluster status), the status
bar's cluster detail, the silence form, the silences screen, reconciliation and vanished silences.

The app owns one `Silencing` and gives it what it needs (settings, audit log, how to reach the Alertmanager
source, the merged alerts and a refresh); screens are handed it in their constructor, ask it for models and
give its source/audit log to the actions; the screens open each other, this module imports none of them.
It owns the alerts screen's silence panel (SilenceInfo), follows the highlighted alert through
`alert_highlighted` (wired by the app) and tells its `listeners` (the silences screen) after every poll.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from ..actions.audit import AuditLog
from ..config import Settings
from ..models import Alert, Silence, SourceStatus
from ..safe_text import redact_url
from .notices import say
from .widgets.silence_info import SilenceInfo

if TYPE_CHECKING:  # the actions import httpx: loaded on first use, not on the path to the first frame
    from textual.app import App

    from ..actions import silence as act
    from ..fleet import Fleet
    from ..sources.alertmanager import AlertmanagerSource, PeerStatus


def _host(url: str) -> str:
    return redact_url(url).split("://", 1)[-1].rstrip("/")


class Silencing:
    def __init__(self, host: App, settings: Settings, audit: AuditLog, *, fleet: Fleet,
                 alerts: Callable[[], tuple[Alert, ...]], refresh: Callable[[], None]) -> None:
        self.host = host  # runs workers, shows notifications and pushes screens
        self.settings = settings
        self.audit = audit
        self.fleet = fleet  # every cluster's Alertmanager source (made after the first frame)
        self._by_cluster: dict[str, tuple[dict[str, Silence], list[PeerStatus], list[act.ToolSilence]]] = {}
        self._alerts = alerts  # the alerts of the last Alertmanager poll
        self._refresh = refresh  # poll every source again now
        self.panel = SilenceInfo(id="silence-info")  # the alerts screen's silence panel
        self.listeners: list[Callable[[], None]] = []  # views of the silences, told after every poll
        self.silences: dict[str, Silence] = {}
        self.silences_ok = False
        self.peers: list[PeerStatus] = []
        self.vanished: list[act.ToolSilence] = []
        self.verify_timeout = 5.0
        self._records: list[dict[str, Any]] = []
        self._records_stamp: tuple[int, int] | None = None
        self._warned: set[str] = set()
        self._reconciled = False

    # -- data ----------------------------------------------------------------------------------
    @property
    def source(self) -> AlertmanagerSource | None:
        """The first cluster's Alertmanager (the only one without [[clusters]])."""
        return self.fleet.clusters[0].alertmanager

    def source_of(self, cluster: str) -> AlertmanagerSource | None:
        """The Alertmanager of the cluster an alert or silence came from (`.cluster`): actions go there."""
        return self.fleet.named(cluster).alertmanager

    def cluster_of(self, row: Silence | act.ToolSilence) -> str:
        """The `[[clusters]]` name of a silence, or of a vanished one (the cluster it vanished from)."""
        if isinstance(row, Silence):
            return row.cluster
        return next((tag for tag, (_, _, gone) in self._by_cluster.items() if row in gone), "")

    def current_alerts(self) -> tuple[Alert, ...]:
        return self._alerts()

    def alert_highlighted(self, alert: Alert | None) -> None:
        """The alerts screen's highlight moved: the silence panel shows that alert's silences."""
        if self.panel.is_mounted:
            self.panel.show_alert(alert)

    async def fetch(self, cluster: str = "") -> list[Alert]:
        """One Alertmanager poll of one cluster: alerts, silences and each peer's status, concurrently."""
        from ..actions import silence as act

        am = self.source_of(cluster)
        assert am is not None
        alerts, silences, peers = await asyncio.gather(am.alerts(), am.silences(), am.status(),
                                                       return_exceptions=True)
        known, old_peers, gone = self._by_cluster.get(cluster, ({}, [], []))
        if isinstance(peers, list):
            old_peers = peers
        if isinstance(silences, list):
            known = {s.id: s for s in silences}
            self.silences_ok = True
            gone = act.vanished(self.audit_records(), known, urls=am.urls)
        self._by_cluster[cluster] = (known, old_peers, gone)
        self.silences = {i: s for c in self._by_cluster.values() for i, s in c[0].items()}
        self.peers = [p for c in self._by_cluster.values() for p in c[1]]
        self.vanished = [v for c in self._by_cluster.values() for v in c[2]]
        if isinstance(alerts, BaseException):
            raise alerts
        return alerts

    def fetcher(self, cluster: str) -> Callable[[], Awaitable[list[Alert]]]:
        """The poll of one cluster's Alertmanager (one poll loop each)."""
        return lambda: self.fetch(cluster)

    def audit_records(self) -> list[dict[str, Any]]:
        """The audit log's records, re-read only when the file changed."""
        try:
            st = self.audit.path.stat()
        except OSError:
            return []
        stamp = (st.st_size, st.st_mtime_ns)
        if stamp != self._records_stamp:
            self._records = list(self.audit.records())
            self._records_stamp = stamp
        return self._records

    def cluster_detail(self, cluster: str = "") -> str:
        _known, peers, vanished = self._by_cluster.get(cluster, ({}, [], []))
        if not peers:
            return ""
        up = [p for p in peers if p.ok]
        states = sorted({p.cluster for p in up if p.cluster})
        parts = ["cluster " + "/".join(states)] if states else []
        if len(peers) > 1:
            parts.append(f"{len(up)}/{len(peers)} peers up")
        parts += [f"{_host(p.url)} down" for p in peers if not p.ok]
        if vanished:
            parts.append(f"⚠ {len(vanished)} silence{'s' if len(vanished) > 1 else ''} vanished")
        return " · ".join(parts)

    def on_status(self, status: SourceStatus, cluster: str = "") -> SourceStatus:
        """Called by the app with every Alertmanager poll result: add the cluster state, refresh views."""
        self.host.call_later(self._push)
        return replace(status, detail=self.cluster_detail(cluster))

    def _push(self) -> None:
        if self.panel.is_mounted:
            self.panel.set_silences(self.silences)
        for listener in list(self.listeners):
            listener()
        fresh = [v for v in self.vanished if v.silence_id not in self._warned]
        if fresh:
            self._warned.update(v.silence_id for v in fresh)
            say(self.host, f"{len(fresh)} silence(s) made with mlcall-tui vanished from Alertmanager "
                            "(a node restarted?): press S to see and re-create them",
                            severity="warning", timeout=15)
        if self.silences_ok and not self._reconciled and self.source is not None and not self.settings.read_only:
            self._reconciled = True
            self.host.run_worker(self._reconcile(), name="reconcile audit", exit_on_error=False)

    async def _reconcile(self) -> None:
        from ..actions import silence as act

        outcomes = []
        for cluster in self.fleet:
            if cluster.alertmanager is None or cluster.settings.read_only:
                continue
            try:
                outcomes += await act.reconcile(cluster.alertmanager, self.audit)
            except Exception as exc:  # the audit log may be unwritable: say so, do not crash
                say(self.host, f"could not reconcile unfinished actions: {exc}", severity="warning")
                return
        for o in outcomes:
            say(self.host, f"{o.action} {o.audit_id} from an earlier session: outcome was unknown, {o.message}",
                            severity="information" if o.ok else "warning", timeout=10)

    # -- actions -------------------------------------------------------------------------------
    def _can_write(self) -> bool:
        if self.settings.read_only:
            return False
        if self.source is None:
            say(self.host, "No Alertmanager configured: nothing to silence with.", severity="error")
            return False
        return True

    def silenceable(self, alerts: list[Alert]) -> list[Alert]:
        """The alerts the silence form may open for; [] once it said why not (read-only, no Alertmanager,
        alerts of several clusters: a silence is written to one cluster's Alertmanager)."""
        if not self._can_write():
            return []
        alerts = [a for a in alerts if a.labels]
        if not alerts:
            say(self.host, "No alert selected.", severity="warning")
        clusters = sorted({a.cluster for a in alerts})
        if len(clusters) > 1:
            say(self.host, f"These alerts come from {len(clusters)} clusters ({', '.join(clusters)}): a silence "
                           "goes to one cluster's Alertmanager. Filter with @cluster=NAME and silence each.",
                severity="warning", timeout=10)
            return []
        cluster = self.fleet.of(alerts[0]) if alerts else None
        if cluster is not None and (cluster.alertmanager is None or cluster.settings.read_only):
            say(self.host, f"Cluster {cluster.name} is read-only or has no Alertmanager: nothing to silence with.",
                severity="error")
            return []
        return alerts

    def cluster_line(self, alerts: list[Alert]) -> tuple[str, bool] | None:
        """(cluster name, danger) for the silence form when there are several clusters; None otherwise."""
        if not self.fleet.multi or not alerts:
            return None
        cluster = self.fleet.of(alerts[0])
        return cluster.name, cluster.settings.danger

    def form_done(self, outcomes: list[act.Outcome]) -> None:
        """The silence form made these silences: say so."""
        verb = "Acknowledged" if outcomes[0].action == "silence.ack" else "Silenced"
        spread = "; ".join(o.spread for o in outcomes if o.spread)
        ids = ", ".join(o.silence_id[:8] for o in outcomes)
        say(self.host, f"{verb}: {len(outcomes)} silence{'s' if len(outcomes) > 1 else ''} ({ids}) · {spread}",
                        timeout=8)

    def after_write(self) -> None:
        """Show the effect on the next poll, now, without a manual refresh."""
        self._refresh()
