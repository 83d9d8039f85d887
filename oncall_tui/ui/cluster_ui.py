"""The app's side of the Kubernetes cluster: feeds the deployment panel (reads run in worker threads),
keeps the permission checks that decide whether a rollback is offered, runs rollout watches in the
background. It owns the alerts screen's deployment panel; the app calls `alert_highlighted` as the highlight
moves. The screens (diagnose, rollbacks) are given it; it imports none of them. Importing this module does not import `kubernetes`; with no
cluster configured nothing of it is ever imported and the panel says so, quietly.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TYPE_CHECKING, Callable

from textual.worker import get_current_worker

from ..config import Settings
from ..models import AccessReview, Alert, DeploymentView, RolloutStatus
from ..safe_text import sanitize
from ..sources.cluster import ClusterError, ClusterSource, configuration_problem, target_of
from .follow_cluster import FollowsCluster
from .widgets.deployment_panel import DeploymentPanel

if TYPE_CHECKING:
    from textual.app import App

    from ..actions.audit import AuditLog

FRESH_FOR = 10.0  # seconds a panel answer is reused (pods change quickly during an incident)
ERROR_FRESH_FOR = 10.0
DEBOUNCE = 0.25


class ClusterUI(FollowsCluster):
    CLUSTER_STATE = ("source", "settings", "problem", "wanted", "cache", "inflight", "checking", "rollouts")

    def fresh_cluster_state(self, settings: Settings) -> None:
        self.settings = settings
        self.problem = configuration_problem(settings)
        self.source = None if self.problem else ClusterSource(settings)
        self.wanted, self.cache, self.inflight, self.checking, self.rollouts = ("", ""), {}, set(), set(), {}

    def __init__(self, host: App, settings: Settings, audit: AuditLog) -> None:
        self.host = host  # runs workers and timers, shows notifications
        self.settings = settings
        self.audit = audit  # the rollback dialogs' audit log
        self.panel = DeploymentPanel(id="deployment-panel")  # the alerts screen's deployment panel
        self.problem = configuration_problem(self.settings)  # "" when a cluster is configured
        self.source: ClusterSource | None = None if self.problem else ClusterSource(self.settings)
        self.wanted: tuple[str, str] = ("", "")
        self.cache: dict[tuple[str, str], tuple[float, DeploymentView | str]] = {}
        self.inflight: set[tuple[str, str]] = set()
        self.checking: set[tuple[str, str]] = set()
        self.rollouts: dict[tuple[str, str], RolloutStatus] = {}
        self.listeners: list[Callable[[tuple[str, str], RolloutStatus], None]] = []
        self._timer = None
        self._interval = None  # refreshes the shown Deployment while it is shown (pods change)

    @property
    def read_only(self) -> bool:
        return self.settings.read_only

    def target(self, alert: Alert | None) -> tuple[str, str]:
        return target_of(self.settings, alert)

    def _panel(self) -> DeploymentPanel | None:
        return self.panel if self.panel.is_mounted else None

    # -- the panel ----------------------------------------------------------------------------------------
    def alert_highlighted(self, alert: Alert | None) -> None:
        """Called on every highlight (and as ages refresh): cheap when nothing changed."""
        panel = self._panel()
        if panel is None:
            return
        key = self.target(alert)
        if self.source is not None and self._interval is None:
            self._interval = self.host.set_interval(max(FRESH_FOR, self.settings.refresh), self._refresh_wanted)
        if self.source is None:
            self.wanted = key
            panel.show_message(f"not configured: {self.problem}", quiet=True)
            return
        if alert is None or not key[1]:
            self.wanted = ("", "")
            labels = f"'{self.settings.deployment_label}' or '{self.settings.model_label}'"
            panel.show_message("No alert selected." if alert is None else f"the alert has no {labels} label",
                               quiet=True)
            return
        cached = self.cache.get(key)
        if key != self.wanted:
            self.wanted = key
            if cached is not None:
                self._show(panel, key, cached[1])
            else:
                panel.show_message("loading…", "/".join(key))
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.host.set_timer(DEBOUNCE, self._fetch_wanted)
        elif cached is not None and time.monotonic() - cached[0] > (
                FRESH_FOR if isinstance(cached[1], DeploymentView) else ERROR_FRESH_FOR):
            self.fetch(key)

    def _refresh_wanted(self) -> None:
        cached = self.cache.get(self.wanted)
        if self.wanted[1] and (cached is None or time.monotonic() - cached[0] >= FRESH_FOR):
            self.fetch(self.wanted)

    def _fetch_wanted(self) -> None:
        self._timer = None
        if self.wanted[1]:
            self.fetch(self.wanted)

    def fetch(self, key: tuple[str, str]) -> None:
        if self.source is None or key in self.inflight:
            return
        self.inflight.add(key)
        self.host.run_worker(partial(self._load, key), name=f"cluster {key[0]}/{key[1]}", group="cluster", exit_on_error=False)

    async def _load(self, key: tuple[str, str]) -> None:
        source, cache, inflight = self.source, self.cache, self.inflight  # this cluster's, whatever comes
        assert source is not None
        namespace, name = key
        try:
            result: DeploymentView | str = await asyncio.to_thread(source.view, namespace, name)
        except ClusterError as exc:
            result = describe_error(exc, source)
        except Exception as exc:  # a bug must not leave "loading…" forever
            result = f"cluster error: {type(exc).__name__}: {sanitize(exc, max_len=200)}"
        finally:
            inflight.discard(key)
        cache[key] = (time.monotonic(), result)
        if cache is not self.cache:
            return  # the highlight moved to another cluster meanwhile
        if isinstance(result, DeploymentView) and not self.read_only:
            self.check_access(key)
        self.refresh_panel(key)

    def refresh_panel(self, key: tuple[str, str]) -> None:
        panel = self._panel()
        cached = self.cache.get(key)
        if panel is not None and key == self.wanted and cached is not None:
            self._show(panel, key, cached[1])

    def _show(self, panel: DeploymentPanel, key: tuple[str, str], result: DeploymentView | str) -> None:
        if isinstance(result, DeploymentView):
            panel.show_view(result, rollback_note=self.rollback_note(key), rollout=self.rollouts.get(key))
        else:
            panel.show_message(result, "/".join(key), error=True)

    def invalidate(self, key: tuple[str, str]) -> None:
        self.cache.pop(key, None)
        if key == self.wanted:
            self.fetch(key)

    # -- permissions (SelfSubjectAccessReview, fail closed, cached with expiry) --------------------------
    def check_access(self, key: tuple[str, str]) -> None:
        if self.source is None or key in self.checking or self.source.cached_access(*key) is not None:
            return
        self.checking.add(key)
        self.host.run_worker(partial(self._check, key), group="cluster-access", exit_on_error=False)

    async def _check(self, key: tuple[str, str]) -> None:
        from ..actions.k8s_rollback import access

        try:
            await asyncio.to_thread(access, self.source, *key)
        finally:
            self.checking.discard(key)
        self.refresh_panel(key)

    def access_review(self, key: tuple[str, str]) -> AccessReview | None:
        return self.source.cached_access(*key) if self.source is not None else None

    def rollback_unavailable(self, alert: Alert | None) -> str:
        """Why the Deployment rollback is not offered for this alert ("" when it is)."""
        from ..actions.k8s_rollback import denial

        if self.read_only:
            return "read-only mode"
        if self.source is None:
            return "no Kubernetes cluster configured"
        key = self.target(alert)
        if not key[1]:
            return f"the alert has no '{self.settings.deployment_label}' or '{self.settings.model_label}' label"
        review = self.access_review(key)
        if review is None:
            self.check_access(key)
            return "checking your permissions (SelfSubjectAccessReview)… try again in a moment"
        return denial(review)

    def rollback_note(self, key: tuple[str, str]) -> str:
        from ..actions.k8s_rollback import denial

        if self.read_only:
            return "read-only: rollback disabled"
        review = self.access_review(key)
        if review is None:
            return "R rollback: checking permissions…"
        why = denial(review)
        return f"R rollback unavailable: {why}" if why else "R roll back (deployment)"

    # -- rollout watches (background) --------------------------------------------------------------------
    def watch(self, key: tuple[str, str]) -> None:
        if self.source is None:
            return
        self.rollouts[key] = RolloutStatus(0, 0, 0, 0, False, message="waiting for the first status")
        self.host.run_worker(partial(self._watch, key), name=f"rollout {key[0]}/{key[1]}", group="rollout",
                            thread=True, exit_on_error=False)

    def _watch(self, key: tuple[str, str]) -> None:
        from ..actions.k8s_rollback import watch_rollout

        worker = get_current_worker()
        deployment = self.cache.get(key)
        deadline = 900.0
        if deployment and isinstance(deployment[1], DeploymentView) and deployment[1].deployment.progress_deadline:
            deadline = deployment[1].deployment.progress_deadline + 120.0
        final = watch_rollout(self.source, key[0], key[1],
                              lambda status: self.host.call_from_thread(self._on_rollout, key, status),
                              stop=lambda: worker.is_cancelled, deadline=deadline)
        if not worker.is_cancelled:
            self.host.call_from_thread(self._rollout_finished, key, final)

    def _on_rollout(self, key: tuple[str, str], status: RolloutStatus) -> None:
        self.rollouts[key] = status
        for listener in list(self.listeners):
            listener(key, status)
        self.refresh_panel(key)

    def _rollout_finished(self, key: tuple[str, str], status: RolloutStatus) -> None:
        self.invalidate(key)
        what = f"Rollout of {key[0]}/{key[1]}: "
        self.host.notify(sanitize(what + status.message, max_len=300), title="Deployment rollback",
                        severity="error" if status.failed else "information", timeout=15, markup=False)


def describe_error(exc: ClusterError, source: ClusterSource) -> str:
    if exc.kind == "not found":
        return f"not found in {source.where}: {exc.message}"
    if exc.kind in {"unreachable", "timeout"}:
        return f"cluster unreachable: {exc.message}"
    if exc.kind in {"forbidden", "unauthorized"}:
        return f"the cluster refused ({exc.kind}): {exc.message}"
    if exc.kind == "not configured":
        return f"not configured: {exc.message}"
    return f"cluster error ({exc.kind}): {exc.message}"
