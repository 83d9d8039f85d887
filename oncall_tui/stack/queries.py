"""Read-only checks against a running stack's real APIs: PromQL, alerts, waiting for an alert."""

from __future__ import annotations

from typing import Any

import httpx

from oncall_tui.stack.processes import StackError, wait_until

AM_STATES = ("active", "suppressed", "unprocessed")


class StackQueries:
    """Mixin for :class:`~oncall_tui.stack.local.LocalStack` (needs ``prometheus_url`` and peers)."""

    prometheus_url: str | None

    @property
    def alertmanager_urls(self) -> list[str]:  # pragma: no cover - provided by LocalStack
        raise NotImplementedError

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Instant PromQL query against the stack's Prometheus; returns ``data.result``."""
        if self.prometheus_url is None:
            raise StackError("this stack runs no Prometheus")
        r = httpx.get(
            f"{self.prometheus_url}/api/v1/query", params={"query": promql}, timeout=10.0, trust_env=False
        )
        r.raise_for_status()
        return r.json()["data"]["result"]

    def alerts(self, *, source: str = "alertmanager", peer: int = 0) -> list[dict[str, Any]]:
        """Current alerts: Alertmanager ``/api/v2/alerts`` or Prometheus ``/api/v1/alerts``."""
        if source == "alertmanager":
            r = httpx.get(f"{self.alertmanager_urls[peer]}/api/v2/alerts", timeout=10.0, trust_env=False)
            r.raise_for_status()
            return r.json()
        if source == "prometheus":
            if self.prometheus_url is None:
                raise StackError("this stack runs no Prometheus")
            r = httpx.get(f"{self.prometheus_url}/api/v1/alerts", timeout=10.0, trust_env=False)
            r.raise_for_status()
            return r.json()["data"]["alerts"]
        raise ValueError(f"source must be 'alertmanager' or 'prometheus', not {source!r}")

    def wait_for_alert(
        self,
        alertname: str,
        *,
        state: str = "firing",
        source: str = "alertmanager",
        timeout: float = 90.0,
        labels: dict[str, str] | None = None,
        peer: int = 0,
    ) -> dict[str, Any]:
        """Poll the real API until alert ``alertname`` (with ``labels``) is in ``state``; return it.

        Prometheus states: ``pending``, ``firing``. Alertmanager states: ``firing`` (= ``active``),
        ``active``, ``suppressed``, ``unprocessed`` or ``any``.
        """
        wanted = {"alertname": alertname, **(labels or {})}

        def matches(alert: dict[str, Any]) -> bool:
            got = alert.get("labels") or {}
            if any(got.get(k) != v for k, v in wanted.items()):
                return False
            if source == "prometheus":
                return alert.get("state") == state
            am_state = (alert.get("status") or {}).get("state")
            return state == "any" or am_state == ("active" if state == "firing" else state)

        if source == "alertmanager" and state not in ("firing", "any", *AM_STATES):
            raise ValueError(f"Alertmanager alert state {state!r} unknown")
        if source == "prometheus" and state not in ("pending", "firing"):
            raise ValueError(f"Prometheus alert state {state!r} unknown")

        def find() -> dict[str, Any] | None:
            return next((a for a in self.alerts(source=source, peer=peer) if matches(a)), None)

        return wait_until(  # type: ignore[return-value]
            find, timeout=timeout, interval=0.25, what=f"{source} alert {wanted} in state {state!r}"
        )
