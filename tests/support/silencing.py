"""Helpers shared by the silence tests: fire an alert, read what Alertmanager and the audit log hold,
drive the silence form."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from oncall_tui.config import Settings
from oncall_tui.ui.screens.silence_form import SilenceForm
from tests.support.ui import plain, post_alerts, table_rows, wait_for

USER = "oncall-tester@jump-1"


def settings(url: str, audit: Path, **kw) -> Settings:
    return Settings(alertmanager_urls=(url,), refresh=1.0, timeout=2.0, user=USER, audit_log=str(audit), **kw)


def fire(am_url: str, tag: str, **labels) -> dict:
    alert = {"labels": {"alertname": "DataDriftDetected", "severity": "critical", "component": "data",
                        "model": f"m-{tag}", **labels},
             "annotations": {"summary": "KS statistic above 0.15"},
             "startsAt": (datetime.now(timezone.utc) - timedelta(minutes=3)).isoformat()}
    post_alerts(am_url, [alert])
    return alert


def silences_in(am_url: str, text: str) -> list[dict]:
    body = httpx.get(f"{am_url}/api/v2/silences", timeout=10, trust_env=False).json()
    return [s for s in body if text in s["comment"] or any(text in m["value"] for m in s["matchers"])]


def audit_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def open_alert(pilot, app, tag: str) -> None:
    """Wait for this test's alert, filter the table down to it, focus the table."""
    await wait_for(pilot, lambda: any(tag in r[3] for r in table_rows(app)), what="the test's alert")
    await pilot.press("slash", *f"model=m-{tag}", "enter")
    await wait_for(pilot, lambda: len(table_rows(app)) == 1, what="the filtered row")


def form(app) -> SilenceForm | None:
    return app.screen if isinstance(app.screen, SilenceForm) else None


def form_error(app) -> str:
    return plain(app.screen.query_one("#error").content)


async def silence_via_form(pilot, app, reason: str, key: str = "s") -> None:
    await pilot.press(key)
    await wait_for(pilot, lambda: form(app), what="the silence form")
    await pilot.press(*reason, "enter")
