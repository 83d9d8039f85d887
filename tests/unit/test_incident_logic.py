"""Incidents without servers: timeline order and figures, flap folding, bounded steps, the Markdown note's
inertness, drill alerts rendered from the pack's rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from oncall_tui.incidents import drill, history, markdown, report, timeline
from oncall_tui.models import Alert, Matcher, Series, Silence

T0 = datetime(2026, 12, 3, 3, 0, 0, tzinfo=timezone.utc)
LABELS = {"alertname": "DataDriftDetected", "model": "churn", "severity": "critical", "component": "data"}


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def silence_records(audit_id: str, seconds: float, *, category: str = "", action: str = "silence.create",
                    labels=LABELS) -> list[dict]:
    matchers = [{"name": k, "value": v, "is_regex": False, "is_equal": True} for k, v in labels.items()]
    intent = {"ts": at(seconds), "phase": "intent", "id": audit_id, "action": action, "actor": "ana@jump",
              "reason": "known drift [mlcall:" + audit_id + "]", "category": category,
              "silence": {"matchers": matchers, "ends_at": at(seconds + 3600)}}
    result = {"ts": at(seconds + 0.5), "phase": "result", "id": audit_id, "action": action, "result": "ok",
              "after": {"silence_id": "sil-" + audit_id}}
    return [intent, result]


def test_timeline_orders_every_event_and_measures_mtta_mttr():
    alert = Alert("fp1", LABELS, {"summary": "drift", "runbook_url": "https://rb/drift"}, starts_at=T0)
    records = silence_records("aaaa1111", 95)
    records += [{"ts": at(30), "phase": "event", "id": "n1", "action": "runbook.open", "actor": "ana@jump",
                 "target": {"fingerprint": "fp1", "runbook": "data-drift"}},
                {"ts": at(120), "phase": "intent", "id": "s1", "action": "runbook.step", "actor": "ana@jump",
                 "argv": ["promtool", "query"], "target": {"fingerprint": "fp1", "step": 1}},
                {"ts": at(121), "phase": "result", "id": "s1", "action": "runbook.step", "result": "ok",
                 "target": {"fingerprint": "fp1", "step": 1}},
                {"ts": at(125), "phase": "intent", "id": "x", "action": "runbook.step",  # another alert's step
                 "target": {"fingerprint": "other", "step": 1}}]
    other = Silence("sil-other", (Matcher("model", "churn"),), T0 + timedelta(seconds=200),
                    T0 + timedelta(hours=1), "bob@laptop", "looking into it", updated_at=T0 + timedelta(seconds=200))
    t = timeline.build([alert], records=records, silences=[other], first_seen=T0 + timedelta(seconds=12),
                       transitions=[(T0 - timedelta(seconds=60), "pending"), (T0, "firing")],
                       resolved_at=T0 + timedelta(seconds=600))
    kinds = [e.kind for e in t.events]
    assert kinds == ["pending", "start", "firing", "seen", "runbook", "silence", "step", "other-silence", "resolved"]
    assert t.mtta == timedelta(seconds=95.5)  # the silence's result: when it was in force
    assert t.mttr == timedelta(seconds=600)
    silence = t.events[kinds.index("silence")]
    assert silence.reason == "known drift" and silence.actor == "ana@jump" and silence.result == "ok"
    assert t.relative(silence.at) == "+1m35s" and t.relative(t.events[0].at) == "-1m00s"
    assert t.events[kinds.index("other-silence")].actor == "bob@laptop"


def test_a_failed_silence_is_not_an_acknowledgement_and_unrelated_silences_are_left_out():
    alert = Alert("fp1", LABELS, starts_at=T0)
    records = silence_records("bbbb2222", 10)
    records[1] = {**records[1], "result": "failed", "after": None}
    records += silence_records("cccc3333", 20, labels={**LABELS, "model": "someone-else"})
    t = timeline.build([alert], records=records)
    assert [e.kind for e in t.events] == ["start", "silence"] and t.mtta is None and t.mttr is None


def test_steps_are_bounded_under_the_11000_point_limit():
    assert history.step_for(3600) == 1.0
    assert history.step_for(7 * 86400, 15) == 61.0
    assert 7 * 86400 / history.step_for(7 * 86400) <= 11_000
    assert history.step_for(30 * 86400, 15) * 10_000 >= 30 * 86400


def test_flaps_within_the_gap_count_once_and_firing_time_excludes_the_gaps():
    step = 10.0
    pts = [*range(0, 100, 10), *range(160, 200, 10), *range(2000, 2050, 10)]  # fire, 60 s gap, fire; much later
    series = Series({"alertname": "A", "model": "m", "alertstate": "firing"}, tuple((float(t), 1.0) for t in pts))
    rows = report.compute([series], [], start=-10, end=5000, step=step, flap_gap=300)
    (row,) = rows
    assert (row.fired, row.runs) == (2, 3)
    assert row.firing_seconds == (100 + 40 + 50)
    assert row.mttr == ((200 - 0) + 50) / 2
    tight = report.compute([series], [], start=-10, end=5000, step=step, flap_gap=30)
    assert tight[0].fired == 3


def test_report_joins_acks_and_counts_false_alarms_per_rule():
    series = Series({**LABELS, "alertstate": "firing"}, tuple((float(t), 1.0) for t in range(0, 300, 10)))
    start = T0.timestamp()
    series = Series(series.labels, tuple((start + t, v) for t, v in series.points))
    records = silence_records("dddd4444", 40, category="false-alarm")
    rows = report.compute([series], records, start=start - 60, end=start + 3600, step=10.0, flap_gap=300)
    (row,) = rows
    assert row.acknowledged == 1 and row.mtta == 40.5 and row.false_alarms == 1
    md = report.markdown(rows, since="1h", source="http://u:pw-s3cret@prom:9090")
    assert "pw-s3cret" not in md and "| `DataDriftDetected` | `churn` | 1 |" in md


@given(st.text(max_size=60))
def test_markdown_inline_is_a_single_inert_code_span(value):
    out = markdown.inline(value)
    assert "\n" not in out and "\x1b" not in out
    if out:
        fence = out[: len(out) - len(out.lstrip("`"))]
        assert out.endswith(fence) and out[len(fence):-len(fence)].count(fence) == 0


def test_markdown_note_keeps_injected_markup_inert_and_drops_secrets():
    evil = "[@click=app.quit]x[/] <img src=x> \x1b]52;c;aGk=\x07`rm`"
    alert = Alert("fp1", {**LABELS, "evil": evil},
                  {"summary": "**bold** [link](http://evil)", "runbook_url": "https://u:s3cret@rb/x?token=tok123"},
                  starts_at=T0)
    note = markdown.render(timeline.build([alert], records=silence_records("eeee5555", 5)))
    assert "s3cret" not in note and "tok123" not in note and "\x1b" not in note and "\x07" not in note
    assert "`` evil=[@click=app.quit]x[/] <img src=x> `rm` ``" in note
    assert "`**bold** [link](http://evil)`" in note


def test_drill_alerts_look_like_the_packs_rules_plus_drill_true():
    (alert,) = drill.drill_alerts("drift", "d1", "ana@jump")
    assert alert["labels"] == {"alertname": "DataDriftDetected", "model": "churn-predictor", "severity": "critical",
                               "component": "data", "feature": "account_age_days", "drill": "true"}
    assert alert["annotations"]["summary"] == ("Input feature account_age_days of churn-predictor drifted from the "
                                               "training set (KS 0.35 > 0.15)")
    assert alert["annotations"]["runbook_url"].endswith("data-drift.md") and alert["annotations"]["drill_id"] == "d1"
    latency = drill.drill_alerts("latency", "d2", "x")[0]
    assert latency["annotations"]["summary"].startswith("Model fraud-detector inference p95 latency is 4.1s")


def test_drill_progress_from_the_audit_log_and_alertmanager():
    labels = {"alertname": "DataDriftDetected", "model": "churn", "drill": "true"}
    p = drill.AlertProgress(dict(labels))
    target = {"labels": labels, "drill_id": "d1"}
    records = [
        {"ts": at(-5), "phase": "event", "id": "old", "action": "drill.look", "target": target},  # before the start
        {"ts": at(4), "phase": "event", "id": "n1", "action": "drill.look", "target": target},
        {"ts": at(6), "phase": "event", "id": "n2", "action": "drill.look", "target": {**target, "drill_id": "d0"}},
        {"ts": at(9), "phase": "event", "id": "n3", "action": "runbook.open", "target": {"labels": labels}},
        {"ts": at(10), "phase": "intent", "id": "s1", "action": "runbook.step", "argv": ["kubectl", "get"],
         "target": {"labels": labels, "step": 2}},
        {"ts": at(11), "phase": "result", "id": "s1", "action": "runbook.step", "result": "ok", "target": {}},
        {"ts": at(20), "phase": "intent", "id": "r1", "action": "drill.resolve", "actor": "ana", "target": target},
        {"ts": at(20.1), "phase": "result", "id": "r1", "action": "drill.resolve", "result": "ok", "target": target},
    ]
    stale = Silence("old", (Matcher("drill", "true"),), T0 - timedelta(hours=1), T0 + timedelta(hours=1), "x", "old",
                    updated_at=T0 - timedelta(hours=1))
    ack = Silence("new", tuple(Matcher(k, v) for k, v in labels.items()), T0 + timedelta(seconds=7),
                  T0 + timedelta(minutes=15), "ana", "ACK: on it [mlcall:abcdef12]", updated_at=T0 + timedelta(seconds=7))
    drill.observe(p, "d1", T0, records, [stale])
    assert p.ack is None and not p.done  # a silence older than the drill is no acknowledgement
    drill.observe(p, "d1", T0, records, [stale, ack])
    assert p.look == T0 + timedelta(seconds=4) and p.runbook == T0 + timedelta(seconds=9)
    assert [s["step"] for s in p.steps] == [2] and p.steps[0]["result"] == "ok"
    assert p.ack == T0 + timedelta(seconds=7) and (p.ack_by, p.ack_comment) == ("ana", "ACK: on it")
    assert p.resolved == T0 + timedelta(seconds=20.1) and p.resolved_by == "ana" and p.done


def test_rollbacks_of_the_alerts_model_appear_with_before_and_after():
    alert = Alert("fp1", {**LABELS, "deployment": "churn-server"}, starts_at=T0)
    records = [
        {"ts": at(60), "phase": "intent", "id": "r1", "action": "registry.rollback", "actor": "ana", "reason": "bad v3",
         "target": {"system": "mlflow", "model": "churn", "alias": "champion"},
         "before": {"alias": "champion", "version": "3"}, "planned": {"version": "2"}},
        {"ts": at(61), "phase": "result", "id": "r1", "action": "registry.rollback", "result": "ok",
         "after": {"alias": "champion", "version": "2"}, "target": {}},
        {"ts": at(70), "phase": "intent", "id": "d1", "action": "deployment.rollback", "actor": "ana", "reason": "too",
         "target": {"system": "kubernetes", "namespace": "ml", "kind": "Deployment", "name": "churn-server"},
         "before": {"revision": 5}, "planned": {"revision": 4}},
        {"ts": at(75), "phase": "result", "id": "d1", "action": "deployment.rollback", "result": "failed",
         "error": "409 conflict", "target": {}},
        {"ts": at(80), "phase": "intent", "id": "r2", "action": "registry.rollback", "reason": "other model",
         "target": {"model": "fraud"}, "before": {"alias": "champion", "version": "9"}},
    ]
    t = timeline.build([alert], records=records)
    rollbacks = [e for e in t.events if e.kind == "rollback"]
    assert [e.text for e in rollbacks] == ["Registry rollback: champion v3 → v2",
                                           "Deployment rollback ml/churn-server: revision 5 → 4"]
    assert rollbacks[1].result == "failed" and rollbacks[1].detail == "409 conflict"
    assert t.model_versions == ("v3", "v2") and t.mtta == timedelta(seconds=61)
    assert "versions in rollbacks: `v3`, `v2`" in markdown.render(t)
