"""Snapshots: the alerts screen in every bundled theme at 120×40 and 80×24, and a confirmation dialog
under a danger profile. Deterministic: fixed alerts through the app's normal poll loop, no start times
(age "-"), a frozen status-bar clock, no network (Alertmanager, MLflow and the signal queries are not
configured). After an intended layout change: `pytest tests/ui/test_themes_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import pytest
from rich.text import Text

from oncall_tui.config import Settings
from oncall_tui.ui.app import MlcallApp
from oncall_tui.ui.themes import BUNDLED
from oncall_tui.ui.widgets.confirm import ConfirmModal
from tests.support.fixed_alerts import FIXED_ALERTS, FixedAlertsSource, freeze_clock
from tests.support.ui import wait_for

SIZES = {"120x40": (120, 40), "80x24": (80, 24)}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    freeze_clock(monkeypatch)


def make_app(tmp_path, **settings) -> MlcallApp:
    defaults = dict(audit_log=str(tmp_path / "audit.jsonl"), refresh=300.0, timeout=5.0)
    return MlcallApp(Settings(**{**defaults, **settings}), prometheus=FixedAlertsSource())


def groups_shown(app: MlcallApp) -> bool:
    tables = app.alerts_screen.query("AlertTable")  # empty until the screen is composed
    return bool(tables) and tables.first().row_count == len({(a.name, a.label("model")) for a in FIXED_ALERTS})


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", BUNDLED)
def test_alerts_screen(snap_compare, tmp_path, theme, size):
    app = make_app(tmp_path, theme=theme)

    async def alerts_shown(pilot):
        await wait_for(pilot, lambda: groups_shown(app), what="the fixed alerts")
        await pilot.pause()
        assert app.theme == theme

    assert snap_compare(app, terminal_size=SIZES[size], run_before=alerts_shown)


def test_confirmation_dialog_under_a_danger_profile(snap_compare, tmp_path):
    app = make_app(tmp_path, profile="prod", danger=True)

    async def confirm_open(pilot):
        await wait_for(pilot, lambda: groups_shown(app), what="the fixed alerts")
        body = Text("Move alias champion of fraud-detector from v7 back to v6.\nThe previous version is "
                    "recorded in the audit log so this can be undone.")
        app.push_screen(ConfirmModal("Roll back fraud-detector?", body, "Roll back", danger=True))
        await wait_for(pilot, lambda: app.screen.query(".danger-dialog"), what="the dialog marked danger")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=confirm_open)
