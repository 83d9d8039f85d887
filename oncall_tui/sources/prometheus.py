"""Prometheus HTTP API: alerts that are about to fire (pending), and the envelope rules every answer follows."""

from __future__ import annotations

import hashlib
from types import MappingProxyType
from typing import Any

import httpx

from ..models import Alert, AlertState
from .base import SourceError, describe_http_error, parse_time, str_map

# Error types of the Prometheus API and the HTTP codes they come with (docs/querying/api.md).
ERROR_TYPES = {400: "bad_data", 422: "execution", 503: "timeout", 499: "canceled", 500: "internal"}


def unwrap(response: httpx.Response, url: str) -> tuple[Any, tuple[str, ...]]:
    """`data` and `warnings` of a Prometheus envelope, or a SourceError with the API's error type."""
    try:
        body = response.json()
    except ValueError:
        if response.status_code >= 400:
            kind = ERROR_TYPES.get(response.status_code, f"http {response.status_code}")
            raise SourceError(kind, f"{url}: {response.text[:200]}") from None
        raise SourceError("bad json", f"{url} answered something that is not JSON: {response.text[:120]!r}") from None
    if not isinstance(body, dict):
        raise SourceError("bad data", f"{url}: the answer is not a Prometheus envelope")
    if body.get("status") != "success":
        kind = str(body.get("errorType") or ERROR_TYPES.get(response.status_code, f"http {response.status_code}"))
        raise SourceError(kind, str(body.get("error") or response.text[:200]))
    warnings = tuple(str(w) for w in body.get("warnings") or ())
    return body.get("data"), warnings


def label_fingerprint(labels: dict[str, str]) -> str:
    text = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def decode_alert(raw: Any, cluster: str = "") -> Alert:
    try:
        labels = str_map(raw.get("labels") or {})
        state = AlertState.PENDING if raw.get("state") == "pending" else AlertState.FIRING
        fingerprint = label_fingerprint(labels)
        return Alert(
            fingerprint=f"{cluster}/{fingerprint}" if cluster else fingerprint,
            labels=MappingProxyType(labels),
            annotations=MappingProxyType(str_map(raw.get("annotations") or {})),
            state=state,
            starts_at=parse_time(raw.get("activeAt")),
            source="prometheus",
            value=str(raw.get("value") or ""),
            cluster=cluster,
        )
    except (AttributeError, TypeError) as exc:
        raise SourceError("bad data", f"malformed alert from Prometheus ({exc})") from None


class PrometheusSource:
    """Reads alerts (pending and firing) from Prometheus' own evaluation of the rules."""

    name = "Prometheus"

    def __init__(self, url: str, *, timeout: float = 4.0, client: httpx.AsyncClient | None = None,
                 headers: dict[str, str] | None = None, cluster: str = ""):
        self.url = url.rstrip("/")
        self.cluster = cluster  # stamped on every alert
        self.timeout = timeout
        self._client = client or httpx.AsyncClient(timeout=timeout, headers=headers)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, path: str, params: Any = None) -> tuple[Any, tuple[str, ...]]:
        url = f"{self.url}{path}"
        try:
            response = await self._client.get(url, params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise describe_http_error(exc, self.url) from None
        return unwrap(response, url)

    async def alerts(self) -> list[Alert]:
        data, _warnings = await self.get("/api/v1/alerts")
        if not isinstance(data, dict) or not isinstance(data.get("alerts"), list):
            raise SourceError("bad data", "Prometheus /api/v1/alerts has no alerts list")
        return [decode_alert(item, self.cluster) for item in data["alerts"]]

    async def build_info(self) -> str:
        data, _ = await self.get("/api/v1/status/buildinfo")
        return str((data or {}).get("version", "")) if isinstance(data, dict) else ""
