"""The app's side of the signal sparklines: fetches only the highlighted alert's series and feeds the
SignalPanel; `t` cycles the window; `z`/`enter` opens the zoom view.

Moving through the list stays instant: a cached view is drawn at once; otherwise the fetch starts after
a short debounce in a worker of group "signals" that is exclusive, so moving to another alert cancels
the requests still in flight for the previous one (async httpx: the request really is cancelled).
Every refresh interval the highlighted alert's view is fetched again (its cache entries have expired).
Importing this module does not import httpx (it stays off the path to the first frame). It owns the
alerts screen's signal panel; the app calls `alert_highlighted` as the highlight moves.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from rich.text import Text

from ..config import ConfigError, Settings
from ..models import Alert, ChangeView, SignalView
from ..safe_text import safe
from ..signals import SignalService, window_label
from .follow_cluster import FollowsCluster
from .widgets.signal_panel import SignalPanel

if TYPE_CHECKING:
    from textual.app import App

DEBOUNCE = 0.12  # seconds: holding `j` starts no fetch per row passed
GROUP = "signals"


class SignalsUI(FollowsCluster):
    CLUSTER_STATE = ("service", "settings", "_made", "error", "banner")

    def fresh_cluster_state(self, settings: Settings) -> None:
        window = self.service.window_index if self.service is not None else 0
        self.settings, self.service, self._made, self.error, self.banner = settings, None, False, "", ""
        if self.ensure_service() is not None:
            self.service.window_index = window  # the chosen time range holds across clusters

    def use_cluster(self, tag: str, settings: Settings) -> bool:
        window = self.service.window_index if self.service is not None else None
        changed = super().use_cluster(tag, settings)
        if changed and window is not None and self.service is not None:
            self.service.window_index = window
        return changed

    def __init__(self, host: App, settings: Settings, service: SignalService | None = None) -> None:
        self.host = host  # runs workers and timers, pushes the zoom screen
        self.settings = settings
        self.panel = SignalPanel(id="signal-panel")  # the alerts screen's signal panel
        self.service = service
        self.error = ""  # a configuration error, shown in the panel
        self.banner = ""  # red, above the panel: TLS verification is off
        self.alert: Alert | None = None
        self._made = service is not None
        self._timer = None
        self._interval = None
        self._last_fetch = 0.0  # monotonic time the shown view was fetched
        self.drawn = 0  # views drawn so far (the benchmark waits on it)
        self.changes: Callable[[Alert], ChangeView | None] | None = None  # the zoom view's change marks

    @property
    def refresh(self) -> float:
        return float(self.settings.refresh)

    def ensure_service(self) -> SignalService | None:
        """Created on first use (after the first frame): the querier brings httpx."""
        if not self._made:
            self._made = True
            settings = self.settings
            if settings.prometheus_url:
                try:
                    self.service = make_service(settings)
                    if self.service.querier.insecure:
                        self.banner = " TLS verification towards Prometheus is OFF (insecure_skip_verify) "
                except (ConfigError, OSError) as exc:
                    self.error = f"configuration: {exc}"
        return self.service

    def _panel(self) -> SignalPanel | None:
        panel = self.panel
        if not panel.is_mounted:
            return None
        panel.refresh_interval = self.refresh
        panel.banner = self.banner
        return panel

    async def aclose(self) -> None:
        for service in self.cluster_sources():
            if service is not None:
                await service.aclose()

    # -- the cursor moved ----------------------------------------------------------------------------
    def alert_highlighted(self, alert: Alert | None) -> None:
        panel = self._panel()
        if panel is None:
            return
        if self._interval is None:
            self._interval = self.host.set_interval(1.0, self.tick)
        service = self.ensure_service()
        same = alert is not None and self.alert is not None and alert.fingerprint == self.alert.fingerprint
        self.alert = alert
        if service is None:
            message = self.error or "Prometheus is not configured: no signal or model-health sparklines."
            panel.show_message(safe(message, "dim", max_len=400))
            return
        if same and (panel.view is not None or self._busy()):
            return  # unchanged (highlights repeat as ages refresh)
        self._cancel()
        if alert is None:
            panel.show_message(Text("No alert selected.", style="dim"))
            return
        view = service.cached_view(alert, panel.spark_columns())
        if view is not None:
            self._show(panel, view)
            return
        panel.show_loading(alert.name, service.window)
        self._timer = self.host.set_timer(DEBOUNCE, self._start)

    def reload(self) -> None:
        """Draw the highlighted alert again (the window changed, or back from the zoom view)."""
        alert, self.alert = self.alert, None
        panel = self._panel()
        if panel is not None:
            panel.view = None
        self.alert_highlighted(alert)

    def refresh_now(self) -> None:
        """ctrl+r: ask Prometheus again for the highlighted alert now; the shown view stays until then."""
        if self.service is not None:
            self.service.querier.clear()
            if self.alert is not None and self._panel() is not None:
                self._cancel()
                self._start()

    def cycle_window(self) -> str:
        service = self.ensure_service()
        if service is None:
            return ""
        label = service.cycle_window()
        self.reload()
        return label

    def zoom(self, alert: Alert | None) -> None:
        if alert is None:
            return
        from .screens.zoom import ZoomScreen

        self._cancel()
        changes = self.changes  # the alert's change marks, when that feature is wired (ui/changes_ui.py)
        self.host.push_screen(ZoomScreen(alert, self.ensure_service(), refresh=self.refresh, changes=changes),
                             callback=lambda _result: self.reload())

    def window_label(self) -> str:
        return window_label(self.service.window) if self.service else ""

    # -- fetching ------------------------------------------------------------------------------------
    def _busy(self) -> bool:
        return self._timer is not None or any(
            w.group == GROUP and w.node is self.host and not w.is_finished for w in self.host.workers)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.host.workers.cancel_group(self.host, GROUP)

    def _start(self) -> None:
        self._timer = None
        panel = self._panel()
        if self.alert is not None and self.service is not None and panel is not None:
            self.host.run_worker(self._fetch(self.alert, panel.spark_columns()), group=GROUP, exclusive=True,
                                exit_on_error=False, name=f"signals {self.alert.name}")

    async def _fetch(self, alert: Alert, width: int) -> None:
        assert self.service is not None
        window = self.service.window
        self._last_fetch = time.monotonic()
        try:
            view = await self.service.view(alert, width)
        except Exception as exc:  # a bug must not leave "loading…" for ever: say it; tick() tries again
            panel = self._panel()
            if panel is not None and self.alert is not None and self.alert.fingerprint == alert.fingerprint:
                panel.show_message(safe(f"signals unavailable: {type(exc).__name__}: {exc}", "dim", max_len=300))
            return
        panel = self._panel()
        current = self.alert is not None and alert.fingerprint == self.alert.fingerprint
        if panel is not None and current and window == self.service.window:
            self._show(panel, view)

    def _show(self, panel: SignalPanel, view: SignalView) -> None:
        self._last_fetch = time.monotonic()
        panel.show_view(view)
        self.drawn += 1

    def tick(self) -> None:
        """Every second: fetch again once the shown view is a refresh interval old; update dimming."""
        panel = self._panel()
        if panel is None:
            return
        panel.tick()
        if self.alert is not None and self.service is not None and self.host.screen is panel.screen \
                and not self._busy() and time.monotonic() - self._last_fetch >= self.refresh:
            self._start()  # also retries a view that never arrived


def make_service(settings) -> SignalService:
    """The SignalService for these settings: `[prometheus]` headers/auth/TLS and `[queries]`."""
    from .. import health_queries
    from ..sources.http_config import for_settings
    from ..sources.prometheus_queries import RangeQuerier

    http = for_settings(settings)
    querier = RangeQuerier(settings.prometheus_url, timeout=settings.timeout, ttl=settings.refresh,
                           client=http.client(settings.timeout))
    querier.insecure = http.insecure_skip_verify
    return SignalService(querier, health_queries.load(settings), model_label=settings.model_label)
