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
from typing import TYPE_CHECKING, Any, Callable

from ..actions.audit import AuditLog
from ..config import Settings
from ..models import Alert, Silence, SourceStatus
from ..safe_text import redact_url
from .notices import say
from .widgets.silence_info import SilenceInfo

if TYPE_CHECKING:  # the actions import httpx: loaded on first use, not on the path to the first frame
    from textual.app import App

    from ..actions import silence as act
    from ..sources.alertmanager import AlertmanagerSource, PeerStatus


def _host(url: str) -> str:
    return redact_url(url).split("://", 1)[-1].rstrip("/")


class Silencing:
    def __init__(self, host: App, settings: Settings, audit: AuditLog, *,
                 source: Callable[[], AlertmanagerSource | None], alerts: Callable[[], tuple[Alert, ...]],
                 refresh: Callable[[], None]) -> None:
        self.host = host  # runs workers, shows notifications and pushes screens
        self.settings = settings
        self.audit = audit
        self._source = source  # the Alertmanager source is made after the first frame
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
        return self._source()

    def current_alerts(self) -> tuple[Alert, ...]:
        return self._alerts()

    def alert_highlighted(self, alert: Alert | None) -> None:
        """The alerts screen's highlight moved: the silence panel shows that alert's silences."""
        if self.panel.is_mounted:
            self.panel.show_alert(alert)

    async def fetch(self) -> list[Alert]:
        """One Alertmanager poll: alerts, silences and each peer's status, concurrently."""
        from ..actions import silence as act

        am = self.source
        assert am is not None
        alerts, silences, peers = await asyncio.gather(am.alerts(), am.silences(), am.status(),
                                                       return_exceptions=True)
        if isinstance(peers, list):
            self.peers = peers
        if isinstance(silences, list):
            self.silences = {s.id: s for s in silences}
            self.silences_ok = True
            self.vanished = act.vanished(self.audit_records(), self.silences, urls=am.urls)
        if isinstance(alerts, BaseException):
            raise alerts
        return alerts

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

    def cluster_detail(self) -> str:
        if not self.peers:
            return ""
        up = [p for p in self.peers if p.ok]
        states = sorted({p.cluster for p in up if p.cluster})
        parts = ["cluster " + "/".join(states)] if states else []
        if len(self.peers) > 1:
            parts.append(f"{len(up)}/{len(self.peers)} peers up")
        parts += [f"{_host(p.url)} down" for p in self.peers if not p.ok]
        if self.vanished:
            parts.append(f"⚠ {len(self.vanished)} silence{'s' if len(self.vanished) > 1 else ''} vanished")
        return " · ".join(parts)

    def on_status(self, status: SourceStatus) -> SourceStatus:
        """Called by the app with every Alertmanager poll result: add the cluster state, refresh views."""
        self.host.call_later(self._push)
        return replace(status, detail=self.cluster_detail())

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

        assert self.source is not None
        try:
            outcomes = await act.reconcile(self.source, self.audit)
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
        """The alerts the silence form may open for; [] once it said why not (read-only, no Alertmanager…)."""
        if not self._can_write():
            return []
        alerts = [a for a in alerts if a.labels]
        if not alerts:
            say(self.host, "No alert selected.", severity="warning")
        return alerts

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
