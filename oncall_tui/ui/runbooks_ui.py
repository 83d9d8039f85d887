"""The app's side of runbooks: `r` resolves the highlighted alert's runbook and opens it.

A runbook found on disk (flags, MLCALL_RUNBOOKS, config, bundled) opens at once; when only the generic
one matches and the alert's annotation is an http(s) URL, that page is fetched (bounded, sanitized,
nothing runnable) in a worker and shown instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..safe_text import sanitize

if TYPE_CHECKING:  # the runbook modules (yaml, markdown) load on first use, not before the first frame
    from textual.app import App

    from ..actions.audit import AuditLog
    from ..config import Settings
    from ..models import Alert
    from ..runbooks import Resolution


class RunbooksUI:
    def __init__(self, host: App, settings: Settings, audit: AuditLog, *,
                 settings_of: Callable[[Alert], Settings] | None = None) -> None:
        """`settings_of`: an alert's own cluster's settings, with `[[clusters]]` (its Prometheus, MLflow,
        kube context and read-only flag fill the runbook's `config.*` values and gate its steps)."""
        self.host = host  # runs the fetch worker, shows notifications, pushes the runbook screen
        self.settings = settings
        self.settings_of = settings_of or (lambda alert: settings)
        self.audit = audit
        self._intents: dict[tuple[str, int], str] = {}

    def config(self, alert: Alert) -> dict[str, str]:
        """`config.*` placeholders: every value the alert's cluster uses (no credentials); a missing one
        blocks the steps that need it (see runbook_steps.config_values)."""
        from ..runbook_steps import config_values
        from ..sources.cluster import current_context

        settings = self.settings_of(alert)
        return config_values(settings, kube_context=current_context(settings))

    def open(self, alert: Alert | None) -> None:
        if alert is None:
            self.host.notify("No alert selected.", severity="warning")
            return
        from ..runbooks import resolve, runbook_dirs

        dirs = runbook_dirs(self.settings.runbook_dirs)
        resolution = resolve(alert, dirs)
        if resolution.reason in ("generic", "none") and resolution.url.startswith(("http://", "https://")):
            self.host.run_worker(self._open_remote(alert, resolution), group="runbook-fetch", exclusive=True)
            return
        self._push(alert, resolution)

    async def _open_remote(self, alert: Alert, fallback: Resolution) -> None:
        from ..runbooks import Resolution, fetch_remote, remote_runbook

        try:
            text = await fetch_remote(fallback.url, timeout=min(5.0, self.settings.timeout))
        except Exception as exc:
            self.host.notify(sanitize(f"Runbook page not fetched ({exc}); showing the generic runbook.",
                                     single_line=True, max_len=200), severity="warning", markup=False)
            self._push(alert, fallback)
            return
        self._push(alert, Resolution(remote_runbook(fallback.url, text), "remote", fallback.url))

    def _push(self, alert: Alert, resolution: Resolution) -> None:
        from ..incidents.notes import runbook_opened
        from .screens.runbook import RunbookScreen

        runbook_opened(self.audit, alert, resolution.runbook.name if resolution.runbook else resolution.url)
        self.host.push_screen(RunbookScreen(alert, resolution, read_only=self.settings_of(alert).read_only,
                                           audit=self.record, config=self.config(alert)))

    def record(self, event: dict[str, Any]) -> None:
        """The runbook screen's intent/result events, written to the session's audit log."""
        event = dict(event)
        phase = event.pop("event")
        event.pop("action", None)
        key = (str(event.get("fingerprint")), int(event.get("step", 0)))
        target = {"alert": event.pop("alert", ""), "fingerprint": event.pop("fingerprint", ""),
                  "runbook": event.pop("runbook", ""), "step": event.pop("step", 0),
                  "labels": event.pop("labels", {})}
        if phase == "intent":
            self._intents[key] = self.audit.intent("runbook.step", target=target, reason="runbook diagnosis step",
                                                   **event)
        else:
            audit_id = self._intents.pop(key, "")
            result = event.pop("result", "unknown")
            self.audit.result(audit_id, "runbook.step", result, target=target, **event)
