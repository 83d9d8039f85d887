"""A real 2-peer Alertmanager cluster on loopback (--cluster.listen-address / --cluster.peer): alerts are
shown once, a silence made through the tool is written to one peer and seen on both, and with the first
peer stopped silencing still works through the second."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from oncall_tui.actions.silence import token_of
from oncall_tui.config import Settings
from oncall_tui.ui.app import MlcallApp
from tests.support.silencing import USER, audit_records, fire, form, open_alert, silence_via_form, silences_in
from tests.support.ui import plain, status_text, table_rows, wait_for

pytestmark = pytest.mark.integration
SIZE = (120, 40)


def toasts(app) -> str:
    return "\n".join(plain(t.render()) for t in app.screen.query("Toast"))


def ha_settings(urls, audit: Path) -> Settings:
    return Settings(alertmanager_urls=tuple(urls), refresh=1.0, timeout=2.0, user=USER, audit_log=str(audit))


async def test_two_peers_alerts_once_silence_on_both_and_failover_to_the_second(ha_am, tmp_path):
    urls = ha_am.alertmanager_urls
    tag = uuid.uuid4().hex[:8]
    for url in urls:  # Prometheus sends every alert to every peer: so do we
        fire(url, tag)
    audit = tmp_path / "audit.jsonl"
    app = MlcallApp(ha_settings(urls, audit))
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await open_alert(pilot, app, tag)
            assert table_rows(app)[0][5].strip() == "1"  # one alert, not one per peer
            await wait_for(pilot, lambda: "cluster ready · 2/2 peers up" in status_text(app), what="cluster state")

            reason = f"drift on both peers {tag}"
            await silence_via_form(pilot, app, reason)
            await wait_for(pilot, lambda: form(app) is None, what="the form to close")
            await wait_for(pilot, lambda: "visible on 2/2 peers" in toasts(app), what="spread notification")
            for url in urls:
                made = silences_in(url, reason)
                assert len(made) == 1 and made[0]["createdBy"] == USER, (url, made)
            (result,) = [r for r in audit_records(audit) if r["phase"] == "result"]
            assert result["result"] == "ok" and result["after"]["visible"] == "2/2"
            assert result["after"]["peer"] == urls[0]  # written to one peer, gossip did the rest
            await wait_for(pilot, lambda: "silenced" in table_rows(app)[0][4], what="shown silenced")

            ha_am.alertmanager_peer(0).stop()
            await wait_for(pilot, lambda: "1/2 peers up" in status_text(app), what="a peer down")
            assert f"{urls[0].split('://')[1]} down" in status_text(app)
            tag2 = uuid.uuid4().hex[:8]
            fire(urls[1], tag2)
            await pilot.press("escape")
            app.alerts_screen.query_one("#filter").value = f"model=m-{tag2}"
            await wait_for(pilot, lambda: len(table_rows(app)) == 1 and tag2 in table_rows(app)[0][3], what="2nd")
            app.alerts_screen.table.focus()
            reason2 = f"with peer 0 down {tag2}"
            await silence_via_form(pilot, app, reason2)
            await wait_for(pilot, lambda: form(app) is None, what="the form to close")
            (made,) = silences_in(urls[1], reason2)
            last = [r for r in audit_records(audit) if r["phase"] == "result"][-1]
            assert last["result"] == "ok" and last["after"]["peer"] == urls[1]
            assert last["after"]["silence_id"] == made["id"] and token_of(made["comment"]) == last["id"]
            assert last["after"]["visible"] == "1/2"
            await wait_for(pilot, lambda: "visible on 1/2 peers" in toasts(app), what="partial spread")
    finally:
        peer = ha_am.alertmanager_peer(0)
        if not peer.running:
            peer.start()
            peer.wait_cluster_ready(2, timeout=120)
    # the restarted peer learns the silence made while it was down from the other one (gossip)
    assert len(silences_in(urls[0], reason)) == 1
