"""The app's side of "what changed?": for the highlighted alert only, collects its model's and
Deployment's changes (oncall_tui/changes.py) in a worker thread and hands them to the signal panel
(marks and the Changes list) and the alert detail (the likely trigger); the zoom view and the rollback
dialogs look them up in the cache (instant, no I/O).

It follows the alerts screen's `AlertHighlighted` (app.py's highlight_listeners); it never calls a
screen's feature. Importing this module imports neither mlflow nor kubernetes.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..actions.audit import AuditLog
from ..changes import (
    AuditChanges,
    ChangeProvider,
    ChangeService,
    ClusterChanges,
    RegistryChanges,
    Target,
    alert_start,
    likely_trigger,
    optional_providers,
    target_of,
)
from ..models import Alert, Change, ChangeView
from .follow_cluster import FollowsCluster
from .widgets.alert_detail import AlertDetail
from .widgets.change_marks import trigger_text
from .widgets.signal_panel import SignalPanel

if TYPE_CHECKING:
    from textual.app import App

    from ..config import Settings

FRESH_FOR = 30.0  # seconds a target's changes are reused before they are collected again
DEBOUNCE = 0.25  # holding `j` collects nothing for the rows passed
GROUP = "changes"


class ChangesUI(FollowsCluster):
    CLUSTER_STATE = ("service", "settings", "wanted")  # with `[[clusters]]`: the highlighted alert's cluster's

    def fresh_cluster_state(self, settings: Settings) -> None:
        self.settings, self.service, self.wanted = settings, None, None  # from the followed registry and cluster

    def __init__(self, host: App, settings: Settings, audit: AuditLog, *, panel: SignalPanel,
                 details: Callable[[], Iterable[AlertDetail]] = tuple, registry: Callable[[], Any] = lambda: None,
                 cluster: Callable[[], Any] = lambda: None, cluster_problem: Callable[[], str] = str,
                 service: ChangeService | None = None) -> None:
        """`panel`: the signal panel (marks, the Changes list); `details`: the alert details on screen (the
        likely trigger); `registry`: returns the RegistrySource or None (created lazily by its own feature);
        `cluster`: returns the ClusterSource or None, and `cluster_problem` why there is none."""
        self.host = host  # runs the timer and the worker
        self.settings = settings
        self.panel = panel
        self.details = details
        self.audit = audit
        self._registry = registry
        self._cluster = cluster
        self._cluster_problem = cluster_problem
        self.service = service
        self.alert: Alert | None = None
        self.wanted: Target | None = None
        self._timer = None
        self._audit_seen: tuple[int, int] | None = None  # (mtime_ns, size) of the audit log when last read
        self.drawn = 0  # change views handed to the panel (the benchmark waits on it)

    def _service(self) -> ChangeService:
        if self.service is None:
            providers: list[ChangeProvider] = []
            missing: list[tuple[str, str]] = []
            registry = self._registry()
            if registry is not None:
                providers.append(RegistryChanges(registry, self.audit))
            else:
                providers.append(AuditChanges(self.audit))
                missing.append(("MLflow registry", "not configured (--mlflow or MLFLOW_TRACKING_URI)"))
            cluster = self._cluster()
            if cluster is not None:
                providers.append(ClusterChanges(cluster))
            else:
                missing.append(("Kubernetes", self._cluster_problem() or "not configured"))
            extra, absent = optional_providers(self.settings)
            self.service = ChangeService(providers + extra, missing + absent, ttl=FRESH_FOR, needs=self._needs)
        return self.service

    def _needs(self, provider: ChangeProvider, target: Target) -> str:
        if provider.name in {"MLflow registry", "audit log"} and not target.model:
            return f"the alert has no '{self.settings.model_label}' label"
        if provider.name == "Kubernetes" and not target.deployment:
            return f"the alert has no '{self.settings.deployment_label}' or '{self.settings.model_label}' label"
        return ""

    # -- lookups for other screens (instant) ----------------------------------------------------------
    def cached_view(self, alert: Alert | None) -> ChangeView | None:
        if alert is None or self.service is None:
            return None
        return self.service.cached(target_of(self.settings, alert), fresh_only=False)

    def trigger(self, alert: Alert | None) -> Change | None:
        """The likely trigger of `alert`, from the changes already collected (None when not known yet)."""
        return likely_trigger(self.cached_view(alert), alert_start(alert))

    # -- the cursor moved ----------------------------------------------------------------------------
    def alert_highlighted(self, alert: Alert | None) -> None:
        """Called for every highlight (repeats too): cheap when nothing changed."""
        self.alert = alert
        target = target_of(self.settings, alert)
        if alert is None or not (target.model or target.deployment):
            self.wanted = None
            self._push(alert, None)
            return
        service = self._service()
        self._audit_changed(service)
        fresh = service.cached(target)
        if fresh is not None:
            self._push(alert, fresh)
            return
        self._push(alert, service.cached(target, fresh_only=False))  # the old answer until the new one
        if target == self.wanted and (self._timer is not None or self._busy()):
            return
        self.wanted = target
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.host.set_timer(DEBOUNCE, self._start)

    def refresh_now(self) -> None:
        """ctrl+r: collect the highlighted alert's changes again now."""
        if self.service is not None:
            self.service.clear()
            self.wanted = None
            self.alert_highlighted(self.alert)

    def _audit_changed(self, service: ChangeService) -> None:
        """A new audit record (a rollback just ran, here or in another session): collect again."""
        try:
            stat = self.audit.path.stat()
            seen = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            seen = (0, 0)
        if self._audit_seen is not None and seen != self._audit_seen:
            service.clear()
        self._audit_seen = seen

    def _busy(self) -> bool:
        return any(w.group == GROUP and not w.is_finished for w in self.host.workers)

    def _start(self) -> None:
        self._timer = None
        if self.wanted is not None and self.alert is not None:
            self.host.run_worker(partial(self._load, self.wanted), group=GROUP, exclusive=True,
                                exit_on_error=False, name=f"changes {self.wanted.model or self.wanted.deployment}")

    async def _load(self, target: Target) -> None:
        service = self._service()
        try:
            await asyncio.to_thread(service.collect, target)
        except Exception as exc:  # a bug: said in the panel's list, never "loading" for ever
            view = ChangeView(errors=(("changes", f"{type(exc).__name__}: {exc}"),))
            self._push(self.alert, view)
            return
        if service is self.service and self.alert is not None and target_of(self.settings, self.alert) == target:
            self._push(self.alert, service.cached(target, fresh_only=False))  # (not after a move to another cluster)

    def _push(self, alert: Alert | None, view: ChangeView | None) -> None:
        if not self.panel.is_mounted:
            return
        fingerprint = alert.fingerprint if alert is not None else ""
        start = alert_start(alert)
        self.panel.show_changes(fingerprint, view, start)
        trigger = likely_trigger(view, start)
        for detail in self.details():
            detail.show_trigger(fingerprint, trigger_text(trigger, start) if trigger and start is not None else None)
        if view is not None:
            self.drawn += 1
