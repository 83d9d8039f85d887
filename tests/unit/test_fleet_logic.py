"""[[clusters]]: config parsing, per-cluster settings, the @cluster filter, per-cluster counts, the folded
status bar and bounded polling."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from oncall_tui import config, grouping
from oncall_tui.filtering import parse
from oncall_tui.fleet import Fleet
from oncall_tui.models import Alert, SourceHealth, SourceStatus, utcnow
from oncall_tui.polling import Poller
from oncall_tui.sources.alertmanager import decode_alert
from oncall_tui.sources.http_config import for_settings

FLEET = """
refresh = 3
[[clusters]]
name = "eu-prod"
alertmanager = ["http://am-1:9093", "http://am-2:9093"]
prometheus = { url = "http://mimir/prometheus", headers = { "X-Scope-OrgID" = "eu" } }
kube_context = "eu"
danger = true

[[clusters]]
name = "us-dev"
alertmanager = "http://am-us:9093"
prometheus = "http://prom-us:9090"
read_only = true
"""


def load(tmp_path, text: str) -> config.Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return config.load({"config": str(path)}, env={})


def test_clusters_parse_and_each_gets_its_own_settings(tmp_path):
    settings = load(tmp_path, FLEET)
    eu, us = settings.clusters
    assert eu.alertmanager_urls == ("http://am-1:9093", "http://am-2:9093") and us.alertmanager_urls == ("http://am-us:9093",)
    s_eu, s_us = (config.for_cluster(settings, c) for c in settings.clusters)
    assert (s_eu.cluster, s_eu.prometheus_url, s_eu.kube_context, s_eu.danger, s_eu.read_only) == \
        ("eu-prod", "http://mimir/prometheus", "eu", True, False)
    assert (s_us.danger, s_us.read_only, s_us.refresh) == (False, True, 3.0)
    assert dict(for_settings(s_eu).headers) == {"X-Scope-OrgID": "eu"}
    assert dict(for_settings(s_us).headers) == {}
    assert "X-Scope-OrgID" not in str(config.public_view(settings))  # tenants and tokens stay out of views


def test_without_clusters_the_flags_are_the_one_cluster(tmp_path):
    settings = config.load({"alertmanager_urls": ["http://am:9093"], "prometheus_url": "http://p:9090"}, env={})
    (only,) = config.cluster_configs(settings)
    assert (only.name, only.alertmanager_urls, only.prometheus_url) == ("default", ("http://am:9093",), "http://p:9090")
    fleet = Fleet(settings)
    assert not fleet.multi and fleet.clusters[0].tag == ""  # alerts stay untagged: nothing to tell apart


@pytest.mark.parametrize("text, error", [
    ('[[clusters]]\nname = "a"\n[[clusters]]\nname = "a"\n', "already defined"),
    ('[[clusters]]\nname = "a b"\n', "name must be"),
    ('[[clusters]]\nname = "a"\nalertmanagers = ["x"]\n', "unknown setting(s) alertmanagers"),
    ('clusters = "a"\n', "array of tables"),
])
def test_bad_clusters_are_refused_with_the_reason(tmp_path, text, error):
    with pytest.raises(config.ConfigError, match=error.replace("(", r"\(").replace(")", r"\)")):
        load(tmp_path, text)


def test_a_profile_brings_its_own_clusters(tmp_path):
    text = FLEET + '\n[profiles.staging]\n[[profiles.staging.clusters]]\nname = "stg"\nalertmanager = "http://s:1"\n'
    path = tmp_path / "config.toml"
    path.write_text(text)
    settings = config.load({"config": str(path), "profile": "staging"}, env={})
    assert [c.name for c in settings.clusters] == ["stg"]


def alert(cluster: str, fingerprint: str = "f1", **labels) -> Alert:
    raw = {"fingerprint": fingerprint, "labels": {"alertname": "Drift", "model": "m", **labels},
           "startsAt": (utcnow() - timedelta(minutes=1)).isoformat()}
    return decode_alert(raw, cluster)


def test_alerts_carry_their_cluster_and_same_labels_in_two_clusters_are_two_alerts():
    a, b = alert("eu"), alert("us")
    assert (a.cluster, b.cluster) == ("eu", "us") and a.fingerprint != b.fingerprint
    assert alert("").fingerprint == "f1"  # one cluster: Alertmanager's own fingerprint
    (group,) = grouping.group([a, b, alert("eu", "f2", pod="x")])
    assert grouping.cluster_counts(group) == "eu 2 · us 1"
    (one,) = grouping.group([a])
    assert grouping.cluster_counts(one) == "eu"


@pytest.mark.parametrize("text, kept", [
    ("@cluster=eu", ["eu"]), ("@cluster!=eu", ["us", "eu-dev"]), ("@cluster=~eu.*", ["eu", "eu-dev"]),
    ("@cluster!~eu.*", ["us"]), ("cluster=eu", []),  # a label called cluster is another thing
    # still being typed: keeps every alert rather than emptying the table at each keystroke
    ("@", ["eu", "us", "eu-dev"]), ("@clu", ["eu", "us", "eu-dev"]), ("@cluster=", ["eu", "us", "eu-dev"]),
    ("@cluster!~", ["eu", "us", "eu-dev"]), ("@cluster=e", []),  # a whole term: exact, as typed
])
def test_the_cluster_filter_term(text, kept):
    alerts = [alert(c, c) for c in ("eu", "us", "eu-dev")]
    f = parse(text)
    assert [a.cluster for a in alerts if f.matches(a)] == kept


def test_the_status_bar_folds_the_clusters_and_names_the_stale_one():
    from oncall_tui.ui.widgets.source_bar import fold_clusters

    now = utcnow()
    ok = SourceStatus("Alertmanager", SourceHealth.OK, last_success=now)
    stale = SourceStatus("Alertmanager", SourceHealth.STALE, last_success=now - timedelta(minutes=2),
                         error="connection refused")
    clusters = {f"c{i}": {"Alertmanager": ok} for i in range(9)}
    clusters["eu-prod"] = {"Alertmanager": stale, "Prometheus": ok}
    assert fold_clusters(clusters).plain == \
        "✖ 9/10 clusters ok · eu-prod stale 2 min · Alertmanager: connection refused"
    clusters["ap-dev"] = {"Alertmanager": SourceStatus("Alertmanager", SourceHealth.STALE, error="refused")}
    assert fold_clusters(clusters).plain == \
        "✖ 9/11 clusters ok · ap-dev unreachable · Alertmanager: refused · eu-prod stale 2 min"  # never answered
    del clusters["ap-dev"]
    clusters["eu-prod"] = {"Alertmanager": ok}
    assert fold_clusters(clusters).plain == "● 10/10 clusters ok"


async def test_polls_of_many_clusters_share_a_bound_and_back_off_on_their_own():
    limit = asyncio.Semaphore(2)
    running, peak = 0, 0

    async def fetch_ok():
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        return []

    async def fetch_dead():
        raise ConnectionError("refused")

    pollers = [Poller(f"am{i}", fetch_ok, lambda s, d: None, interval=1, timeout=1, limit=limit) for i in range(5)]
    dead = Poller("dead", fetch_dead, lambda s, d: None, interval=1, timeout=1, limit=limit)
    await asyncio.gather(*(p.poll_once() for p in [*pollers, dead]))
    await dead.poll_once()
    assert peak == 2
    assert all(p.failures == 0 and p.next_delay() == 1 for p in pollers)
    assert dead.failures == 2 and dead.next_delay() == 2 and dead.status.health is SourceHealth.STALE


def test_a_narrow_cluster_cell_names_the_biggest_cluster_and_how_many_more():
    alerts = [alert(f"c{i:02d}", f"f{i}-{j}", pod=f"{i}-{j}") for i in range(10) for j in range(2 if i else 25)]
    (group,) = grouping.group(alerts)
    assert grouping.cluster_cell(group, 14) == "c00 25 +9"
    assert grouping.cluster_counts(group).startswith("c00 25 · c01 2 · c02 2")
    runs = [grouping.group([a for a in alerts if a.cluster == c]) for c in ("c00", "c01")]
    (combined,) = grouping.combine(runs)
    assert combined.count == 27 and grouping.cluster_counts(combined) == "c00 25 · c01 2"
    assert parse("@cluster=c01").apply([combined])[0].count == 2


def test_alert_filter_top_level_and_per_cluster(tmp_path):
    settings = load(tmp_path, "alert_filter = ['team=\"ml\"']\n" + FLEET.replace(
        'read_only = true', 'read_only = true\nalert_filter = []'))
    eu, us = (config.for_cluster(settings, c) for c in settings.clusters)
    assert eu.alert_filter == ('team="ml"',) and us.alert_filter == ()
