"""`R`: the rollback chooser's kinds, built from the features that carry them out.

- registry: move the serving alias back (RegistryUI; screens/rollback.py);
- deployment: undo the Kubernetes rollout (ClusterUI; screens/deployment_rollback.py);
- both: the registry alias, then the Deployment (screens/both_rollback.py).

Another kind is one more `RollbackKind` in `kinds()`; no screen changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # the dialogs bring the rollback actions: loaded on first use, not before the first frame
    from textual.app import App

    from ..config import Settings
    from ..models import Alert, Change
    from .cluster_ui import ClusterUI
    from .registry_ui import RegistryUI
    from .screens.rollback import RollbackKind


def _reason(alert: Alert | None) -> str:
    return f"alert {alert.name}" if alert is not None and alert.name else ""


class RollbackUI:
    def __init__(self, host: App, settings: Settings, registry: RegistryUI, cluster: ClusterUI,
                 trigger: Callable[[Alert | None], Change | None] = lambda alert: None) -> None:
        self.host = host  # pushes the chooser and the dialogs, shows notifications
        self.settings = settings
        self.registry = registry
        self.cluster = cluster
        self.trigger = trigger  # the alert's likely trigger (ui/changes_ui.py): its undo is the default target

    def kinds(self) -> list[RollbackKind]:
        from .screens.rollback import RollbackKind

        return [
            RollbackKind("registry", "Registry: move the serving alias (MLflow) back to an earlier version",
                         unavailable=self._registry_unavailable, open=self._open_registry),
            RollbackKind("deployment", "Deployment: undo the Kubernetes rollout",
                         unavailable=self.cluster.rollback_unavailable, open=self._open_deployment),
            RollbackKind("both", "Both: registry alias, then the Deployment (one confirmation, two audited steps)",
                         unavailable=self._both_unavailable, open=self._open_both),
        ]

    def open(self, alert: Alert | None) -> None:
        if self.settings.read_only or self.cluster.read_only:  # also a read-only cluster of the fleet
            self.host.notify("read-only mode: rollbacks are disabled", severity="warning")
            return
        from ..incidents import is_drill

        if alert is not None and is_drill(alert.labels):  # production is never touched for a synthetic alert
            self.host.notify("DRILL: rollbacks are refused for a fire-drill alert (it is synthetic; production is fine).",
                             severity="error", markup=False, timeout=8)
            return
        from .screens.rollback import RollbackChooser

        kinds = {kind.key: kind for kind in self.kinds()}
        trigger = self.trigger(alert)

        def chosen(key: str | None) -> None:
            if key in kinds:
                kinds[key].open(alert, trigger=trigger)

        self.host.push_screen(RollbackChooser(list(kinds.values()), alert, trigger), chosen)

    # -- registry ------------------------------------------------------------------------------------
    def _registry_unavailable(self, alert: Alert | None) -> str:
        if self.registry.source is None:
            return "MLflow registry not configured"
        if not self.registry.model_of(alert):
            return f"the alert has no '{self.settings.model_label}' label"
        return ""

    def _open_registry(self, alert: Alert | None, trigger: Change | None = None) -> None:
        from .screens.rollback import RegistryRollbackScreen

        self.host.push_screen(RegistryRollbackScreen(self.registry, self.registry.model_of(alert),
                                                     reason=_reason(alert), trigger=trigger, alert=alert))

    # -- deployment ----------------------------------------------------------------------------------
    def _open_deployment(self, alert: Alert | None, trigger: Change | None = None) -> None:
        from .screens.deployment_rollback import DeploymentRollbackScreen

        self.host.push_screen(DeploymentRollbackScreen(self.cluster, self.cluster.target(alert),
                                                       reason=_reason(alert), trigger=trigger, alert=alert))

    # -- both ----------------------------------------------------------------------------------------
    def _both_unavailable(self, alert: Alert | None) -> str:
        return self._registry_unavailable(alert) or self.cluster.rollback_unavailable(alert)

    def _open_both(self, alert: Alert | None, trigger: Change | None = None) -> None:
        from .screens.both_rollback import BothRollbackScreen

        self.host.push_screen(BothRollbackScreen(self.cluster, self.registry, alert, reason=_reason(alert)))
