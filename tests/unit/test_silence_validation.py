"""The silence plan: Alertmanager's own validation rules and ours, matchers, durations, audit-id tokens,
and what the audit log says about the silences this tool made."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncall_tui.actions import silence as act
from oncall_tui.models import Alert, Matcher
from oncall_tui.sources.alertmanager import decode_silence, decode_silences, merge_silences
from oncall_tui.sources.base import SourceError

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def d(matchers, *, reason="known drift", hours=1.0, start=NOW, allow_regex=False, ack=False, by="me@host"):
    return act.SilenceDraft(tuple(matchers), start, start + timedelta(hours=hours), by, reason, allow_regex, ack)


def test_a_good_silence_passes():
    assert act.validate(d([Matcher("alertname", "DataDriftDetected")]), NOW) == []


@pytest.mark.parametrize("reason", ["", "   ", "\t\n", "[mlcall:ab12cd34]"])
def test_a_blank_reason_is_refused(reason):
    assert "a reason is required" in act.validate(d([Matcher("a", "b")], reason=reason), NOW)


def test_an_ack_needs_more_than_its_prefix():
    assert "a reason is required" in act.validate(d([Matcher("a", "b")], reason="ACK: ", ack=True), NOW)
    ok = d([Matcher("a", "b")], reason="on it", ack=True)
    assert act.validate(ok, NOW) == [] and ok.comment == "ACK: on it"


def test_at_least_one_matcher_that_does_not_match_the_empty_string():
    assert "at least one matcher is required" in act.validate(d([]), NOW)
    assert any("empty string" in p for p in act.validate(d([Matcher("instance", "")]), NOW))
    everything = [Matcher("alertname", ".*", is_regex=True)]
    assert any("empty string" in p for p in act.validate(d(everything, allow_regex=True), NOW))
    negative = [Matcher("env", "prod", is_equal=False)]  # env!="prod" matches a missing label
    assert any("empty string" in p for p in act.validate(d(negative, allow_regex=True), NOW))


def test_regex_and_negative_matchers_need_the_explicit_toggle():
    # the ACL bypass of R8: cluster=~"pro[d]" must not slip through unnoticed
    bypass = [Matcher("cluster", "pro[d]", is_regex=True)]
    assert any("allow regex" in p for p in act.validate(d(bypass), NOW))
    assert act.validate(d(bypass, allow_regex=True), NOW) == []
    negative = [Matcher("alertname", "X"), Matcher("env", "dev", is_equal=False)]
    assert any("allow regex" in p for p in act.validate(d(negative), NOW))


def test_bad_regex_and_label_names_are_refused():
    assert any("invalid regular expression" in p
               for p in act.validate(d([Matcher("a", "(", is_regex=True)], allow_regex=True), NOW))
    assert any("invalid label name" in p for p in act.validate(d([Matcher("1abc", "x")]), NOW))
    assert any("invalid label name" in p for p in act.validate(d([Matcher("a-b", "x")]), NOW))


def test_end_after_start_and_in_the_future():
    assert "the end must be after the start" in act.validate(d([Matcher("a", "b")], hours=0), NOW)
    past = d([Matcher("a", "b")], start=NOW - timedelta(hours=3))
    assert "the end must be in the future" in act.validate(past, NOW)


def test_the_author_is_required():
    assert "an author is required" in act.validate(d([Matcher("a", "b")], by=" "), NOW)


def test_payload_carries_the_audit_id_in_the_comment():
    body = d([Matcher("model", "fraud-detector")], reason="retraining [JIRA-7]").payload("ab12cd34")
    assert body["comment"] == "retraining [JIRA-7] [mlcall:ab12cd34]"
    assert body["matchers"] == [{"name": "model", "value": "fraud-detector", "isRegex": False, "isEqual": True}]
    assert body["createdBy"] == "me@host" and body["startsAt"].endswith("Z") and "id" not in body
    assert act.token_of(body["comment"]) == "ab12cd34"
    assert d([Matcher("a", "b")]).payload("ab12cd34", "some-id")["id"] == "some-id"


@given(st.text(max_size=80), st.from_regex(r"[0-9a-f]{8}", fullmatch=True))
def test_token_round_trip(reason, audit_id):
    comment = act.with_token(reason, audit_id)
    assert act.token_of(comment) == audit_id
    assert act.token_of(act.with_token(comment, "00000000")) == "00000000"  # one token, replaced
    assert "[mlcall:" not in act.strip_token(comment)


@pytest.mark.parametrize("text,minutes", [("15m", 15), ("1h", 60), ("2h30m", 150), ("1d", 1440), (" 1w ", 10080),
                                          ("90M", 90)])
def test_durations(text, minutes):
    assert act.parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "0m", "1x", "h", "-1h", "1h 2", "soon"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        act.parse_duration(text)


def test_format_duration():
    assert act.format_duration(timedelta(minutes=150)) == "2h30m"
    assert act.format_duration(timedelta(days=1, hours=1)) == "1d1h"


def test_matchers_are_parsed_with_operators_and_quotes():
    got = act.parse_matchers('instance=~"web-.*", env!=dev team="ml ops" job!~"x|y"')
    assert got == [Matcher("instance", "web-.*", True, True), Matcher("env", "dev", False, False),
                   Matcher("team", "ml ops"), Matcher("job", "x|y", True, False)]
    with pytest.raises(ValueError):
        act.parse_matchers("just-words")


def test_matching_is_anchored_like_alertmanager():
    labels = {"model": "fraud-detector", "env": "prod"}
    assert act.matches_labels([Matcher("model", "fraud.*", is_regex=True)], labels)
    assert not act.matches_labels([Matcher("model", "fraud", is_regex=True)], labels)  # anchored
    assert act.matches_labels([Matcher("team", "", is_equal=True), Matcher("env", "prod")], labels)  # missing = ""
    assert not act.matches_labels([Matcher("env", "prod", is_equal=False)], labels)
    assert not act.matches_labels([], labels)


def _alert(fp, **labels):
    return Alert(fingerprint=fp, labels=labels)


def test_matcher_sets_per_label_set_or_common():
    a = _alert("1", alertname="Drift", model="m", feature="age", instance="")
    b = _alert("2", alertname="Drift", model="m", feature="income")
    c = _alert("3", alertname="Drift", model="m", feature="age")
    names = {"alertname", "model", "feature", "instance"}
    sets = act.matcher_sets([a, b, c], names, common=False)
    assert sets == [(Matcher("alertname", "Drift"), Matcher("feature", "age"), Matcher("model", "m")),
                    (Matcher("alertname", "Drift"), Matcher("feature", "income"), Matcher("model", "m"))]
    assert act.matcher_sets([a, b], names, common=True) == [(Matcher("alertname", "Drift"), Matcher("model", "m"))]
    assert act.matcher_sets([a], {"model"}, common=False, extra=[Matcher("env", "x")]) == [
        (Matcher("model", "m"), Matcher("env", "x"))]


def _intent(audit_id, action, *, ends, before=None, **extra):
    spec = {"matchers": [{"name": "model", "value": "m", "is_regex": False, "is_equal": True}],
            "starts_at": "2026-01-01T11:00:00.000Z", "ends_at": ends, "created_by": "me", "comment": "why"}
    return {"phase": "intent", "id": audit_id, "action": action, "silence": spec, "before": before, **extra}


def _result(audit_id, action, result="ok", sid=""):
    return {"phase": "result", "id": audit_id, "action": action, "result": result,
            "after": {"silence_id": sid} if sid else None}


def test_tool_silences_follow_create_extend_expire_and_recreate():
    later = "2026-01-01T14:00:00.000Z"
    records = [
        _intent("a1", "silence.create", ends=later), _result("a1", "silence.create", sid="S1"),
        _intent("a2", "silence.create", ends=later), _result("a2", "silence.create", "failed"),
        _intent("a3", "silence.ack", ends=later), _result("a3", "silence.ack", sid="S3"),
        _intent("a4", "silence.expire", ends=later), _result("a4", "silence.expire", sid="S3"),
        _intent("a5", "silence.create", ends="2026-01-01T11:30:00.000Z"), _result("a5", "silence.create", sid="S5"),
        _intent("a6", "silence.extend", ends=later, before={"silence_id": "S5"}),
        _result("a6", "silence.extend", sid="S6"),
    ]
    alive = {t.silence_id: t for t in act.tool_silences(records)}
    assert set(alive) == {"S1", "S6"} and alive["S1"].matchers == (Matcher("model", "m"),)
    assert [t.silence_id for t in act.vanished(records, {"S6"}, NOW)] == ["S1"]
    assert act.vanished(records, {"S1", "S6"}, NOW) == []
    assert act.vanished(records, set(), datetime(2026, 1, 2, tzinfo=timezone.utc)) == []  # ended anyway
    records += [_intent("a7", "silence.recreate", ends=later, recreates="a1"), _result("a7", "silence.recreate",
                                                                                         sid="S7")]
    assert {t.silence_id for t in act.vanished(records, {"S6"}, NOW)} == {"S7"}
    assert act.vanished(records, {"S6"}, NOW, urls=["http://127.0.0.1:9093"]) == []  # another cluster
    records[-2]["target"] = {"alertmanager": ["http://127.0.0.1:9093"]}
    assert [t.silence_id for t in act.vanished(records, {"S6"}, NOW, urls=["http://127.0.0.1:9093/"])] == ["S7"]
    again = act.recreate_draft(alive["S1"], "you@host", NOW)
    assert again.matchers == (Matcher("model", "m"),) and again.created_by == "you@host" and again.comment == "why"


# -- decoding and merging silences from several peers ---------------------------------------------
def _raw(sid, updated, ends="2026-01-01T13:00:00.000Z", state="active", comment="why [mlcall:ab12cd34]"):
    return {"id": sid, "status": {"state": state}, "updatedAt": updated, "comment": comment, "createdBy": "me",
            "startsAt": "2026-01-01T12:00:00.123456789Z", "endsAt": ends,
            "matchers": [{"name": "model", "value": "m", "isRegex": False, "isEqual": True}]}


def test_decode_silence():
    s = decode_silence(_raw("S1", "2026-01-01T12:00:00.5Z"))
    assert s.id == "S1" and s.state == "active" and s.matchers == (Matcher("model", "m"),)
    assert s.starts_at == datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
    assert act.token_of(s.comment) == "ab12cd34"
    with pytest.raises(SourceError):
        decode_silence({"id": "x"})
    with pytest.raises(SourceError):
        decode_silences({"not": "a list"})


def test_merge_silences_by_id_newest_update_wins():
    peer1 = decode_silences([_raw("S1", "2026-01-01T12:00:00Z"), _raw("S2", "2026-01-01T12:00:00Z")])
    peer2 = decode_silences([_raw("S1", "2026-01-01T12:05:00Z", state="expired", ends="2026-01-01T12:05:00Z")])
    merged = {s.id: s for s in merge_silences([peer1, peer2])}
    assert set(merged) == {"S1", "S2"} and merged["S1"].state == "expired"
    merged = {s.id: s for s in merge_silences([peer2, peer1])}  # order of peers does not matter
    assert merged["S1"].state == "expired"


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                   max_size=4), max_leaves=20)


@given(_json)
def test_the_silence_decoder_never_crashes_on_arbitrary_json(body):
    try:
        decode_silences(body)
    except SourceError:
        pass
