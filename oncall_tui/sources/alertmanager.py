"""Alertmanager API v2: alerts, silences and cluster status, from one server or an HA cluster of peers."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import httpx

from ..models import Alert, AlertState, Matcher, Silence
from ..models.alerts import search_text
from ..safe_text import redact_url
from .base import SourceError, describe_http_error, json_body, parse_time, str_map


def decode_alert(raw: Any, cluster: str = "") -> Alert:
    """One element of `GET /api/v2/alerts` as an Alert; raises SourceError if it is malformed.

    With a `cluster` name the alert carries it, and its fingerprint is prefixed with it: the same labels
    in two clusters are two alerts."""
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
        labels, annotations = str_map(raw.get("labels") or {}), str_map(raw.get("annotations") or {})
        return Alert(
            fingerprint=f"{cluster}/{raw['fingerprint']}" if cluster else str(raw["fingerprint"]),
            labels=MappingProxyType(labels),
            annotations=MappingProxyType(annotations),
            search=search_text(labels, annotations),
            state=state,
            starts_at=parse_time(raw.get("startsAt")),
            updated_at=parse_time(raw.get("updatedAt")),
            ends_at=parse_time(raw.get("endsAt")),
            generator_url=str(raw.get("generatorURL") or ""),
            silenced_by=silenced,
            inhibited_by=inhibited,
            receivers=tuple(str(r.get("name", "")) for r in raw.get("receivers") or () if isinstance(r, dict)),
            source="alertmanager",
            cluster=cluster,
        )
    except (AttributeError, KeyError, TypeError) as exc:
        raise SourceError("bad data", f"malformed alert from Alertmanager ({exc})") from None


def decode_alerts(body: Any, cluster: str = "") -> list[Alert]:
    if not isinstance(body, list):
        raise SourceError("bad data", "Alertmanager /api/v2/alerts did not return a list")
    return [decode_alert(item, cluster) for item in body]


def _reuse_key(raw: Any) -> tuple | None:
    """What makes an alert of the API the same as last poll's (labels are in the fingerprint)."""
    try:
        status = raw.get("status") or {}
        return (raw["fingerprint"], raw.get("updatedAt"), raw.get("endsAt"), raw.get("startsAt"),
                tuple(status.get("silencedBy") or ()), tuple(status.get("inhibitedBy") or ()))
    except (AttributeError, KeyError, TypeError):
        return None


def _decode_response(response: httpx.Response, url: str, cluster: str,
                     previous: dict[tuple, Alert]) -> tuple[list[Alert], dict[tuple, Alert]]:
    """JSON and models from one answer, run in a worker thread. An alert unchanged since the last poll is
    the same Alert object (no decoding: most of 50,000 alerts do not change between two polls)."""
    body = json_body(response, url)
    if not isinstance(body, list):
        return decode_alerts(body, cluster), {}
    alerts, known = [], {}
    for raw in body:
        key = _reuse_key(raw)
        alert = previous.get(key) if key is not None else None
        if alert is None:
            alert = decode_alert(raw, cluster)
        if key is not None:
            known[key] = alert
        alerts.append(alert)
    return alerts, known


def decode_silence(raw: Any, cluster: str = "") -> Silence:
    """One element of `GET /api/v2/silences` as a Silence; raises SourceError if it is malformed."""
    try:
        matchers = tuple(
            Matcher(str(m["name"]), str(m.get("value", "")), is_regex=bool(m.get("isRegex", False)),
                    is_equal=bool(m.get("isEqual", True)))
            for m in raw.get("matchers") or ()
        )
        starts, ends = parse_time(raw.get("startsAt")), parse_time(raw.get("endsAt"))
        if starts is None or ends is None:
            raise TypeError("startsAt/endsAt missing")
        return Silence(
            id=str(raw["id"]), matchers=matchers, starts_at=starts, ends_at=ends,
            created_by=str(raw.get("createdBy") or ""), comment=str(raw.get("comment") or ""),
            state=str((raw.get("status") or {}).get("state") or "active"), updated_at=parse_time(raw.get("updatedAt")),
            cluster=cluster,
        )
    except (AttributeError, KeyError, TypeError) as exc:
        raise SourceError("bad data", f"malformed silence from Alertmanager ({exc})") from None


def decode_silences(body: Any, cluster: str = "") -> list[Silence]:
    if not isinstance(body, list):
        raise SourceError("bad data", "Alertmanager /api/v2/silences did not return a list")
    return [decode_silence(item, cluster) for item in body]


def merge_silences(lists: list[list[Silence]]) -> list[Silence]:
    """De-duplicate by id across peers; the newest `updatedAt` wins (as gossip does)."""
    merged: dict[str, Silence] = {}
    for silences in lists:
        for s in silences:
            known = merged.get(s.id)
            if known is None or (s.updated_at and (known.updated_at is None or s.updated_at > known.updated_at)):
                merged[s.id] = s
    return list(merged.values())


