"""API decoders turn any answer into models or a SourceError — never a crash."""

import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncall_tui.models import AlertState
from oncall_tui.sources.alertmanager import decode_alerts
from oncall_tui.sources.base import SourceError, parse_time
from oncall_tui.sources.prometheus import decode_alert, unwrap

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_alertmanager_decoder_never_crashes(body):
    try:
        decode_alerts(body)
    except SourceError:
        pass


@given(st.dictionaries(st.sampled_from(["labels", "annotations", "state", "activeAt", "value"]), json_values))
def test_prometheus_alert_decoder_never_crashes(raw):
    try:
        decode_alert(raw)
    except SourceError:
        pass


def test_alertmanager_states():
    base = {"fingerprint": "f", "labels": {"alertname": "A"}, "startsAt": "2026-11-27T03:00:00.123456789Z"}
    silenced = decode_alerts([{**base, "status": {"state": "suppressed", "silencedBy": ["s1"]}}])[0]
    inhibited = decode_alerts([{**base, "status": {"state": "suppressed", "inhibitedBy": ["f2"]}}])[0]
    firing = decode_alerts([{**base, "status": {"state": "active"}}])[0]
    assert (silenced.state, inhibited.state, firing.state) == (
        AlertState.SILENCED, AlertState.INHIBITED, AlertState.FIRING)
    assert firing.starts_at.microsecond == 123456 and firing.starts_at.tzinfo is not None


def response(status, body):
    text = body if isinstance(body, str) else json.dumps(body)
    return httpx.Response(status, text=text, request=httpx.Request("GET", "http://prom/api/v1/x"))


@pytest.mark.parametrize("status,body,kind", [
    (400, {"status": "error", "errorType": "bad_data", "error": "parse error"}, "bad_data"),
    (422, {"status": "error", "errorType": "execution", "error": "too many samples"}, "execution"),
    (503, {"status": "error", "errorType": "timeout", "error": "query timed out"}, "timeout"),
    (502, "<html>bad gateway</html>", "http 502"),
    (200, "{not json", "bad json"),
    (200, [1, 2], "bad data"),
])
def test_prometheus_envelope_errors_are_classified(status, body, kind):
    with pytest.raises(SourceError) as info:
        unwrap(response(status, body), "http://prom/api/v1/x")
    assert info.value.kind == kind


def test_prometheus_warnings_are_kept():
    data, warnings = unwrap(response(200, {"status": "success", "data": {"alerts": []}, "warnings": ["w"]}), "u")
    assert data == {"alerts": []} and warnings == ("w",)


def test_times():
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("garbage") is None
    assert parse_time("2026-11-27T03:00:00+01:00").utcoffset().total_seconds() == 3600
