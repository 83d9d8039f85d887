"""The app's side of the MLflow registry: runs the registry reads off the UI thread and feeds the model
panel; opens the models screen and the rollback dialog. Importing this module does not import mlflow.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TYPE_CHECKING

from ..actions.audit import AuditLog
from ..models import Alert, ModelServing
from .widgets.model_panel import ModelPanel

if TYPE_CHECKING:
    from ..sources.registry import RegistryError, RegistrySource
    from .app import MlcallApp

FRESH_FOR = 30.0  # seconds a panel answer is reused before it is fetched again
ERROR_FRESH_FOR = 15.0
DEBOUNCE = 0.25  # moving the cursor quickly over alerts fetches only where it stops


def error_line(exc: RegistryError, model: str, where: str) -> str:
    """One clear sentence for the panel about why the model cannot be shown."""
    from ..sources.registry import NOT_FOUND, PERMISSION_DENIED, UNAUTHENTICATED

    if exc.kind == NOT_FOUND:
        return f"{model} is not in the MLflow registry at {where}"
    if exc.kind == PERMISSION_DENIED:
        return f"MLflow registry refused access (403 permission denied; READ on the model is needed): {exc.message}"
    if exc.kind == UNAUTHENTICATED:
        return "MLflow registry wants credentials (MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD)"
    return f"MLflow registry unavailable ({exc.kind}): {exc.message}"


class RegistryUI:
    def __init__(self, app: MlcallApp) -> None:
        self.app = app
        self._source: RegistrySource | None = None  # created on first use: nothing of it before the first frame
        self._warnings: list[str] | None = None
        self.wanted = ""  # the model the panel should show
        self.cache: dict[str, tuple[float, ModelServing | str]] = {}
        self.inflight: set[str] = set()
        self._timer = None
        self._audit: AuditLog | None = None

    @property
    def source(self) -> RegistrySource | None:
        """None when no registry is configured (--mlflow / MLFLOW_TRACKING_URI)."""
        settings = self.app.settings
        if self._source is None and settings.mlflow_uri:
            from ..sources.registry import RegistrySource

            self._source = RegistrySource(settings.mlflow_uri, timeout=settings.timeout)
        return self._source

    @property
    def warnings(self) -> list[str]:
        if self._warnings is None:
            from ..sources.registry import security_warnings

            self._warnings = security_warnings() if self.app.settings.mlflow_uri else []
        return self._warnings

    @property
    def alias(self) -> str:
        return self.app.settings.serving_alias

    @property
    def read_only(self) -> bool:
        return self.app.settings.read_only

    @property
    def audit(self) -> AuditLog:
        shared = getattr(self.app, "audit", None)
        if isinstance(shared, AuditLog):
            return shared
        if self._audit is None:
            self._audit = AuditLog(self.app.settings.audit_path, self.app.settings.author)
        return self._audit

    def model_of(self, alert: Alert | None) -> str:
        return alert.label(self.app.settings.model_label) if alert is not None else ""

    def _panel(self) -> ModelPanel | None:
        found = self.app.alerts_screen.query(ModelPanel)
        return found.first() if found else None

    # -- the model panel ----------------------------------------------------------------------------------
    def alert_highlighted(self, alert: Alert | None) -> None:
        """Called for every highlight (also once a second as ages refresh): cheap when nothing changed."""
        panel = self._panel()
        if panel is None:
            return
        model = self.model_of(alert)
        if alert is None or not model:
            self.wanted = ""
            label = self.app.settings.model_label
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
            self._timer = self.app.set_timer(DEBOUNCE, self._fetch_wanted)
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
        self.app.run_worker(partial(self._load, model), name=f"registry {model}", group="registry", exit_on_error=False)

    async def _load(self, model: str) -> None:
        from ..sources.registry import RegistryError

        assert self.source is not None
        try:
            result: ModelServing | str = await asyncio.to_thread(self.source.serving, model, self.alias)
        except RegistryError as exc:
            result = error_line(exc, model, self.source.display_uri)
        except Exception as exc:  # a bug must not leave the panel saying "loading…" forever
            result = f"MLflow registry error: {type(exc).__name__}: {exc}"
        finally:
            self.inflight.discard(model)
        self.cache[model] = (time.monotonic(), result)
        panel = self._panel()
        if panel is not None and model == self.wanted:
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

    # -- screens -------------------------------------------------------------------------------------------
    def open_models(self, model: str = "") -> None:
        if self.source is None:
            self.app.notify("MLflow registry not configured (--mlflow or MLFLOW_TRACKING_URI).",
                            severity="warning")
            return
        from .screens.models import ModelsScreen

        self.app.push_screen(ModelsScreen(self, select=model or self.wanted))

    def open_rollback(self, alert: Alert | None) -> None:
        if self.read_only:  # no binding exists then; this guards the command palette and scripts
            self.app.notify("read-only mode: rollbacks are disabled", severity="warning")
            return
        from .screens.rollback import open_rollback

        changes = getattr(self.app, "changes", None)  # its likely trigger's undo becomes the default target
        open_rollback(self.app, alert, changes.trigger(alert) if changes is not None else None)
