"""Alertmanager API v2: alerts and cluster status, from one server or an HA cluster of peers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import httpx

from ..models import Alert, AlertState
from .base import SourceError, describe_http_error, json_body, parse_time, str_map


def decode_alert(raw: Any) -> Alert:
    """One element of `GET /api/v2/alerts` as an Alert; raises SourceError if it is malformed."""
    try:
        status = raw.get("status") or {}
        silenced = tuple(str(s) for s in status.get("silencedBy") or ())
        inhibited = tuple(str(s) for s in status.get("inhibitedBy") or ())
        if silenced:
            state = AlertState.SILENCED
        elif inhibited:
            state = AlertState.INHIBITED
        else:
            state = AlertState.FIRING
        return Alert(
            fingerprint=str(raw["fingerprint"]),
            labels=MappingProxyType(str_map(raw.get("labels") or {})),
            annotations=MappingProxyType(str_map(raw.get("annotations") or {})),
            state=state,
            starts_at=parse_time(raw.get("startsAt")),
            updated_at=parse_time(raw.get("updatedAt")),
            ends_at=parse_time(raw.get("endsAt")),
            generator_url=str(raw.get("generatorURL") or ""),
            silenced_by=silenced,
            inhibited_by=inhibited,
            receivers=tuple(str(r.get("name", "")) for r in raw.get("receivers") or () if isinstance(r, dict)),
            source="alertmanager",
        )
    except (AttributeError, KeyError, TypeError) as exc:
        raise SourceError("bad data", f"malformed alert from Alertmanager ({exc})") from None


def decode_alerts(body: Any) -> list[Alert]:
    if not isinstance(body, list):
        raise SourceError("bad data", "Alertmanager /api/v2/alerts did not return a list")
    return [decode_alert(item) for item in body]


@dataclass(frozen=True)
class PeerStatus:
    url: str
    ok: bool
    cluster: str = ""  # ready | settling | disabled
    peers: int = 0
    version: str = ""
    error: str = ""


class AlertmanagerSource:
    """Reads from every configured peer and merges by fingerprint; one peer answering is enough."""

    name = "Alertmanager"

    def __init__(self, urls: list[str] | tuple[str, ...], *, timeout: float = 4.0,
                 client: httpx.AsyncClient | None = None):
        if not urls:
            raise ValueError("at least one Alertmanager URL is needed")
        self.urls = [u.rstrip("/") for u in urls]
        self.timeout = timeout
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _get(self, base: str, path: str, params: Any = None) -> Any:
        url = f"{base}/api/v2{path}"
        try:
            response = await self._client.get(url, params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise describe_http_error(exc, base) from None
        return json_body(response, url)

    async def _each_peer(self, path: str, params: Any = None) -> list[Any | SourceError]:
        async def one(base: str) -> Any | SourceError:
            try:
                return await self._get(base, path, params)
            except SourceError as exc:
                return exc

        return list(await asyncio.gather(*(one(u) for u in self.urls)))

    async def alerts(self) -> list[Alert]:
        """Active, silenced and inhibited alerts from all peers, de-duplicated by fingerprint."""
        answers = await self._each_peer("/alerts")
        merged: dict[str, Alert] = {}
        errors = []
        for answer in answers:
            if isinstance(answer, SourceError):
                errors.append(answer)
                continue
            for alert in decode_alerts(answer):
                known = merged.get(alert.fingerprint)
                if known is None or (alert.updated_at and known.updated_at and alert.updated_at > known.updated_at):
                    merged[alert.fingerprint] = alert
        if len(errors) == len(answers):
            raise errors[0]
        return list(merged.values())

    async def status(self) -> list[PeerStatus]:
        """`GET /api/v2/status` of each peer: cluster state, peer count, version."""
        out = []
        for url, answer in zip(self.urls, await self._each_peer("/status")):
            if isinstance(answer, SourceError):
                out.append(PeerStatus(url, False, error=str(answer)))
                continue
            cluster = answer.get("cluster") or {} if isinstance(answer, dict) else {}
            version = (answer.get("versionInfo") or {}).get("version", "") if isinstance(answer, dict) else ""
            out.append(PeerStatus(url, True, cluster=str(cluster.get("status", "")),
                                  peers=len(cluster.get("peers") or ()), version=str(version)))
        return out
