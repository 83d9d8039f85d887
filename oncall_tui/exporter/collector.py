"""The prometheus_client collector: reads every source at scrape time, concurrently, each bounded by a
timeout and reused for a TTL, and adds the exporter's own health.

- A read that fails, or is still running when its timeout expires, exports NO values of that source
  (never the last good ones presented as fresh) and `mlcall_exporter_source_up{source} 0`.
- A read that outlives its timeout keeps running in its thread (Python cannot stop it); its result,
  when it comes, is cached for the next scrape. At most one read per source is in flight.
- `mlcall_exporter_last_success_timestamp_seconds{source}` is when the source last answered: it stays
  after failures, which is what the staleness rule watches.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .families import COUNTER, Family

log = logging.getLogger("mlcall_tui.exporter")
UP = "mlcall_exporter_source_up"
DURATION = "mlcall_exporter_source_duration_seconds"
LAST_SUCCESS = "mlcall_exporter_last_success_timestamp_seconds"


class Source(Protocol):
    name: str

    def read(self) -> list[Family]:
        """Blocking read of the backend; raises on failure."""

    # optional: `prepare()` imports the client library and builds the client (no network), so that
    # the seconds an import of mlflow/dvc/kubernetes takes do not count against the read's timeout


@dataclass(frozen=True)
class Reading:
    families: tuple[Family, ...]
    error: str  # "" when the read succeeded
    finished: float  # monotonic time the read finished
    duration: float


@dataclass(frozen=True)
class SourceState:
    """What one scrape knows about one source."""

    name: str
    up: bool
    families: tuple[Family, ...]
    duration: float
    last_success: float | None  # Unix time
    error: str


def describe(exc: BaseException) -> str:
    from ..safe_text import redact_url, sanitize

    text = sanitize(redact_url(str(exc)), max_len=300, single_line=True)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ExporterCollector:
    def __init__(self, sources: Sequence[Source], *, timeout: float, ttl: float,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self.sources = list(sources)
        self.timeout = timeout
        self.ttl = ttl
        self._clock, self._wall = clock, wall
        self._pool = cf.ThreadPoolExecutor(max_workers=max(1, min(16, len(self.sources))),
                                           thread_name_prefix="mlcall-exporter")
        self._lock = threading.Lock()  # one refresh at a time; concurrent scrapes share it
        self._cache: dict[str, Reading] = {}
        self._inflight: dict[str, tuple[cf.Future[Reading], float]] = {}
        self._last_success: dict[str, float] = {}
        self._versions = itertools.count(1)
        self._version = 0  # a new one for every finished read: same version, same output
        self.state_version = 0  # the version the last refresh's answer was built from (or newer)
        self._preparing = threading.Event()

    # -- reading -------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Import and set up every source's client library (concurrently, not timed); errors are left
        for the reads to report."""
        def one(source: Source) -> None:
            try:
                getattr(source, "prepare", lambda: None)()
            except Exception:  # noqa: S110 - the read will fail and say why
                pass

        self._preparing.set()
        try:
            list(self._pool.map(one, self.sources))
        finally:
            self._preparing.clear()

    def _read(self, source: Source) -> Reading:
        start = self._clock()
        try:
            families = tuple(source.read())
            error = ""
        except Exception as exc:  # any failure of a backend: reported, never raised into the scrape
            families, error = (), describe(exc)
        end = self._clock()
        reading = Reading(families, error, end, end - start)
        self._store(source.name, reading)
        return reading

    def _store(self, name: str, reading: Reading) -> None:
        before = self._cache.get(name)
        if reading.error and (before is None or not before.error or before.error != reading.error):
            log.warning("source %s: read failed: %s", name, reading.error)  # once per new error
        elif not reading.error and before is not None and before.error:
            log.warning("source %s: read succeeded again", name)
        self._cache[name] = reading
        self._version = next(self._versions)  # atomic under the GIL, from any worker thread
        if not reading.error:
            self._last_success[name] = self._wall()

    def refresh(self) -> list[SourceState]:
        """Read what is not fresh (concurrently), wait up to `timeout`, and say what each source holds."""
        if self._preparing.is_set():  # a scrape during start-up: say so at once, read nothing yet
            return [SourceState(s.name, False, (), 0.0, None, "starting: loading client libraries")
                    for s in self.sources]
        with self._lock:
            now = self._clock()
            started: dict[str, float] = {}
            for source in self.sources:
                cached = self._cache.get(source.name)
                if cached is not None and now - cached.finished < self.ttl:
                    continue
                flight = self._inflight.get(source.name)
                if flight is not None and not flight[0].done():
                    started[source.name] = flight[1]
                    continue
                self._inflight[source.name] = (self._pool.submit(self._read, source), now)
                started[source.name] = now
            waiting = [self._inflight[name][0] for name in started]
            if waiting:
                cf.wait(waiting, timeout=max(0.0, now + self.timeout - self._clock()))
            self.state_version = self._version  # read before the states: a later store re-renders
            return [self._state(source.name, started.get(source.name)) for source in self.sources]

    def _state(self, name: str, started: float | None) -> SourceState:
        cached = self._cache.get(name)
        flight = self._inflight.get(name)
        last = self._last_success.get(name)
        if started is not None and flight is not None and not flight[0].done():
            # still running past its timeout: nothing from it, not even the last good values
            return SourceState(name, False, (), self._clock() - flight[1], last,
                               f"timeout: no answer in {self.timeout:g} s")
        if cached is None:
            return SourceState(name, False, (), 0.0, last, "not read yet")
        return SourceState(name, not cached.error, cached.families if not cached.error else (),
                           cached.duration, last, cached.error)

    def busy(self) -> bool:
        """A read is running: what a scrape says about it (its duration so far) changes by the second."""
        return any(not future.done() for future, _ in list(self._inflight.values()))

    # -- prometheus_client ----------------------------------------------------------------------------
    def collect(self) -> Iterator[Any]:
        yield from to_prometheus(families_of(self.refresh()))

    def describe(self) -> list[Any]:
        return []  # no describe-time reads: registering the collector must not call the backends

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def health_families(states: Iterable[SourceState]) -> list[Family]:
    states = list(states)
    return [
        Family(UP, "gauge", "1 if the last read of the source succeeded (within the TTL), else 0",
               ("source",), tuple(((s.name,), 1.0 if s.up else 0.0) for s in states)),
        Family(DURATION, "gauge", "How long the last read of the source took (or has taken so far)",
               ("source",), tuple(((s.name,), round(s.duration, 6)) for s in states)),
        Family(LAST_SUCCESS, "gauge", "Unix time the source was last read successfully",
               ("source",), tuple(((s.name,), s.last_success) for s in states if s.last_success is not None)),
    ]


def families_of(states: Iterable[SourceState]) -> list[Family]:
    states = list(states)
    out: list[Family] = []
    for state in states:
        out.extend(state.families)
    return out + health_families(states)


def to_prometheus(families: Iterable[Family]) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    merged: dict[str, Family] = {}
    for family in families:  # two sources may export the same family (e.g. two DVC repos)
        known = merged.get(family.name)
        if known is None:
            merged[family.name] = family
        elif known.labels == family.labels and known.kind == family.kind:
            merged[family.name] = Family(known.name, known.kind, known.help, known.labels,
                                         known.samples + family.samples)
    for family in merged.values():
        cls = CounterMetricFamily if family.kind == COUNTER else GaugeMetricFamily
        metric = cls(family.name, family.help, labels=list(family.labels))
        seen = set()
        for values, value in family.samples:
            if values in seen:
                continue
            seen.add(values)
            metric.add_metric(list(values), value)
        yield metric
