"""One poll loop per source: fetch, report, then sleep; never overlapping, with timeouts and backoff."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Awaitable, Callable, Generic, TypeVar

from .models import SourceHealth, SourceStatus, utcnow
from .sources.base import SourceError

T = TypeVar("T")


class Poller(Generic[T]):
    """Calls `fetch` every `interval` seconds *after* the previous fetch finished.

    Each fetch is cut off after `timeout` (kept below the interval). Errors back off exponentially,
    capped at `max_backoff`, for this loop only (one loop per source per cluster; `limit` bounds how many
    of them fetch at once). `report(status, data)` is called after every attempt; `data` is None
    when the attempt failed, and the last good data stays wherever the caller keeps it.
    """

    def __init__(self, name: str, fetch: Callable[[], Awaitable[T]],
                 report: Callable[[SourceStatus, T | None], None], *, interval: float,
                 timeout: float, max_backoff: float = 60.0, limit: asyncio.Semaphore | None = None):
        self.name = name
        self.fetch = fetch
        self.report = report
        self.interval = interval
        self.timeout = min(timeout, interval * 0.9)
        self.max_backoff = max(max_backoff, interval)
        self.status = SourceStatus(name)
        self.failures = 0
        self._wake = asyncio.Event()
        self.limit = limit  # shared by the poll loops of every cluster: at most N fetches at once

    async def _fetch(self) -> T:
        if self.limit is None:
            return await asyncio.wait_for(self.fetch(), self.timeout)
        async with self.limit:  # the timeout starts once it may go: a queue is not a slow server
            return await asyncio.wait_for(self.fetch(), self.timeout)

    def refresh_now(self) -> None:
        self._wake.set()

    def next_delay(self) -> float:
        if not self.failures:
            return self.interval
        return min(self.interval * 2 ** (self.failures - 1), self.max_backoff)

    async def poll_once(self) -> T | None:
        now = utcnow()
        try:
            data = await self._fetch()
        except asyncio.TimeoutError:
            error = f"timeout: no answer within {self.timeout:g} s"
        except SourceError as exc:
            error = str(exc)
        except Exception as exc:  # a bug or an unexpected answer must not stop polling
            error = f"{type(exc).__name__}: {exc}"
        else:
            self.failures = 0
            self.status = replace(self.status, health=SourceHealth.OK, last_success=now,
                                  last_attempt=now, error="")
            self.report(self.status, data)
            return data
        self.failures += 1
        self.status = replace(self.status, health=SourceHealth.STALE, last_attempt=now, error=error)
        self.report(self.status, None)
        return None

    async def run(self) -> None:
        while True:
            self._wake.clear()
            await self.poll_once()
            try:
                await asyncio.wait_for(self._wake.wait(), self.next_delay())
            except asyncio.TimeoutError:
                pass
