"""The model-health queries, in one place: what the health panel plots for an alert's model.

Defaults fit the seed's metric names (what the synthetic model service exports). Teams with other
names override them in the config file, one table per chart; a new key adds a chart, `enabled = false`
removes one:

    [queries.p95_latency]
    expr = 'histogram_quantile(0.95, sum by (le) (rate(http_duration_seconds_bucket{service="$model"}[$rate])))'
    unit = "s"

    [queries.nan_rate]
    enabled = false

Placeholders: `$model` — the alert's model label value, escaped for a double-quoted PromQL string (write
it between double quotes); `$rate` — a rate window that is never shorter than 5m nor than the step.
Units: `s` (shown as ms/s/min), `ratio` (shown as %), `days`, `req/s`, or any text.
`threshold_rule` takes the threshold from that alerting rule as Prometheus has it (falling back to
`threshold`); `split_by` draws one chart per value of a label, highest current value first, `top` of them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from .config import ConfigError, Settings, section
from .promql import COMPARISONS, duration, escape, fill


@dataclass(frozen=True)
class HealthQuery:
    key: str
    title: str
    expr: str
    unit: str = ""
    threshold: float | None = None
    op: str = ">"
    threshold_rule: str = ""
    split_by: str = ""
    top: int = 5
    optional: bool = False  # a missing series is normal (not every service exports it)
    enabled: bool = True

    def render(self, model: str, step: float) -> str:
        return fill(self.expr, {"model": escape(model), "rate": duration(rate_window(step))})


def rate_window(step: float) -> float:
    """A `rate()` window for this step: at least 5m, and at least one step (no sample skipped)."""
    return max(300.0, float(step))


_LATENCY = 'histogram_quantile({q}, sum by (le) (rate(model_inference_duration_seconds_bucket{{model="$model"}}[$rate])))'
_REQUESTS = 'sum(rate(model_requests_total{model="$model"}[$rate]))'

DEFAULTS: tuple[HealthQuery, ...] = (
    HealthQuery("p95_latency", "p95 lat", _LATENCY.format(q="0.95"), "s",
                threshold=2.0, threshold_rule="ModelInferenceLatenessHigh"),
    HealthQuery("p50_latency", "p50 lat", _LATENCY.format(q="0.5"), "s"),
    HealthQuery("request_rate", "requests", _REQUESTS, "req/s", optional=True),
    HealthQuery("nan_rate", "NaN rate",
                f'sum(rate(model_prediction_nan_total{{model="$model"}}[$rate])) / {_REQUESTS}', "ratio",
                optional=True),
    HealthQuery("days_since_training", "model age",
                '(time() - max(mlflow_model_last_trained_timestamp{model="$model"})) / 86400', "days",
                threshold=7.0, threshold_rule="ModelStalenessHigh"),
    HealthQuery("drift_ks", "drift KS", 'max by (feature) (dvc_metric_data_drift_kolmogorov_smirnov{model="$model"})',
                "", threshold=0.15, threshold_rule="DataDriftDetected", split_by="feature", top=5),
)

_FIELDS = {f.name for f in fields(HealthQuery)} - {"key"}


def _coerce(key: str, name: str, value: Any) -> Any:
    where = f"[queries.{key}] {name}"
    if name in {"threshold"}:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number")
        return float(value)
    if name == "top":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where} must be a positive whole number")
        return value
    if name in {"optional", "enabled"}:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false")
        return value
    if name == "op" and value not in COMPARISONS:
        raise ConfigError(f"{where} must be one of {' '.join(COMPARISONS)}")
    return str(value)


def from_table(table: Mapping[str, Any], defaults: tuple[HealthQuery, ...] = DEFAULTS) -> tuple[HealthQuery, ...]:
    """Defaults overridden and extended by a `[queries]` table; disabled ones dropped."""
    out = {q.key: q for q in defaults}
    for key, body in table.items():
        if not isinstance(body, Mapping):
            raise ConfigError(f"[queries.{key}] must be a table")
        unknown = set(body) - _FIELDS
        if unknown:
            raise ConfigError(f"[queries.{key}]: unknown setting(s) {', '.join(sorted(unknown))}")
        changes = {name: _coerce(str(key), name, value) for name, value in body.items()}
        if key in out:
            out[key] = replace(out[key], **changes)
        else:
            if not changes.get("expr"):
                raise ConfigError(f"[queries.{key}] needs an `expr`")
            out[key] = HealthQuery(key=str(key), title=str(changes.pop("title", key)), **changes)
    return tuple(q for q in out.values() if q.enabled)


def load(settings: Settings) -> tuple[HealthQuery, ...]:
    return from_table(section(settings, "queries"))
