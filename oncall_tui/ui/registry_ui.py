"""The app's side of the MLflow registry: runs the registry reads off the UI thread and feeds the model
panel (which it owns; the app gives it to the alerts screen and calls `alert_highlighted` as the highlight
moves). The screens (models, rollback) are given it; it imports none of them. Importing this module does
not import mlflow.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TYPE_CHECKING

from ..actions.audit import AuditLog
from ..config import Settings
from ..models import Alert, ModelServing
from .follow_cluster import FollowsCluster
from .widgets.model_panel import ModelPanel, error_line

if TYPE_CHECKING:
    from textual.app import App

    from ..sources.registry import RegistrySource

FRESH_FOR = 30.0  # seconds a panel answer is reused before it is fetched again
ERROR_FRESH_FOR = 15.0
DEBOUNCE = 0.25  # moving the cursor quickly over alerts fetches only where it stops


class RegistryUI(FollowsCluster):
    CLUSTER_STATE = ("_source", "settings", "_warnings", "cache", "inflight", "wanted")

    def fresh_cluster_state(self, settings: Settings) -> None:
        self.settings, self._source, self._warnings = settings, None, None
        self.cache, self.inflight, self.wanted = {}, set(), ""

    def __init__(self, host: App, settings: Settings, audit: AuditLog) -> None:
        self.host = host  # runs workers and timers, shows notifications, pushes screens
        self.settings = settings
        self.audit = audit
        self.panel = ModelPanel(id="model-panel")  # the alerts screen's model panel
        self._source: RegistrySource | None = None  # created on first use: nothing of it before the first frame
        self._warnings: list[str] | None = None
        self.wanted = ""  # the model the panel should show
        self.cache: dict[str, tuple[float, ModelServing | str]] = {}
        self.inflight: set[str] = set()
        self._timer = None

    @property
    def source(self) -> RegistrySource | None:
        """None when no registry is configured (--mlflow / MLFLOW_TRACKING_URI)."""
        settings = self.settings
        if self._source is None and settings.mlflow_uri:
            from ..sources.registry import RegistrySource

            self._source = RegistrySource(settings.mlflow_uri, timeout=settings.timeout)
        return self._source

    @property
    def warnings(self) -> list[str]:
        if self._warnings is None:
            from ..sources.registry import security_warnings

            self._warnings = security_warnings() if self.settings.mlflow_uri else []
        return self._warnings

    @property
    def alias(self) -> str:
        return self.settings.serving_alias

    @property
    def read_only(self) -> bool:
        return self.settings.read_only

    def model_of(self, alert: Alert | None) -> str:
        return alert.label(self.settings.model_label) if alert is not None else ""

    def _panel(self) -> ModelPanel | None:
        return self.panel if self.panel.is_mounted else None

    # -- the model panel ----------------------------------------------------------------------------------
    def alert_highlighted(self, alert: Alert | None) -> None:
        """Called for every highlight (also once a second as ages refresh): cheap when nothing changed."""
        panel = self._panel()
        if panel is None:
            return
        model = self.model_of(alert)
        if alert is None or not model:
            self.wanted = ""
            label = self.settings.model_label
            panel.show_message("No alert selected." if alert is None else
                               f"This alert has no '{label}' label: no registry lookup.")
            return
        if self.source is None:
            self.wanted = model
            panel.show_message("MLflow registry not configured (--mlflow or MLFLOW_TRACKING_URI).", model)
            return
        cached = self.cache.get(model)
        if model != self.wanted:
            self.wanted = model
            if cached is not None:
                self._show(panel, model, cached[1])
            else:
                panel.show_message("loading…", model)
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.host.set_timer(DEBOUNCE, self._fetch_wanted)
        elif cached is not None and time.monotonic() - cached[0] > (
                FRESH_FOR if isinstance(cached[1], ModelServing) else ERROR_FRESH_FOR):
            self.fetch(model)

    def _fetch_wanted(self) -> None:
        self._timer = None
        if self.wanted:
            self.fetch(self.wanted)

    def fetch(self, model: str) -> None:
        if self.source is None or model in self.inflight:
            return
        self.inflight.add(model)
        self.host.run_worker(partial(self._load, model), name=f"registry {model}", group="registry", exit_on_error=False)

    async def _load(self, model: str) -> None:
        from ..sources.registry import RegistryError

        source, cache, inflight = self.source, self.cache, self.inflight  # this cluster's, whatever comes
        assert source is not None
        try:
            result: ModelServing | str = await asyncio.to_thread(source.serving, model, self.alias)
        except RegistryError as exc:
            result = error_line(exc, model, source.display_uri)
        except Exception as exc:  # a bug must not leave the panel saying "loading…" forever
            result = f"MLflow registry error: {type(exc).__name__}: {exc}"
        finally:
            inflight.discard(model)
        cache[model] = (time.monotonic(), result)
        panel = self._panel()
        if panel is not None and model == self.wanted and cache is self.cache:
            self._show(panel, model, result)

    def _show(self, panel: ModelPanel, model: str, result: ModelServing | str) -> None:
        if isinstance(result, ModelServing):
            panel.show_serving(result, can_roll_back=not self.read_only, warnings=self.warnings)
        else:
            panel.show_message(result, model, error=True)

    def invalidate(self, model: str) -> None:
        """After a change (a rollback): drop the cached answer and show the new state."""
        self.cache.pop(model, None)
        if model == self.wanted:
            self.fetch(model)
