from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncall_tui.filtering import FilterError, parse
from oncall_tui.grouping import group
from oncall_tui.models import Alert


def alert(name, fp, **labels):
    summary = labels.pop("summary", "")
    return Alert(fingerprint=fp, labels=MappingProxyType({"alertname": name, **labels}),
                 annotations=MappingProxyType({"summary": summary}))


ALERTS = [
    alert("DataDriftDetected", "1", model="churn", feature="age", severity="critical", summary="KS 0.3"),
    alert("DataDriftDetected", "2", model="churn", feature="income", severity="critical"),
    alert("ModelInferenceLatenessHigh", "3", model="fraud", severity="warning", summary="p95 is 4s"),
]


def names(text):
    return sorted(a.fingerprint for a in ALERTS if parse(text).matches(a))


def test_free_text_matches_name_label_values_and_summary():
    assert names("drift") == ["1", "2"]
    assert names("FRAUD") == ["3"]
    assert names("p95") == ["3"]
    assert names("") == ["1", "2", "3"]


def test_label_matchers():
    assert names("model=churn") == ["1", "2"]
    assert names("model!=churn") == ["3"]
    assert names("feature=~inc.*") == ["2"]
    assert names("feature!~inc.*") == ["1", "3"]
    assert names("model=churn feature=age") == ["1"]
    assert names('severity="critical" drift') == ["1", "2"]


def test_filter_keeps_only_matching_alerts_of_a_group():
    groups = parse("feature=income").apply(group(ALERTS))
    assert [g.name for g in groups] == ["DataDriftDetected"]
    assert [a.fingerprint for a in groups[0].alerts] == ["2"]


def test_bad_filters_say_why():
    with pytest.raises(FilterError, match="regular expression"):
        parse("model=~(")
    with pytest.raises(FilterError):
        parse('model="unclosed')


@given(st.text())
def test_any_text_either_parses_or_raises_filter_error(text):
    try:
        f = parse(text)
    except FilterError:
        return
    for a in ALERTS:
        f.matches(a)
