"""The demo's metric history as promtool reads it (OpenMetrics): the live scrape's exact series, families
not interleaved, timestamps in seconds, `# EOF` last; the incident's onset minutes before the end; and the
live service continuing the counters where the history ends. (Prometheus itself: tests/integration/
test_demo_stack.py.)"""

from __future__ import annotations

import re

from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from oncall_tui.stack.history import ONSET_MIN, openmetrics
from oncall_tui.stack.model_service import ModelService
from oncall_tui.stack.scenarios import apply_scenario

TARGET = {"job": "model-service", "instance": "127.0.0.1:9999", "namespace": "ml-prod"}
END = 1_796_300_000.0
SAMPLE = re.compile(r"^(?P<name>[a-z_]+)\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+-]+) (?P<ts>[0-9]+\.[0-9]{3})$")
LABEL = re.compile(r'([a-z_]+)="([^"]*)"')


def history(scenario: str = "default", hours: float = 1.0) -> tuple[ModelService, list[str]]:
    service = ModelService()
    apply_scenario(service, scenario)
    return service, list(openmetrics(service, start=END - hours * 3600, end=END, step=15, target_labels=TARGET))


def live_series(service: ModelService) -> set[tuple[str, tuple]]:
    text = generate_latest(service.registry).decode()
    return {(s.name, tuple(sorted({**s.labels, **TARGET}.items())))
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_the_history_is_openmetrics_promtool_reads_with_the_live_scrapes_series():
    service, lines = history()
    assert lines[-1] == "# EOF" and lines.count("# EOF") == 1
    families = [line.split()[2] for line in lines if line.startswith("# TYPE")]
    assert len(families) == len(set(families))  # one block per family, never interleaved
    samples = [SAMPLE.match(line) for line in lines if not line.startswith("#")]
    assert all(samples), [line for line in lines if not line.startswith("#") and not SAMPLE.match(line)][:3]
    assert all(END - 3600 <= float(m["ts"]) <= END for m in samples)  # seconds, not milliseconds
    written = {(m["name"], tuple(sorted(LABEL.findall(m["labels"])))) for m in samples}
    seen: dict[tuple, float] = {}
    for m in samples:  # every series' timestamps ascend
        key = (m["name"], m["labels"])
        assert float(m["ts"]) > seen.get(key, -1.0)
        seen[key] = float(m["ts"])
    assert written == live_series(service)  # the same names and label sets: history and live join


def test_the_onset_is_minutes_before_the_end_and_live_counters_continue_the_history():
    service, lines = history("latency")
    inf = re.compile(r'^model_inference_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*model="fraud-detector"')
    slow = re.compile(r'^model_inference_duration_seconds_bucket\{[^}]*le="2\.0"[^}]*model="fraud-detector"')
    totals = [tuple(map(float, line.split()[-2:])) for line in lines if inf.match(line)]
    fast = [tuple(map(float, line.split()[-2:])) for line in lines if slow.match(line)]
    # share of requests slower than 2 s per 15 s step: ~0 before the onset, most of them after it
    share = [(t, 1 - (f1 - f0) / max(1.0, n1 - n0)) for (n0, _), (n1, t), (f0, _), (f1, _) in
             zip(totals, totals[1:], fast, fast[1:], strict=False)]
    onset = END - ONSET_MIN["latency"] * 60
    assert all(s < 0.05 for t, s in share if t < onset - 30) and all(s > 0.5 for t, s in share if t > onset + 30)
    incident = [line for line in lines if line.startswith("mlcall_synthetic_incident{")]
    assert incident and min(float(line.split()[-1]) for line in incident) >= onset - 15
    last = totals[-1][0]
    now = {s.labels.get("le"): s.value for f in text_string_to_metric_families(generate_latest(service.registry)
                                                                                  .decode())
           for s in f.samples if s.name.endswith("_bucket") and s.labels["model"] == "fraud-detector"}
    assert last <= now["+Inf"] < last + 25 * 5  # the live scrape goes on from there (no reset to 0)
