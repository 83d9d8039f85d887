"""The fleet (`[[clusters]]`): three real Alertmanager clusters (alpha: one node, beta: a 2-peer HA pair,
gamma: one node that is killed) and two real Prometheus servers standing in for Mimir tenants behind a
header-checking proxy. Alerts of every cluster show once each with their cluster; a silence made on an alert
of beta exists only in beta's Alertmanager; PromQL goes to the alert's own tenant; a killed cluster turns
stale without stopping the others."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from oncall_tui import config, grouping
from oncall_tui.stack import LocalStack
from oncall_tui.ui.app import MlcallApp
from tests.support.silencing import USER, fire, form, silences_in
from tests.support.tenant_proxy import TenantProxy
from tests.support.ui import plain, status_text, table_rows, wait_for

pytestmark = pytest.mark.integration
SIZE = (140, 40)


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory):
    """Two real Prometheus servers, each behind a proxy that wants its own X-Scope-OrgID."""
    stacks = [LocalStack(tmp_path_factory.mktemp(f"tenant-{i}"), alertmanager_peers=0, model_service=False)
              for i in range(2)]
    proxies: list[TenantProxy] = []
    try:
        for stack in stacks:
            stack.start()
        proxies = [TenantProxy(stack.prometheus_url, tenant).start()
                   for stack, tenant in zip(stacks, ("team-a", "team-b"), strict=True)]
        yield proxies
    finally:
        for proxy in proxies:
            proxy.stop()
        for stack in stacks:
            stack.stop()


def fleet_config(path: Path, *, alpha, beta, gamma, tenants, gamma_more: str = "") -> config.Settings:
    def urls(stack):
        return "[" + ", ".join(f'"{u}"' for u in stack.alertmanager_urls) + "]"

    path.write_text(f"""
refresh = 1.0
timeout = 2.0
user = "{USER}"
audit_log = "{path.parent / 'audit.jsonl'}"

[[clusters]]
name = "alpha"
alertmanager = {urls(alpha)}
prometheus = {{ url = "{tenants[0].url}", headers = {{ "X-Scope-OrgID" = "team-a" }} }}

[[clusters]]
name = "beta"
alertmanager = {urls(beta)}
prometheus = {{ url = "{tenants[1].url}", headers = {{ "X-Scope-OrgID" = "team-b" }} }}
danger = true

