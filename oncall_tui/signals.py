"""The highlighted alert's signal and its model's health, as a `SignalView` (no textual, no widgets).

For an alert: find its rule in `/api/v1/rules`, range-query the rule's signal (the expression without
its comparison) and keep the series that belong to this alert; range-query the model-health queries
(`health_queries.py`) for the alert's model. The time window cycles 15m/1h/6h/24h; the step is chosen
from the width the sparkline has, and never lets a series exceed Prometheus' 11,000 points.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .health_queries import DEFAULTS, HealthQuery
from .models import Alert, AlertRule, Chart, QueryResult, Series, SignalView

if TYPE_CHECKING:  # httpx stays off the path to the first frame
    from .sources.prometheus_queries import RangeQuerier


WINDOWS: tuple[tuple[float, str], ...] = ((900.0, "15m"), (3600.0, "1h"), (21600.0, "6h"), (86400.0, "24h"))
MAX_POINTS = 11_000  # Prometheus refuses more points per series ("exceeded maximum resolution")


def window_label(window: float) -> str:
    return next((label for w, label in WINDOWS if w == window), f"{window:g}s")


def choose_step(window: float, width: int) -> float:
    """Whole seconds per point so that the series fills `width` columns (about one point per column)
    and never has more than MAX_POINTS points."""
    step = math.ceil(window / max(1, width))
    step = max(step, math.ceil(window / (MAX_POINTS - 1)), 1)
    return float(step)


class SignalService:
    """Builds SignalViews from a RangeQuerier (which caches per (query, window, step) for one refresh)."""

    def __init__(self, querier: RangeQuerier, queries: tuple[HealthQuery, ...] = DEFAULTS, *,
                 model_label: str = "model", clock: Callable[[], float] = time.time) -> None:
        self.querier = querier
        self.queries = queries
        self.model_label = model_label
        self.clock = clock
        self.window_index = 0
        self.hits = 0  # views served from the cache
        self.misses = 0

    @property
    def window(self) -> float:
        return WINDOWS[self.window_index][0]

    def cycle_window(self) -> str:
        self.window_index = (self.window_index + 1) % len(WINDOWS)
        return WINDOWS[self.window_index][1]

    async def aclose(self) -> None:
        await self.querier.aclose()

    # -- what to ask -----------------------------------------------------------------------------------
    def model_of(self, alert: Alert) -> str:
        return alert.labels.get(self.model_label, "")

    def health_exprs(self, model: str, step: float) -> dict[str, str]:
        return {q.key: q.render(model, step) for q in self.queries} if model else {}

    # -- the cache only (instant: no I/O) -------------------------------------------------------------
    def cached_view(self, alert: Alert, width: int) -> SignalView | None:
        """The view, if every part of it is in the cache and fresh; else None."""
        window, step = self.window, choose_step(self.window, width)
        rules = self.querier.cached_rules()
        if rules is None:
            return None
        rule = find_rule(rules, alert.labels) if not isinstance(rules, Exception) else None
        signal = None
        if rule is not None:
            signal = self.querier.cached(rule.signal_expr, window, step)
            if signal is None:
                return None
        results = {}
        for key, expr in self.health_exprs(self.model_of(alert), step).items():
            results[key] = self.querier.cached(expr, window, step)
            if results[key] is None:
                return None
        self.hits += 1
        return self.assemble(alert, window, rules, rule, signal, results)

    # -- fetch what is missing ------------------------------------------------------------------------
    async def view(self, alert: Alert, width: int) -> SignalView:
        """Fetch (or take from the cache) every part of the view. Cancelling it cancels the requests."""
        window, step = self.window, choose_step(self.window, width)
        end = float(round(self.clock()))
        start = end - step * math.ceil(window / step)  # so that `end` (now) is itself a point
        self.misses += 1
        exprs = self.health_exprs(self.model_of(alert), step)
        health = asyncio.gather(*(self.querier.query_range(e, start, end, step) for e in exprs.values()))
        try:
            try:
                rules: tuple[AlertRule, ...] | Exception = await self.querier.rules()
            except Exception as exc:  # SourceError: shown in the view, the health charts still drawn
                rules = exc
            rule = find_rule(rules, alert.labels) if not isinstance(rules, Exception) else None
            signal = await self.querier.query_range(rule.signal_expr, start, end, step) if rule else None
            results = dict(zip(exprs, await health, strict=True))
        except BaseException:
            health.cancel()
            health.add_done_callback(_retrieve)  # nobody awaits it any more: no "never retrieved" noise
            raise
        return self.assemble(alert, window, rules, rule, signal, results)

    # -- from answers to charts -----------------------------------------------------------------------
    def assemble(self, alert: Alert, window: float, rules: tuple[AlertRule, ...] | Exception,
                 rule: AlertRule | None, signal: QueryResult | None,
                 results: Mapping[str, QueryResult | None]) -> SignalView:
        model = self.model_of(alert)
        rule_list = rules if not isinstance(rules, Exception) else ()
        note = ""
        if isinstance(rules, Exception):
            note = f"alerting rules unavailable: {rules}"
        elif rule is None:
            note = f"no rule named {alert.name} in this Prometheus: the alert's own signal cannot be drawn"
        signal_chart = self._signal_chart(alert, rule, signal) if rule and signal else None
        health: list[Chart] = []
        split: list[Chart] = []
        for q in self.queries:
            result = results.get(q.key)
            if result is None:
                continue
            threshold, op = _threshold(q, rule_list)
            if q.split_by:
                split.extend(_split_charts(q, result, threshold, op))
            else:
                health.append(_health_chart(q, result, threshold, op))
        if not model:
            note = (note + " · " if note else "") + f"the alert has no `{self.model_label}` label: no model health"
        return SignalView(alert.fingerprint, alert.name, model, window, signal_chart, tuple(health), tuple(split),
                          rule, note)

    def _signal_chart(self, alert: Alert, rule: AlertRule, result: QueryResult) -> Chart:
        mine = series_of_alert(result.series, alert.labels, rule)
        unit = next((q.unit for q in self.queries if q.threshold_rule == rule.name), "")
        note = rule.note
        if result.ok and not mine:
            note = note or ("no series in the window" if not result.series
                            else "none of the rule's series has this alert's labels")
        return Chart("signal", rule.name, unit, result, mine[0] if mine else None, rule.threshold, rule.op,
                     note, extra=max(0, len(mine) - 1))


def _threshold(q: HealthQuery, rules: tuple[AlertRule, ...]) -> tuple[float | None, str]:
    for rule in rules:
        if q.threshold_rule and rule.name == q.threshold_rule and rule.threshold is not None:
            return rule.threshold, rule.op
    return q.threshold, (q.op if q.threshold is not None else "")


def _missing_note(q: HealthQuery, result: QueryResult) -> str:
    if not result.ok or result.series:
        return ""
    return "not exported by this service" if q.optional else "no such series in the window"


def _health_chart(q: HealthQuery, result: QueryResult, threshold: float | None, op: str) -> Chart:
    series = result.series[0] if result.series else None
    return Chart(q.key, q.title, q.unit, result, series, threshold, op, _missing_note(q, result),
                 extra=max(0, len(result.series) - 1))


def _current(chart: Chart) -> float:
    last = chart.series.last() if chart.series else None
    return last[1] if last else -math.inf


def _split_charts(q: HealthQuery, result: QueryResult, threshold: float | None, op: str) -> list[Chart]:
    if not result.series:
        return [Chart(q.key, q.title, q.unit, result, None, threshold, op, _missing_note(q, result))]
    charts = [Chart(f"{q.key}:{s.labels.get(q.split_by, '')}", s.labels.get(q.split_by, "") or q.title,
                    q.unit, result, s, threshold, op) for s in result.series]
    charts.sort(key=lambda c: (-_current(c), c.title))  # the top drifting feature first
    return charts[:q.top]


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()


def find_rule(rules: tuple[AlertRule, ...], labels: Mapping[str, str]) -> AlertRule | None:
    """The rule that produced an alert with these labels: same name; among several, the one with the
    alert among its active alerts, else the one whose own labels all match the alert's."""
    name = labels.get("alertname", "")
    candidates = [r for r in rules if r.name == name]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    wanted = dict(labels)
    for rule in candidates:
        if any(dict(active) == wanted for active in rule.alerts):
            return rule
    for rule in candidates:
        if all(wanted.get(k) == v for k, v in rule.labels.items()):
            return rule
    return candidates[0]


def series_of_alert(series: tuple[Series, ...], alert_labels: Mapping[str, Any], rule: AlertRule) -> list[Series]:
    """The series of the rule's signal that belong to this alert: every label the series carries
    (except those the rule overrides, and `__name__`) has the alert's value. Filtering here, not by
    injecting matchers into the expression, cannot change what the expression means."""
    return [s for s in series
            if all(alert_labels.get(k) == v for k, v in s.labels.items() if k != "__name__" and k not in rule.labels)]
