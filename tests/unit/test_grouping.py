from datetime import datetime, timedelta, timezone
from types import MappingProxyType

from oncall_tui.grouping import group, merge
from oncall_tui.models import Alert, AlertState

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


def alert(name, fp, state=AlertState.FIRING, minutes=0, source="alertmanager", **labels):
    return Alert(fingerprint=fp, labels=MappingProxyType({"alertname": name, **labels}), state=state,
                 starts_at=T0 + timedelta(minutes=minutes), source=source)


def test_groups_by_name_and_key_labels_sorted_by_severity_state_age():
    alerts = [
        alert("Stale", "a", severity="warning", model="m1", minutes=1),
        alert("Drift", "b", severity="critical", model="m1", feature="x", state=AlertState.SILENCED),
        alert("Drift", "c", severity="critical", model="m1", feature="y", state=AlertState.SILENCED),
        alert("Latency", "d", severity="critical", model="m2", minutes=5),
        alert("Training", "e", severity="critical", model="m3", minutes=9),
        alert("Push", "f", severity="warning", model="m3", state=AlertState.PENDING, minutes=20),
    ]
    groups = group(alerts, ("model",))
    assert [(g.name, g.count) for g in groups] == [
        ("Training", 1), ("Latency", 1), ("Drift", 2), ("Stale", 1), ("Push", 1)]
    assert groups[2].state is AlertState.SILENCED
    assert dict(groups[2].key_labels) == {"model": "m1"}


def test_a_group_takes_its_worst_severity_and_most_urgent_state():
    g = group([alert("X", "1", severity="warning", model="m", state=AlertState.SILENCED),
               alert("X", "2", severity="critical", model="m")])[0]
    assert g.severity == "critical" and g.state is AlertState.FIRING
    assert g.first.fingerprint == "2"


def test_prometheus_firing_alerts_are_used_only_while_alertmanager_is_down():
    am = [alert("A", "1")]
    prom = [alert("A", "p1", source="prometheus"), alert("B", "p2", state=AlertState.PENDING, source="prometheus")]
    assert [a.fingerprint for a in merge(am, prom, alertmanager_ok=True)] == ["1", "p2"]
    assert [a.fingerprint for a in merge([], prom, alertmanager_ok=False)] == ["p1", "p2"]
