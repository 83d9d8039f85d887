"""A synthetic ML model service exporting the seed's metrics, with switchable incidents.

Metrics (the contract of ``deploy/prometheus/ml-alerts.rules.yml``), each labelled ``model``:

- ``model_inference_duration_seconds`` histogram; ``model_requests_total``; ``model_prediction_nan_total``
- ``dvc_metric_data_drift_kolmogorov_smirnov{model,feature}`` gauge
- ``mlflow_model_last_trained_timestamp`` gauge (unix seconds)
- ``dvc_training_job_failures_total`` and ``mlflow_model_push_errors_total`` counters
- ``mlcall_synthetic_incident{model,kind}`` = 1 for each incident switched on (ground truth for demos)

No thread simulates traffic: at every scrape the collector advances the cumulative counts by
(seconds since the last scrape × request rate × the current latency distribution), so
``histogram_quantile(0.95, …)`` reads ~0.3 s normally and ~4 s during a ``latency`` incident.
``prometheus_client`` is a demo/test extra: it is imported only in this module.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

INCIDENT_KINDS = ("latency", "drift", "stale", "training-failure", "push-error", "nan")
BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 3.0, 5.0, 10.0)
DAY = 86400.0
# Log-normal latency: (median seconds, sigma). p95 ≈ 0.29 s normally, ≈ 4.1 s in a latency incident.
NORMAL_LATENCY = (0.15, 0.35)
INCIDENT_LATENCY = (2.2, 0.25)
NORMAL_NAN_FRACTION = 0.0005
INCIDENT_NAN_FRACTION = 0.10
DRIFT_KS = 0.35
FAILURE_PERIOD_S = 20.0  # a failing training job / registry push fails again every 20 s


@dataclass(frozen=True)
class ModelSpec:
    name: str
    features: tuple[str, ...]
    requests_per_second: float


DEFAULT_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "fraud-detector", ("transaction_amount", "merchant_category", "hour_of_day", "card_age_days"), 25.0
    ),
    ModelSpec(
        "churn-predictor", ("account_age_days", "monthly_spend", "support_tickets_30d", "tenure_months"), 8.0
    ),
    ModelSpec("recsys-ranker", ("user_embedding_norm", "item_popularity", "session_length"), 40.0),
)


def _lognormal_cdf(x: float, median: float, sigma: float) -> float:
    return 0.5 * (1.0 + math.erf(math.log(x / median) / (sigma * math.sqrt(2.0))))


@dataclass
class _FailureCounter:
    value: int = 0
    next_at: float | None = None  # monotonic time of the next failure while the incident is on

    def tick(self, on: bool, now: float) -> None:
        if not on:
            self.next_at = None
        elif self.next_at is None:
            # First scrape after switching on: report the old value once so that increase() sees
            # the step, then fail about a second later.
            self.next_at = now + 1.0
        elif now >= self.next_at:
            self.value += 1
            self.next_at = now + FAILURE_PERIOD_S


@dataclass
class _ModelState:
    spec: ModelSpec
    baseline_ks: dict[str, float]
    trained_at: float
    incidents: dict[str, str | None] = field(default_factory=dict)
    stale_since: float | None = None
    buckets: list[float] = field(default_factory=lambda: [0.0] * len(BUCKETS))
    count: float = 0.0
    total_seconds: float = 0.0
    nans: float = 0.0
    training: _FailureCounter = field(default_factory=_FailureCounter)
    pushes: _FailureCounter = field(default_factory=_FailureCounter)

    def advance(self, dt: float, jitter: float) -> None:
        n = max(dt, 0.0) * self.spec.requests_per_second * jitter
        median, sigma = INCIDENT_LATENCY if "latency" in self.incidents else NORMAL_LATENCY
        for i, le in enumerate(BUCKETS):
            self.buckets[i] += n * _lognormal_cdf(le, median, sigma)
        self.count += n
        self.total_seconds += n * median * math.exp(sigma * sigma / 2.0)
        self.nans += n * (INCIDENT_NAN_FRACTION if "nan" in self.incidents else NORMAL_NAN_FRACTION)


class ModelService:
    """Serves ``/metrics`` for a few synthetic models on 127.0.0.1 from its own CollectorRegistry."""

    def __init__(
        self,
        models: Sequence[ModelSpec] = DEFAULT_MODELS,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 7,
    ) -> None:
        self._host = host
        self._port = port
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        now = time.time()
        self._models: dict[str, _ModelState] = {}
        for spec in models:
            rng = random.Random(f"{seed}:{spec.name}")
            self._models[spec.name] = _ModelState(
                spec=spec,
                baseline_ks={f: round(rng.uniform(0.03, 0.08), 4) for f in spec.features},
                trained_at=now - DAY * rng.uniform(0.8, 1.3),
            )
        self._last_collect = time.monotonic()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_SyntheticCollector(self))
        self._server = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> ModelService:
        if self._server is None:
            self._server, self._thread = start_http_server(
                self._port, addr=self._host, registry=self.registry
            )
            self._port = self._server.server_port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ModelService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def metrics_url(self) -> str:
        return f"{self.url}/metrics"

    @property
    def target(self) -> str:
        """``host:port`` as a Prometheus static target."""
        return f"{self._host}:{self._port}"

    # -- models and incidents ----------------------------------------------------------------
    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self._models)

    def features(self, model: str) -> tuple[str, ...]:
        return self._state(model).spec.features

    def _state(self, model: str) -> _ModelState:
        try:
            return self._models[model]
        except KeyError:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(self._models)}") from None

    def set_incident(self, model: str, kind: str, on: bool = True, *, feature: str | None = None) -> None:
        """Switch an incident on or off. ``drift`` takes the drifting ``feature`` (default: the first)."""
        if kind not in INCIDENT_KINDS:
            raise ValueError(f"unknown incident kind {kind!r}; known: {', '.join(INCIDENT_KINDS)}")
        with self._lock:
            self._advance_locked()
            state = self._state(model)
            if not on:
                state.incidents.pop(kind, None)
                if kind == "stale":
                    state.stale_since = None
                return
            detail = None
            if kind == "drift":
                detail = feature or state.spec.features[0]
                if detail not in state.spec.features:
                    raise ValueError(
                        f"{model} has no feature {detail!r}; known: {', '.join(state.spec.features)}"
                    )
            state.incidents[kind] = detail
            if kind == "stale" and state.stale_since is None:
                state.stale_since = time.time() - 10 * DAY

    def clear(self, model: str | None = None) -> None:
        """Switch off every incident (of one model, or of all)."""
        for name in [model] if model else list(self._models):
            for kind in list(self._state(name).incidents):
                self.set_incident(name, kind, on=False)

    def incidents(self) -> dict[str, dict[str, str | None]]:
        """``{model: {kind: detail}}`` for models with an incident on (detail: drifting feature)."""
        with self._lock:
            return {m: dict(s.incidents) for m, s in self._models.items() if s.incidents}

    # -- history (stack/history.py) ----------------------------------------------------------
    def states(self) -> dict[str, _ModelState]:
        """The models' simulation states (read-only use: incidents, baselines, training times)."""
        with self._lock:
            return dict(self._models)

    def continue_from(self, model: str, history: _ModelState, training_failures: int, push_errors: int) -> None:
        """Carry on from the last values of a written history, so live counters continue its series."""
        with self._lock:
            state = self._state(model)
            state.buckets = list(history.buckets)
            state.count, state.total_seconds, state.nans = history.count, history.total_seconds, history.nans
            state.training.value, state.pushes.value = training_failures, push_errors
            self._last_collect = time.monotonic()

    # -- collection --------------------------------------------------------------------------
    def _advance_locked(self) -> None:
        now = time.monotonic()
        dt, self._last_collect = now - self._last_collect, now
        for state in self._models.values():
            state.advance(dt, self._rng.uniform(0.9, 1.1))
            state.training.tick("training-failure" in state.incidents, now)
            state.pushes.tick("push-error" in state.incidents, now)

    def _collect(self) -> Iterator[object]:
        with self._lock:
            self._advance_locked()
            states = list(self._models.values())
            hist = HistogramMetricFamily(
                "model_inference_duration_seconds", "Inference latency.", labels=["model"]
            )
            requests = CounterMetricFamily("model_requests", "Inference requests served.", labels=["model"])
            nans = CounterMetricFamily("model_prediction_nan", "Predictions that were NaN.", labels=["model"])
            drift = GaugeMetricFamily(
                "dvc_metric_data_drift_kolmogorov_smirnov",
                "KS statistic between live inputs and the training set.",
                labels=["model", "feature"],
            )
            trained = GaugeMetricFamily(
                "mlflow_model_last_trained_timestamp",
                "Unix time of the last successful training.",
                labels=["model"],
            )
            failures = CounterMetricFamily(
                "dvc_training_job_failures", "Failed DVC training jobs.", labels=["model"]
            )
            pushes = CounterMetricFamily(
                "mlflow_model_push_errors", "Failed MLflow registry pushes.", labels=["model"]
            )
            incident = GaugeMetricFamily(
                "mlcall_synthetic_incident",
                "1 for each synthetic incident switched on.",
                labels=["model", "kind"],
            )
            for s in states:
                m = s.spec.name
                # Whole requests: floor() keeps the cumulative buckets monotonic.
                count = math.floor(s.count)
                buckets = [
                    (_le(le), min(math.floor(c), count)) for le, c in zip(BUCKETS, s.buckets, strict=True)
                ]
                hist.add_metric([m], buckets + [("+Inf", count)], s.total_seconds)
                requests.add_metric([m], count)
                nans.add_metric([m], math.floor(s.nans))
                drifting = s.incidents.get("drift")
                for f in s.spec.features:
                    ks = DRIFT_KS if f == drifting else s.baseline_ks[f]
                    drift.add_metric([m, f], round(max(ks + self._rng.uniform(-0.005, 0.005), 0.0), 4))
                trained.add_metric([m], s.stale_since if s.stale_since is not None else s.trained_at)
                failures.add_metric([m], s.training.value)
                pushes.add_metric([m], s.pushes.value)
                for kind in s.incidents:
                    incident.add_metric([m, kind], 1.0)
        yield from (hist, requests, nans, drift, trained, failures, pushes, incident)


def _le(bound: float) -> str:
    return repr(float(bound))


class _SyntheticCollector(Collector):
    def __init__(self, service: ModelService) -> None:
        self._service = service

    def collect(self) -> Iterable[object]:
        return self._service._collect()
