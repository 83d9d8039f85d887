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
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

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
    def __init__(self, settings: Settings, audit: AuditLog, *, silences: Callable[[], Iterable[Silence]]) -> None:
        self.settings = settings
        self.audit = audit
        self.silences = silences
        self.tracked: dict[tuple[tuple[str, str], ...], Tracked] = {}
        self.looked: set[tuple[tuple[str, str], ...]] = set()

    # -- facts arriving --------------------------------------------------------------------------------
    def observe(self, alerts: Sequence[Alert], *, alertmanager_ok: bool, now: datetime | None = None) -> None:
        """Every merged poll: first seen for new alerts; an Alertmanager alert that is gone is resolved."""
        now = now or utcnow()
        present = set()
        for alert in alerts:
            key = labels_key(alert)
            present.add(key)
            known = self.tracked.get(key)
            if known is None:
                self.tracked[key] = Tracked(alert, now)
            else:
                known.alert, known.resolved_at = alert, None  # it may fire again after a resolve
        if not alertmanager_ok:
            return  # an unreachable Alertmanager says nothing about resolutions
        for key, known in self.tracked.items():
            if key not in present and known.resolved_at is None:
                known.resolved_at = now

    def alert_highlighted(self, alert: Alert | None) -> None:
        """The first look at a drill alert is noted in the audit log (the drill command times it)."""
        if alert is None or not is_drill(alert.labels):
            return
        key = labels_key(alert)
        if key in self.looked:
            return
        from ..incidents.notes import drill_looked

        if drill_looked(self.audit, alert):
            self.looked.add(key)

    # -- the timeline ----------------------------------------------------------------------------------
    def _tracked(self, alerts: Sequence[Alert]) -> list[Tracked]:
        return [t for a in alerts if (t := self.tracked.get(labels_key(a))) is not None]

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
        if not self.settings.prometheus_url or any(is_drill(a.labels) for a in alerts):
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
        querier = RangeQuerier(self.settings.prometheus_url, timeout=self.settings.timeout,
                               client=prometheus_client(self.settings, self.settings.timeout))
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
