"""Range queries and alerting rules from a Prometheus-compatible API, answered honestly (REFERENCE R9).

Why a thin httpx client and not `prometheus-api-client` (DESIGN §3): its `custom_query_range` returns
only `data.result`, so `warnings`, Thanos partial responses and VictoriaMetrics' `isPartial` are lost;
a failure becomes "HTTP Status Code 422 (b'…')" without the API's `errorType`; it rounds start/end to
seconds and its default Retry re-sends a timed-out query (503) three times with back-off, which is the
opposite of what a slow backend needs at 3 a.m. It is also sync (a worker thread that cannot be
cancelled when the cursor moves on). This client is async: moving to another alert cancels the request.

A failed query never raises: it becomes a `QueryResult` with `error_type` (bad_data, execution,
timeout, canceled, internal, http NNN, connection refused…) and, when there was one, the last good
answer for the same (query, window, step), so the UI can show the old data dimmed and say why.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import replace
from types import MappingProxyType
from typing import Any, Callable

import httpx

from ..models import AlertRule, QueryResult, Series
from ..promql import split_comparison
from ..safe_text import redact_url
from .base import SourceError, describe_http_error, str_map
from .prometheus import unwrap

CacheKey = tuple[str, float, float]  # (query, window seconds, step seconds)


def _value(raw: Any) -> float:
    """A sample value: Prometheus sends strings ("1.5", "NaN", "+Inf"); anything else is NaN."""
    try:
        return float(raw)
    except (TypeError, ValueError):
        return math.nan


def decode_matrix(data: Any) -> tuple[Series, ...]:
    if not isinstance(data, dict) or data.get("resultType") not in ("matrix", "vector"):
        raise SourceError("bad_data", "the answer is not a matrix")
    out = []
    for item in data.get("result") or ():
        if not isinstance(item, dict):
            raise SourceError("bad_data", "a series is not an object")
        values = item.get("values")
        if values is None and item.get("value") is not None:
            values = [item["value"]]
        points = []
        for pair in values or ():
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                try:
                    points.append((float(pair[0]), _value(pair[1])))
                except (TypeError, ValueError):
                    continue
        points.sort(key=lambda p: p[0])
        out.append(Series(MappingProxyType(str_map(item.get("metric") or {})), tuple(points)))
    return tuple(out)


def is_partial(body: Any, warnings: tuple[str, ...]) -> bool:
    """Warnings, Thanos' partial response, or VictoriaMetrics' `isPartial`."""
    if warnings:
        return True
    if isinstance(body, dict):
        return any(body.get(k) is True for k in ("isPartial", "partial_response", "partialResponse"))
    return False


class RangeQuerier:
    """`query_range` with a cache per (query, window, step) for one refresh interval, and `/api/v1/rules`."""

    def __init__(self, url: str, *, timeout: float = 4.0, ttl: float = 5.0,
                 client: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.time) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.ttl = ttl
        self.clock = clock
        self._client = client or httpx.AsyncClient(timeout=timeout, trust_env=False)
        self._cache: dict[CacheKey, tuple[float, QueryResult]] = {}
        self._good: dict[CacheKey, QueryResult] = {}  # last good answer, for "stale since"
        self._rules: tuple[float, tuple[AlertRule, ...] | SourceError] | None = None
        self._rules_task: asyncio.Task | None = None
        self.hits = 0
        self.misses = 0
        self.insecure = False  # TLS verification switched off by configuration (shown in red)

    async def aclose(self) -> None:
        await self._client.aclose()

    def server_timeout(self) -> str:
        """The `timeout=` sent to the server: below ours, so the server gives up (and says so) first."""
        return f"{max(0.5, self.timeout - 0.5):g}"

    # -- cache ---------------------------------------------------------------------------------------
    def cached(self, query: str, window: float, step: float) -> QueryResult | None:
        entry = self._cache.get((query, window, step))
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return None
        return entry[1]

    def clear(self) -> None:
        self._cache.clear()
        self._rules = None

    # -- range queries -------------------------------------------------------------------------------
    async def query_range(self, query: str, start: float, end: float, step: float) -> QueryResult:
        key = (query, end - start, step)
        hit = self.cached(*key)
        if hit is not None:
            self.hits += 1
            return hit
        self.misses += 1
        result = await self._fetch(query, start, end, step)
        if result.ok:
            self._good[key] = result
        elif key in self._good:  # keep showing the last good data, flagged with this failure
            good = self._good[key]
            result = replace(good, error_type=result.error_type, error=result.error)
        self._cache[key] = (time.monotonic(), result)
        return result

    async def _fetch(self, query: str, start: float, end: float, step: float) -> QueryResult:
        empty = QueryResult(query, start, end, step)
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}",
                  "timeout": self.server_timeout()}
        url = f"{self.url}/api/v1/query_range"
        try:
            response = await self._client.post(url, data=params, timeout=self.timeout)
            data, warnings = unwrap(response, redact_url(url))
            series = decode_matrix(data)
            partial = is_partial(response.json(), warnings)
        except httpx.HTTPError as exc:
            error = describe_http_error(exc, self.url)
            return replace(empty, error_type=error.kind, error=error.message)
        except SourceError as exc:
            return replace(empty, error_type=exc.kind, error=exc.message)
        return replace(empty, series=series, warnings=warnings, partial=partial, fetched_at=self.clock())

    # -- rules ---------------------------------------------------------------------------------------
    def cached_rules(self) -> tuple[AlertRule, ...] | SourceError | None:
        """The rules (or the error) of the last fetch within one refresh interval, else None."""
        if self._rules is None or time.monotonic() - self._rules[0] > self.ttl:
            return None
        return self._rules[1]

    async def rules(self) -> tuple[AlertRule, ...]:
        """Every alerting rule, cached for one refresh interval; one request even when asked concurrently.

        Raises SourceError (also cached: a failing backend is not asked again before the next refresh).
        A caller that is cancelled does not cancel the shared request.
        """
        cached = self.cached_rules()
        if isinstance(cached, SourceError):
            raise cached
        if cached is not None:
            return cached
        if self._rules_task is None or self._rules_task.done():
            self._rules_task = asyncio.ensure_future(self._fetch_rules())
        return await asyncio.shield(self._rules_task)

    async def _fetch_rules(self) -> tuple[AlertRule, ...]:
        url = f"{self.url}/api/v1/rules"
        try:
            try:
                response = await self._client.get(url, params={"type": "alert"}, timeout=self.timeout)
            except httpx.HTTPError as exc:
                raise describe_http_error(exc, self.url) from None
            data, _ = unwrap(response, redact_url(url))
            rules = decode_rules(data)
        except SourceError as exc:
            self._rules = (time.monotonic(), exc)
            raise
        self._rules = (time.monotonic(), rules)
        return rules


def decode_rules(data: Any) -> tuple[AlertRule, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise SourceError("bad_data", "Prometheus /api/v1/rules has no groups")
    out = []
    for group in data["groups"]:
        for rule in (group or {}).get("rules") or ():
            if not isinstance(rule, dict) or rule.get("type") not in ("alerting", None) or not rule.get("name"):
                continue
            expr = str(rule.get("query") or "")
            split = split_comparison(expr)
            try:
                labels = str_map(rule.get("labels") or {})
            except TypeError:
                labels = {}
            try:
                alerts = tuple(MappingProxyType(str_map(a.get("labels") or {}))
                               for a in rule.get("alerts") or () if isinstance(a, dict))
            except TypeError:
                alerts = ()
            out.append(AlertRule(
                name=str(rule["name"]), expr=expr, labels=MappingProxyType(labels), signal_expr=split.signal,
                op=split.op, threshold=split.threshold, note=split.note, group=str(group.get("name", "")),
                duration=_value(rule.get("duration") or 0), alerts=alerts))
    return tuple(out)
