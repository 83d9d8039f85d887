"""Signal sparklines below the UI: PromQL threshold parsing, steps, health-query config, the range-query
client against a fake Prometheus (NaN, empty, 422, warnings, isPartial, slow), caching, http config."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncall_tui import health_queries
from oncall_tui.config import ConfigError, Settings
from oncall_tui.models import AlertRule, Series
from oncall_tui.promql import breaches, escape, split_comparison
from oncall_tui.signals import MAX_POINTS, WINDOWS, choose_step, find_rule, series_of_alert
from oncall_tui.sources import http_config
from oncall_tui.sources.prometheus_queries import RangeQuerier, decode_rules
from tests.support.fake_prometheus import Answer, FakePrometheus, alert_rule

SEED_RULES = {
    "histogram_quantile(0.95, sum by (le, model) (rate(model_inference_duration_seconds_bucket[5m]))) > 2":
        ("histogram_quantile(0.95, sum by (le, model) (rate(model_inference_duration_seconds_bucket[5m])))", ">", 2),
    "max by (model, feature) (dvc_metric_data_drift_kolmogorov_smirnov) > 0.15":
        ("max by (model, feature) (dvc_metric_data_drift_kolmogorov_smirnov)", ">", 0.15),
    "(time() - max by (model) (mlflow_model_last_trained_timestamp)) / 86400 > 7":
        ("(time() - max by (model) (mlflow_model_last_trained_timestamp)) / 86400", ">", 7),
    "sum by (model) (increase(dvc_training_job_failures_total[5m])) > 0":
        ("sum by (model) (increase(dvc_training_job_failures_total[5m]))", ">", 0),
}


@pytest.mark.parametrize("expr", SEED_RULES)
def test_the_seed_rules_split_into_signal_and_threshold(expr):
    split = split_comparison(expr)
    assert (split.signal, split.op, split.threshold) == SEED_RULES[expr]


@pytest.mark.parametrize("expr, op, threshold, signal", [
    ('up{job="a>b"} == 0', "==", 0, 'up{job="a>b"}'),
    ("0.5 < foo", ">", 0.5, "foo"),  # a number on the left: the comparison is turned around
    ("(a > bool 3)", ">", 3, "a"),
    ("a < b > 2", ">", 2, "a < b"),  # left-associative: the last comparison is at the top
    ("foo >= 1e3 # a comment > 5", ">=", 1000, "foo"),
    ("rate(x[5m:1m]) > 0x10", ">", 16, "rate(x[5m:1m])"),
])
def test_comparisons_are_found_only_at_the_top(expr, op, threshold, signal):
    split = split_comparison(expr)
    assert (split.op, split.threshold, split.signal) == (op, threshold, signal)


@pytest.mark.parametrize("expr", ["a > 1 and b < 2", "x", "a > on(x) group_left b", "(a or b) > c"])
def test_no_numeric_threshold_is_guessed(expr):
    split = split_comparison(expr)
    assert split.threshold is None and split.note


@given(st.text(max_size=80), st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_any_text_with_a_numeric_comparison_never_crashes(prefix, number):
    split_comparison(prefix)  # never raises
    expr = f"sum(rate(m[5m])) > {number!r}"
    assert split_comparison(expr).threshold == number


def test_nan_never_breaches_and_comparisons_follow_the_operator():
    assert not breaches(math.nan, ">", 1) and breaches(2, ">", 1) and breaches(1, ">=", 1)
    assert breaches(0.5, "<", 1) and not breaches(2, "<", 1) and not breaches(5, "", None)


@pytest.mark.parametrize("window, _", WINDOWS)
@pytest.mark.parametrize("width", [1, 8, 40, 200, 5000, 100_000])
def test_steps_fill_the_width_and_never_exceed_11000_points(window, _, width):
    step = choose_step(window, width)
    points = int(window // step) + 1
    assert points <= MAX_POINTS and step == int(step) >= 1
    assert points <= width + 1 or points == MAX_POINTS or step == 1


def test_health_queries_are_configurable_in_one_table():
    table = {"p95_latency": {"expr": 'histogram_quantile(0.95, rate(lat_bucket{svc="$model"}[$rate]))', "unit": "s"},
             "nan_rate": {"enabled": False},
             "gpu_memory": {"expr": 'gpu_bytes{svc="$model"}', "title": "GPU mem", "unit": "B", "threshold": 8e9}}
    queries = {q.key: q for q in health_queries.from_table(table)}
    assert "nan_rate" not in queries and queries["gpu_memory"].threshold == 8e9
    rendered = queries["p95_latency"].render('evil"} or vector(1) #', 30)
    assert rendered == 'histogram_quantile(0.95, rate(lat_bucket{svc="evil\\"} or vector(1) #"}[5m]))'
    assert queries["p95_latency"].render("m", 1800).endswith("[30m]))")  # the rate window is never below the step
    for bad in ({"x": {"title": "no expr"}}, {"p95_latency": {"threshold": "high"}}, {"p95_latency": {"colour": 1}}):
        with pytest.raises(ConfigError):
            health_queries.from_table(bad)


def test_queries_and_prometheus_tables_come_from_the_config_file(tmp_path: Path):
    from oncall_tui.config import load

    path = tmp_path / "config.toml"
    path.write_text('[prometheus]\nurl = "http://127.0.0.1:9"\nheaders = { "X-Scope-OrgID" = "ml" }\n'
                    '[queries.nan_rate]\nenabled = false\n')
    settings = load({"config": str(path)}, env={})
    assert settings.prometheus_url == "http://127.0.0.1:9"
    assert "nan_rate" not in {q.key for q in health_queries.load(settings)}
    assert http_config.for_settings(settings).headers == (("X-Scope-OrgID", "ml"),)


def test_escape_keeps_label_values_inside_their_string():
    assert escape('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_rules_are_matched_by_name_and_labels():
    rules = decode_rules({"groups": [{"name": "g", "rules": [
        alert_rule("Lat", "p95 > 2", {"severity": "warning", "team": "a"}),
        alert_rule("Lat", "p95 > 5", {"severity": "critical", "team": "a"}),
        {"type": "recording", "name": "x:rate", "query": "rate(x[5m])"}]}]})
    assert [r.threshold for r in rules] == [2, 5]
    assert find_rule(rules, {"alertname": "Lat", "severity": "critical", "team": "a"}).threshold == 5
    assert find_rule(rules, {"alertname": "Other"}) is None
    rule = AlertRule("Lat", "x > 2", {"severity": "warning"}, "x", ">", 2)
    mine = Series({"model": "m1"}, ((0, 1.0),))
    other = Series({"model": "m2"}, ((0, 1.0),))
    assert series_of_alert((mine, other), {"alertname": "Lat", "model": "m1", "severity": "warning"}, rule) == [mine]


# -- the range-query client against a fake server ---------------------------------------------------------
def run(coro):
    return asyncio.run(coro)


async def _query(fake: FakePrometheus, query: str, *, timeout: float = 2.0, ttl: float = 5.0, client=None):
    querier = RangeQuerier(fake.url, timeout=timeout, ttl=ttl, client=client)
    try:
        return await querier.query_range(query, 1000.0, 1900.0, 60.0), querier
    finally:
        await querier.aclose()


def test_nan_inf_and_missing_samples_stay_what_they_are():
    with FakePrometheus() as fake:
        fake.route("q", Answer([({"model": "m"}, lambda t: math.nan if t == 1060 else math.inf if t == 1120
                                 else None if t == 1180 else 1.5)]))
        result, _ = run(_query(fake, "q"))
    (series,) = result.series
    values = dict(series.points)
    assert math.isnan(values[1060]) and values[1120] == math.inf and 1180 not in values and values[1000] == 1.5
    assert result.ok and not result.partial


@pytest.mark.parametrize("answer, partial", [
    (Answer(warnings=["store gateway unreachable"]), True),
    (Answer(extra={"isPartial": True}), True),  # VictoriaMetrics
    (Answer(extra={"isPartial": False}), False),
])
def test_partial_answers_are_flagged(answer, partial):
    with FakePrometheus() as fake:
        fake.route("q", answer)
        result, _ = run(_query(fake, "q"))
    assert result.ok and result.partial is partial and result.series == ()


def test_errors_keep_their_type_and_a_timeout_is_named():
    with FakePrometheus() as fake:
        fake.route("heavy", Answer(status=422, error_type="execution",
                                   error="query processing would load too many samples into memory"))
        fake.route("bad", Answer(status=400, error_type="bad_data", error="parse error"))
        fake.route("slow", Answer(delay=10))
        heavy, _ = run(_query(fake, "heavy"))
        bad, _ = run(_query(fake, "bad"))
        slow, _ = run(_query(fake, "slow", timeout=0.5))
        sent = [p for path, p, _ in fake.requests if path == "/api/v1/query_range"]
    assert (heavy.error_type, bad.error_type, slow.error_type) == ("execution", "bad_data", "timeout")
    assert "too many samples" in heavy.error and heavy.series == ()
    assert all(float(p["timeout"]) < 2.0 for p in sent)  # the server gives up before the client


def test_results_are_cached_per_query_window_and_step_and_old_data_survives_a_failure():
    async def scenario(fake):
        querier = RangeQuerier(fake.url, timeout=0.5, ttl=60.0)
        first = await querier.query_range("q", 1000.0, 1900.0, 60.0)
        again = await querier.query_range("q", 1010.0, 1910.0, 60.0)  # same window and step: cached
        other = await querier.query_range("q", 1000.0, 1900.0, 30.0)  # another step: asked
        querier.ttl = 0.0
        fake.routes[0] = ("q", Answer(delay=10))  # the backend now hangs
        failed = await querier.query_range("q", 1000.0, 1900.0, 60.0)
        await querier.aclose()
        return first, again, other, failed

    with FakePrometheus() as fake:
        fake.route("q", Answer([({}, lambda t: 2.0)]))
        first, again, other, failed = run(scenario(fake))
        asked = len(fake.queries())
    assert again is first and other is not first and asked == 3
    assert failed.error_type == "timeout" and failed.series == first.series  # shown dimmed, "stale since"
    assert failed.fetched_at == first.fetched_at


def test_headers_bearer_token_from_a_file_reread_each_time(tmp_path: Path):
    token = tmp_path / "token"
    token.write_text("sentinel-token-A\n")
    config = http_config.from_table({"headers": {"X-Scope-OrgID": "ml-team"},
                                     "authorization": {"credentials_file": str(token)}})

    async def two_queries(fake):
        querier = RangeQuerier(fake.url, client=config.client(2.0))
        await querier.query_range("a", 0.0, 60.0, 60.0)
        token.write_text("sentinel-token-B")
        await querier.query_range("b", 0.0, 60.0, 60.0)
        await querier.aclose()

    with FakePrometheus() as fake:
        run(two_queries(fake))
        headers = [h for path, _, h in fake.requests if path == "/api/v1/query_range"]
    assert [h["Authorization"] for h in headers] == ["Bearer sentinel-token-A", "Bearer sentinel-token-B"]
    assert all(h["X-Scope-OrgID"] == "ml-team" for h in headers)
    assert "sentinel" not in repr(config.public()) + repr(config) + repr(config.auth())


@pytest.mark.parametrize("table", [
    {"authorization": {"credentials": "inline-secret"}},
    {"basic_auth": {"username": "u", "password": "inline"}},
    {"authorization": {"credentials_file": "/x"}, "basic_auth": {"username": "u", "password_file": "/y"}},
    {"headers": {"Authorization": "Bearer x"}},
    {"tls": {}},
])
def test_http_config_refuses_inline_secrets_and_two_auth_methods(table):
    with pytest.raises(ConfigError):
        http_config.from_table(table)


def test_basic_auth_and_ca_bundle(tmp_path: Path):
    (tmp_path / "pw").write_text("s3cret")
    config = http_config.from_table({"basic_auth": {"username": "oncall", "password_file": str(tmp_path / "pw")},
                                     "tls_config": {"insecure_skip_verify": False}})
    assert config.auth_type == "basic" and config.verify() is True
    assert "s3cret" not in repr(config.public())
    assert http_config.prometheus_client(Settings(), 1.0) is None  # no table: the source's own client