[[clusters]]
name = "gamma"
alertmanager = {urls(gamma)}
{gamma_more}
""")
    return config.load({"config": str(path)}, env={})


def silence_row(app, reason: str) -> list[str] | None:
    from textual.widgets import DataTable

    tables = app.screen.query("#silences")
    if not tables:
        return None
    table = tables.first(DataTable)
    rows = [[plain(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
    return next((r for r in rows if reason in r[-1]), None)


def ranges(tenant: TenantProxy) -> int:
    return sum(1 for path in tenant.accepted if "query_range" in path)


def rows_of(app, tag: str) -> list[list[str]]:
    return [r for r in table_rows(app) if tag in " ".join(r)]


async def test_three_clusters_alerts_once_each_silence_only_in_its_cluster_promql_to_its_tenant(
        bare_am, ha_am, crash_am, tenants, tmp_path):
    alpha = type("One", (), {"alertmanager_urls": [bare_am]})
    tag = uuid.uuid4().hex[:8]
    for url in (bare_am, *ha_am.alertmanager_urls, crash_am.alertmanager_urls[0]):
        fire(url, tag)  # the same labels in every cluster (HA: to both peers, as Prometheus does)
    settings = fleet_config(tmp_path / "config.toml", alpha=alpha, beta=ha_am, gamma=crash_am, tenants=tenants)
    app = MlcallApp(settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: rows_of(app, tag) and rows_of(app, tag)[0][1] == "alpha 1 +2",
                       what="one group holding one alert of each cluster (narrow cell: the first, +2 more)")
        (group,) = rows_of(app, tag)
        assert group[6].strip() == "3"  # three alerts, not four: the HA pair's copies are one
        (shown,) = [g for g in app.alerts_screen.all_groups if g.first.label("model") == f"m-{tag}"]
        assert grouping.cluster_counts(shown) == "alpha 1 · beta 1 · gamma 1"
        assert sorted(a.cluster for a in shown.alerts) == ["alpha", "beta", "gamma"]
        await wait_for(pilot, lambda: "3/3 clusters ok" in status_text(app), what="every cluster polled")

        # the filter term keeps one cluster's alerts; its alert row names the cluster
        await pilot.press("slash", *f"@cluster=beta model=m-{tag}", "enter")
        await wait_for(pilot, lambda: len(table_rows(app)) == 1 and table_rows(app)[0][1] == "beta",
                       what="only beta's alert")

        # PromQL for the highlighted alert goes to beta's tenant, with beta's header; nothing was refused.
        # (alpha's tenant may have been asked while alpha's alert led the group, before the filter)
        await wait_for(pilot, lambda: ranges(tenants[1]), what="the signal panel's queries at beta's Prometheus")
        at_alpha, at_beta = ranges(tenants[0]), ranges(tenants[1])
        await pilot.press("ctrl+r")  # ask again, now: every query goes to beta's tenant
        await wait_for(pilot, lambda: ranges(tenants[1]) > at_beta, what="beta's Prometheus asked again")
        assert ranges(tenants[0]) == at_alpha
        assert tenants[0].rejected == [] and tenants[1].rejected == []
        assert httpx.get(f"{tenants[1].url}/api/v1/alerts", timeout=5).status_code == 401  # the proxy does check

        # a silence on beta's alert: the form says where it goes (beta is a danger cluster), and only beta has it
        reason = f"beta only {tag}"
        await pilot.press("s")
        await wait_for(pilot, lambda: form(app), what="the silence form")
        assert "in cluster beta ⚠ production" in plain(form(app).query_one("#title").content)
        assert form(app).query(".danger-dialog"), "beta is a danger cluster: the dialog is red"
        await pilot.press(*reason, "enter")
        await wait_for(pilot, lambda: form(app) is None, timeout=30, what="the form to close")
        for url in ha_am.alertmanager_urls:
            await wait_for(pilot, lambda url=url: len(silences_in(url, reason)) == 1, what=f"the silence on {url}")
        assert silences_in(bare_am, reason) == [] and silences_in(crash_am.alertmanager_urls[0], reason) == []
        await wait_for(pilot, lambda: "silenced" in table_rows(app)[0][5], what="beta's alert shown silenced")

        # the silences screen says whose silence it is, and counts only that cluster's alerts
        app.alerts_screen.table.focus()
        await pilot.press("S")
        await wait_for(pilot, lambda: silence_row(app, reason), what="the silence on the silences screen")
        row = silence_row(app, reason)
        assert row[1] == "beta" and row[3] == "1", row  # beta's one alert, not the three of every cluster
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.alerts_screen, what="back on the alerts screen")

        # the others stay firing
        await pilot.press("escape", "escape")
        app.alerts_screen.table.focus()
        await wait_for(pilot, lambda: rows_of(app, tag) and "firing" in rows_of(app, tag)[0][5],
                       what="the group still firing in alpha and gamma")


async def test_a_killed_cluster_turns_stale_and_the_others_keep_updating(bare_am, ha_am, crash_am, tenants,
                                                                           tmp_path):
    alpha = type("One", (), {"alertmanager_urls": [bare_am]})
    tag = uuid.uuid4().hex[:8]
    fire(crash_am.alertmanager_urls[0], tag, cluster_test="gamma")
    fire(crash_am.alertmanager_urls[0], tag, cluster_test="other")  # not for us: filtered by Alertmanager
    settings = fleet_config(tmp_path / "config.toml", alpha=alpha, beta=ha_am, gamma=crash_am, tenants=tenants,
                            gamma_more='alert_filter = [\'cluster_test="gamma"\']')
    app = MlcallApp(settings)
    node = crash_am.alertmanager_peer(0)
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_for(pilot, lambda: rows_of(app, tag), what="gamma's alert")
            await wait_for(pilot, lambda: "3/3 clusters ok" in status_text(app), what="every cluster polled")
            gamma = [a for a in app.am_alerts if a.cluster == "gamma"]
            assert gamma and all(a.labels.get("cluster_test") == "gamma" for a in gamma)  # server-side filter
            node.kill()
            await wait_for(pilot, lambda: "2/3 clusters ok" in status_text(app) and "gamma stale" in status_text(app),
                           what="gamma stale")
            assert rows_of(app, tag), "the last good alerts of gamma stay on screen"
            # alpha and beta keep updating while gamma's polls fail (and back off)
            later = uuid.uuid4().hex[:8]
            fire(bare_am, later)
            fire(ha_am.alertmanager_urls[1], later)
            await wait_for(pilot, lambda: rows_of(app, later) and rows_of(app, later)[0][1] == "alpha 1 +1",
                           timeout=20, what="new alerts of alpha and beta while gamma is down")
            # `c` expands the status bar to one line per cluster; again folds it
            await pilot.press("c")
            await wait_for(pilot, lambda: status_text(app).count("\n") == 3, what="one line per cluster")
            lines = status_text(app).splitlines()
            assert lines[1].startswith("alpha") and "Alertmanager" in lines[1] and "Prometheus" in lines[1]
            assert lines[3].startswith("gamma") and "✖ Alertmanager · stale" in lines[3]
            assert "○ Prometheus · not configured" in lines[3]
            await pilot.press("c")
            await wait_for(pilot, lambda: "\n" not in status_text(app), what="folded again")
    finally:
        if not node.running:
            node.start()


def test_check_covers_every_cluster_and_names_the_broken_ones(bare_am, tenants, tmp_path, capsys):
    from oncall_tui import check
    from oncall_tui.stack.processes import free_port

    path = tmp_path / "config.toml"
    path.write_text(f"""
timeout = 3.0
[[clusters]]
name = "alpha"
alertmanager = ["{bare_am}"]
prometheus = {{ url = "{tenants[0].url}", headers = {{ "X-Scope-OrgID" = "team-a" }} }}

[[clusters]]
name = "wrong-tenant"
alertmanager = ["{bare_am}"]
prometheus = {{ url = "{tenants[1].url}", headers = {{ "X-Scope-OrgID" = "team-a" }} }}

[[clusters]]
name = "dead"
alertmanager = ["http://127.0.0.1:{free_port()}"]
""")
    assert check.main(["--config", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "2/3 clusters broken: wrong-tenant, dead"
    alpha = out.split("cluster wrong-tenant")[0]
    assert "FAIL" not in alpha and alpha.count(" ok  ") == 2  # its Alertmanager and its tenant's Prometheus
    assert "FAIL  Prometheus" in out.split("cluster wrong-tenant")[1].split("cluster dead")[0]
    assert tenants[1].rejected[-1][1] == "team-a"  # refused by the proxy: the wrong tenant was sent