def _error_text(response: httpx.Response) -> str:
    """Alertmanager's error bodies are JSON strings (or {code, message}); show the text inside."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        return str(body.get("message") or body)[:300]
    return str(body)[:300]


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
                 client: httpx.AsyncClient | None = None, cluster: str = "",
                 alert_filter: tuple[str, ...] = ()):
        if not urls:
            raise ValueError("at least one Alertmanager URL is needed")
        self.urls = [u.rstrip("/") for u in urls]
        self.cluster = cluster  # stamped on every alert and silence (see decode_alert)
        # matchers for `/api/v2/alerts?filter=`: a shared Alertmanager sends only these (server-side)
        self.alert_params = [("filter", m) for m in alert_filter]
        self.timeout = timeout
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._alert_cache: dict[str, tuple[bytes, list[Alert]]] = {}
        self._decoded: dict[str, dict[tuple, Alert]] = {}  # per peer: last poll's alerts by _reuse_key
        self._merged: tuple[tuple[object, ...], list[Alert]] = ((), [])

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

    async def _peer_alerts(self, base: str) -> list[Alert] | SourceError:
        """One peer's alerts. An answer identical to the last one is not decoded again."""
        url = f"{base}/api/v2/alerts"
        try:
            response = await self._client.get(url, params=self.alert_params or None, timeout=self.timeout)
        except httpx.HTTPError as exc:
            return describe_http_error(exc, base)
        cached = self._alert_cache.get(base)
        if cached is not None and response.status_code == 200 and cached[0] == response.content:
            return cached[1]
        try:
            alerts, self._decoded[base] = await asyncio.to_thread(
                _decode_response, response, url, self.cluster, self._decoded.get(base, {}))
        except SourceError as exc:
            return exc
        self._alert_cache[base] = (response.content, alerts)
        return alerts

    async def alerts(self) -> list[Alert]:
        """Active, silenced and inhibited alerts from all peers, de-duplicated by fingerprint.

        When no peer's answer changed, the very same list is returned, so callers can tell an
        unchanged poll by identity and rebuild nothing.
        """
        answers = await asyncio.gather(*(self._peer_alerts(u) for u in self.urls))
        errors = [a for a in answers if isinstance(a, SourceError)]
        if len(errors) == len(answers):
            raise errors[0]
        previous, last = self._merged
        if len(previous) == len(answers) and all(a is b for a, b in zip(previous, answers, strict=True)):
            return last
        merged: dict[str, Alert] = {}
        for answer in answers:
            if isinstance(answer, SourceError):
                continue
            for alert in answer:
                known = merged.get(alert.fingerprint)
                if known is None or (alert.updated_at and known.updated_at and alert.updated_at > known.updated_at):
                    merged[alert.fingerprint] = alert
        self._merged = (tuple(answers), list(merged.values()))
        return self._merged[1]

    async def status(self) -> list[PeerStatus]:
        """`GET /api/v2/status` of each peer: cluster state, peer count, version."""
        out = []
        for url, answer in zip(self.urls, await self._each_peer("/status"), strict=True):
            if isinstance(answer, SourceError):
                out.append(PeerStatus(url, False, error=str(answer)))
                continue
            cluster = answer.get("cluster") or {} if isinstance(answer, dict) else {}
            version = (answer.get("versionInfo") or {}).get("version", "") if isinstance(answer, dict) else ""
            out.append(PeerStatus(url, True, cluster=str(cluster.get("status", "")),
                                  peers=len(cluster.get("peers") or ()), version=str(version)))
        return out

    # -- silences ----------------------------------------------------------------------------------
    async def silences_by_peer(self) -> list[list[Silence] | SourceError]:
        out: list[list[Silence] | SourceError] = []
        for answer in await self._each_peer("/silences"):
            if isinstance(answer, SourceError):
                out.append(answer)
                continue
            try:
                out.append(decode_silences(answer, self.cluster))
            except SourceError as exc:
                out.append(exc)
        return out

    async def silences(self) -> list[Silence]:
        """Every silence (active, pending, expired) known to any peer, merged by id."""
        answers = await self.silences_by_peer()
        good = [a for a in answers if not isinstance(a, SourceError)]
        if not good:
            raise next(a for a in answers if isinstance(a, SourceError))
        return merge_silences(good)

    async def silence(self, silence_id: str, peer: str) -> Silence | None:
        """`GET /api/v2/silence/{id}` on one peer: the silence, or None if that peer does not know it."""
        url = f"{peer.rstrip('/')}/api/v2/silence/{silence_id}"
        try:
            response = await self._client.get(url, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise describe_http_error(exc, peer) from None
        if response.status_code == 404:
            return None
        return decode_silence(json_body(response, url), self.cluster)

    async def silence_on_peers(self, silence_id: str) -> list[Silence | None | SourceError]:
        """The silence as each peer sees it (None: unknown there; SourceError: peer unreachable)."""
        async def one(peer: str) -> Silence | None | SourceError:
            try:
                return await self.silence(silence_id, peer)
            except SourceError as exc:
                return exc

        return list(await asyncio.gather(*(one(u) for u in self.urls)))

    async def _send(self, method: str, peer: str, path: str, payload: Any = None) -> httpx.Response:
        url = f"{peer.rstrip('/')}/api/v2{path}"
        try:
            response = await self._client.request(method, url, json=payload, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise describe_http_error(exc, peer) from None
        if response.status_code >= 400:
            raise SourceError(f"http {response.status_code}", f"{redact_url(peer)}: {_error_text(response)}")
        return response

    async def create_silence(self, payload: dict[str, Any], *, peer: str | None = None) -> str:
        """`POST /api/v2/silences` to ONE peer (the first by default); returns the silence id it assigned.

        `payload` is the API body (see actions.silence). Callers decide about other peers: never all.
        """
        response = await self._send("POST", peer or self.urls[0], "/silences", payload)
        try:
            silence_id = response.json()["silenceID"]
        except (ValueError, KeyError, TypeError):
            raise SourceError("bad json", f"{redact_url(peer or self.urls[0])}: no silenceID in "
                              f"{json.dumps(response.text[:120])}") from None
        return str(silence_id)

    async def expire_silence(self, silence_id: str, *, peer: str | None = None) -> None:
        """`DELETE /api/v2/silence/{id}` (singular) on one peer: the silence expires now."""
        await self._send("DELETE", peer or self.urls[0], f"/silence/{silence_id}")
