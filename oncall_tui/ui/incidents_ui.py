"""The app's side of incidents: remembers when this session first saw each alert and when it went away,
notes the first look at a drill alert, and opens the incident timeline (`i`) with what it needs.

It reacts to the alerts screen's messages (AlertHighlighted, IncidentRequested); the timeline screen gets a
loader, an export directory and (for drills) a resolve callback in its constructor.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Container, Iterable, Sequence

from ..actions.audit import AuditLog
from ..config import Settings
from ..incidents import is_drill
from ..models import Alert, Silence, utcnow

if TYPE_CHECKING:
    from textual.app import App

    from ..incidents.timeline import Timeline


def labels_key(alert: Alert) -> tuple[tuple[str, str], ...]:
    """Pending (Prometheus) and firing (Alertmanager) copies of one alert share their labels."""
    return tuple(sorted(alert.labels.items()))


@dataclass
class Tracked:
    alert: Alert
    first_seen: datetime
    resolved_at: datetime | None = None


class IncidentsUI:
    def __init__(self, settings: Settings, audit: AuditLog, *, silences: Callable[[], Iterable[Silence]],
                 settings_of: Callable[[Alert], Settings] | None = None) -> None:
        """`settings_of`: an alert's own cluster's settings (its Prometheus), with `[[clusters]]`."""
        self.settings = settings
        self.settings_of = settings_of or (lambda alert: settings)
        self.audit = audit
        self.silences = silences
        self.tracked: dict[str, Tracked] = {}  # by fingerprint
        self.pending: dict[tuple[tuple[str, str], ...], tuple[datetime, str]] = {}  # labels → (first seen, fp)
        self.looked: set[str] = set()

    # -- facts arriving --------------------------------------------------------------------------------
    def observe(self, alerts: Sequence[Alert], *, blind: Container[str] = (), now: datetime | None = None) -> None:
        """Every merged poll: first seen for new alerts; an alert that is gone is resolved, unless its cluster
        is `blind` (its Alertmanager is unreachable: that says nothing about resolutions).

        Keyed by fingerprint (cheap at 5,000 alerts); labels are hashed only for new alerts, so a pending
        alert from Prometheus hands its first-seen time to the Alertmanager alert it becomes.
        """
        now = now or utcnow()
        tracked = self.tracked
        present = set()
        for alert in alerts:
            fp = alert.fingerprint
            present.add(fp)
            known = tracked.get(fp)
            if known is not None:
                known.alert = alert
                if known.resolved_at is not None:  # it fired again after a resolve
                    known.resolved_at = None
                continue
            key = labels_key(alert)
            if alert.source == "prometheus":
                self.pending.setdefault(key, (now, fp))
                tracked[fp] = Tracked(alert, now)
                continue
            seen, pending_fp = self.pending.pop(key, (now, ""))
            tracked.pop(pending_fp, None)  # the pending copy became this alert
            tracked[fp] = Tracked(alert, seen)
        for fp, known in tracked.items():
            if known.resolved_at is None and fp not in present and known.alert.cluster not in blind:
                known.resolved_at = now

    def alert_highlighted(self, alert: Alert | None) -> None:
        """The first look at a drill alert is noted in the audit log (the drill command times it)."""
        if alert is None or not is_drill(alert.labels):
            return
        if alert.fingerprint in self.looked:
            return
        from ..incidents.notes import drill_looked

        if drill_looked(self.audit, alert):
            self.looked.add(alert.fingerprint)

    # -- the timeline ----------------------------------------------------------------------------------
    def _tracked(self, alerts: Sequence[Alert]) -> list[Tracked]:
        return [t for a in alerts if (t := self.tracked.get(a.fingerprint)) is not None]

    async def timeline(self, alerts: Sequence[Alert]) -> Timeline:
        from ..incidents.timeline import build

        tracked = self._tracked(alerts)
        alerts = [t.alert for t in tracked] or list(alerts)
        first_seen = min((t.first_seen for t in tracked), default=None)
        ended = [t.resolved_at for t in tracked]
        resolved_at = max(ended) if ended and all(e is not None for e in ended) else None  # type: ignore[type-var]
        records = await asyncio.to_thread(lambda: list(self.audit.records()))
        transitions = await self._transitions(alerts, resolved_at)
        return build(alerts, records=records, silences=list(self.silences()), first_seen=first_seen,
                     transitions=transitions, resolved_at=resolved_at, model_label=self.settings.model_label,
                     deployment_label=self.settings.deployment_label)

    async def _transitions(self, alerts: Sequence[Alert], resolved_at: datetime | None) -> list[tuple[datetime, str]]:
        """pending → firing → inactive from Prometheus' ALERTS series (nothing when it cannot answer)."""
        settings = self.settings_of(alerts[0]) if alerts else self.settings
        if not settings.prometheus_url or any(is_drill(a.labels) for a in alerts):
            return []
        from ..incidents.history import active_since, selector, step_for, transitions
        from ..incidents.timeline import common
        from ..sources.http_config import prometheus_client
        from ..sources.prometheus_queries import RangeQuerier

        starts = [a.starts_at for a in alerts if a.starts_at is not None]
        now = utcnow()
        start = (min(starts) if starts else now).timestamp() - 1800
        end = min(now.timestamp(), (resolved_at.timestamp() + 600) if resolved_at else now.timestamp())
        step = step_for(end - start)
        labels = common(alerts)
        querier = RangeQuerier(settings.prometheus_url, timeout=settings.timeout,
                               client=prometheus_client(settings, settings.timeout))
        try:
            alerts_q, for_q = await asyncio.gather(
                querier.query_range(selector("ALERTS", labels), start, end, step),
                querier.query_range(selector("ALERTS_FOR_STATE", labels), start, end, step))
        finally:
            await querier.aclose()
        if not alerts_q.ok:
            return []
        marks = transitions(alerts_q.series, step, end)
        since = active_since(for_q.series) if for_q.ok else None
        pending = [m for m in marks if m[1] == "pending"]
        if since is not None and (not pending or since < pending[0][0]):
            marks = sorted([m for m in marks if m is not (pending[0] if pending else None)] + [(since, "pending")])
        return marks

    def requested(self, app: App, alerts: Sequence[Alert], *, session: bool = False) -> None:
        if not session:
            self.open(app, alerts)
            return
        from .screens.session_incidents import SessionIncidentsScreen

        app.push_screen(SessionIncidentsScreen(
            lambda: [(t.alert, t.first_seen, t.resolved_at) for t in self.tracked.values()],
            lambda alert: self.open(app, [alert])))

    def open(self, app: App, alerts: Sequence[Alert]) -> None:
        from .screens.incident import IncidentScreen

        alerts = [a for a in alerts if a.labels]
        if not alerts:
            app.notify("No alert selected.", severity="warning")
            return
        drill = any(is_drill(a.labels) for a in alerts)
        resolve = None
        if drill and not self.settings.read_only:
            from ..incidents.notes import drill_resolved

            def resolve(reason: str) -> None:
                for alert in alerts:
                    drill_resolved(self.audit, alert, reason)

        app.push_screen(IncidentScreen(alerts[0].name, lambda: self.timeline(alerts),
                                       export_dir=Path(self.settings.audit_path).parent / "reports",
                                       resolve=resolve, refresh=self.settings.refresh))
