"""Hours of the synthetic model service's past, written into Prometheus' TSDB before Prometheus starts.

The same simulation as the live service (stack/model_service.py) runs over the past `hours` at `step`
seconds, with the scenario's incidents switched on some minutes before now (the onset the sparklines
show before the alert fires), and is written as OpenMetrics text — the exact series and labels of the
live scrape (`job`, `instance`, `namespace` as Prometheus attaches them, `le` spelt as the service spells
it) — then turned into blocks by `promtool tsdb create-blocks-from openmetrics`. The live service then
continues from the history's last counter values, so history and live data are one series.

promtool's rules: OpenMetrics input ends with `# EOF`; timestamps are in seconds; blocks cover at most
`--max-block-duration` (2 h by default) and Prometheus' retention (15 d) keeps them.
"""

from __future__ import annotations

import math
import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # prometheus_client is imported by model_service only
    from oncall_tui.stack.model_service import ModelService

# Minutes before "now" at which each incident kind begins in the history (the alert fires ~1 min after
# the demo starts: the onset is visible well before it).
ONSET_MIN = {"latency": 9.0, "drift": 15.0, "nan": 9.0, "training-failure": 7.0, "push-error": 7.0, "stale": 0.0}
DRIFT_RAMP_MIN = 6.0  # the drifting feature's KS climbs to its incident value over this long
MARGIN_S = 900.0  # written before the `hours`, so a window that long starts with full rate() windows


def _labels(pairs: dict[str, str]) -> str:
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in sorted(pairs.items())) + "}"


def openmetrics(service: ModelService, *, start: float, end: float, step: float, target_labels: dict[str, str],
                seed: int = 3) -> Iterator[str]:
    """Lines of OpenMetrics text for [start, end] (family by family, each series' samples in time order).
    Leaves the service's counters at the history's last values, so the live scrape continues them."""
    from oncall_tui.stack import model_service as ms

    rng = random.Random(seed)
    times = [start + i * step for i in range(int((end - start) // step) + 1)]
    # family → (type, {group → {timestamp → lines}}): OpenMetrics keeps a histogram point's buckets, count
    # and sum together (one group per label set without `le`), each group's timestamps ascending.
    families: dict[str, tuple[str, dict[str, dict[float, list[str]]]]] = {}

    def add(family: str, kind: str, name: str, labels: dict[str, str], value: float, t: float) -> None:
        groups = families.setdefault(family, (kind, {}))[1]
        group = _labels({**target_labels, **{k: v for k, v in labels.items() if k != "le"}})
        line = f"{name}{_labels({**target_labels, **labels})} {value:.10g} {t:.3f}"
        groups.setdefault(group if kind == "histogram" else line.rsplit(" ", 2)[0], {}).setdefault(t, []).append(line)

    for model, live in service.states().items():
        sim = ms._ModelState(spec=live.spec, baseline_ks=dict(live.baseline_ks), trained_at=live.trained_at)
        failures = {"training-failure": 0, "push-error": 0}
        for t in times:
            before_end = (end - t) / 60.0
            sim.incidents = {k: v for k, v in live.incidents.items() if before_end <= ONSET_MIN.get(k, 0.0)}
            sim.advance(step, rng.uniform(0.9, 1.1))
            for kind in failures:
                if kind in sim.incidents:
                    failures[kind] = math.floor((ONSET_MIN[kind] - before_end) * 60.0 / ms.FAILURE_PERIOD_S) + 1
            m = {"model": model}
            count = math.floor(sim.count)
            for le, c in zip(ms.BUCKETS, sim.buckets, strict=True):
                add("model_inference_duration_seconds", "histogram", "model_inference_duration_seconds_bucket",
                    {**m, "le": ms._le(le)}, min(math.floor(c), count), t)
            add("model_inference_duration_seconds", "histogram", "model_inference_duration_seconds_bucket",
                {**m, "le": "+Inf"}, count, t)
            add("model_inference_duration_seconds", "histogram", "model_inference_duration_seconds_count", m, count, t)
            add("model_inference_duration_seconds", "histogram", "model_inference_duration_seconds_sum", m,
                sim.total_seconds, t)
            add("model_requests", "counter", "model_requests_total", m, count, t)
            add("model_prediction_nan", "counter", "model_prediction_nan_total", m, math.floor(sim.nans), t)
            drifting = live.incidents.get("drift") if "drift" in sim.incidents else None
            for f in live.spec.features:
                ks = live.baseline_ks[f]
                if f == drifting:
                    ramp = min(1.0, (ONSET_MIN["drift"] - before_end) / DRIFT_RAMP_MIN)
                    ks += (ms.DRIFT_KS - ks) * ramp
                add("dvc_metric_data_drift_kolmogorov_smirnov", "gauge", "dvc_metric_data_drift_kolmogorov_smirnov",
                    {**m, "feature": f}, round(max(ks + rng.uniform(-0.005, 0.005), 0.0), 4), t)
            trained = live.stale_since if live.stale_since is not None else live.trained_at
            add("mlflow_model_last_trained_timestamp", "gauge", "mlflow_model_last_trained_timestamp", m, trained, t)
            add("dvc_training_job_failures", "counter", "dvc_training_job_failures_total", m,
                failures["training-failure"], t)
            add("mlflow_model_push_errors", "counter", "mlflow_model_push_errors_total", m, failures["push-error"], t)
            for kind in sim.incidents:
                add("mlcall_synthetic_incident", "gauge", "mlcall_synthetic_incident", {**m, "kind": kind}, 1.0, t)
        service.continue_from(model, sim, failures["training-failure"], failures["push-error"])
    for family, (kind, groups) in families.items():
        yield f"# TYPE {family} {kind}"
        for points in groups.values():
            for t in sorted(points):
                yield from points[t]
    yield "# EOF"


def write_history(service: ModelService, promtool: str, data_dir: Path, *, hours: float, target_labels: dict[str, str],
                  step: float = 15.0, end: float | None = None, timeout: float = 120.0) -> dict[str, float]:
    """Write `hours` of history (and MARGIN_S more) ending at `end` (now) into `data_dir` (a TSDB directory Prometheus will
    open). Returns timings: {"generate": s, "promtool": s, "start": ts, "end": ts}."""
    t0 = time.monotonic()
    end = float(math.floor(end if end is not None else time.time()))
    start = end - hours * 3600.0 - MARGIN_S
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir.parent / "history.om.txt"
    with source.open("w", encoding="utf-8") as out:
        for line in openmetrics(service, start=start, end=end, step=step, target_labels=target_labels):
            out.write(line + "\n")
    t1 = time.monotonic()
    result = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
                            capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"promtool could not write the history: {(result.stderr or result.stdout)[-800:]}")
    source.unlink(missing_ok=True)
    return {"generate": t1 - t0, "promtool": time.monotonic() - t1, "start": start, "end": end}
