"""Keys typed in one burst (a paste, a fast typist, a laggy SSH link) go into the field the first key opens,
in order, none lost, and never run the screen's actions (issue 11: `/fraud` opened the runbook, `/stale`
+ Enter opened the silence form and submitted it).

The real `mlcall-tui` runs in tmux against the session's real Alertmanager (and MLflow for the rollback);
every burst is one `tmux send-keys -l` (one write to the terminal), and the test reads the screen tmux
shows and what Alertmanager holds afterwards.
"""

from __future__ import annotations

import re
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from tests.support.tmux import TmuxApp, line_after
from tests.support.ui import post_alerts

pytestmark = pytest.mark.integration
EXE = str(Path(sys.executable).with_name("mlcall-tui"))
FORMS = ("Reason (required", "Registry: move", "Type the model name")  # dialogs drawn over the table


def alert(name: str, model: str, summary: str) -> dict:
    starts = datetime.now(timezone.utc) - timedelta(minutes=3)
    return {"labels": {"alertname": name, "severity": "critical", "component": "inference", "model": model},
            "annotations": {"summary": summary}, "startsAt": starts.isoformat()}


def silences_since(am_url: str, since: datetime) -> list[dict]:
    body = httpx.get(f"{am_url}/api/v2/silences", timeout=10, trust_env=False).json()
    return [s for s in body if datetime.fromisoformat(s["updatedAt"].replace("Z", "+00:00")) >= since]


def app_argv(tmp_path: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "TERM": "screen-256color"}
    return [EXE, "--user", "burst-tester", "--audit-log", str(tmp_path / "audit.jsonl"), "--refresh", "1",
            *args], env


def filter_box(screen: str) -> str:
    """The text in the filter box (the line between its borders at the bottom of the alerts screen)."""
    boxes = [line for line in screen.splitlines() if line.startswith("▊ ") and line.rstrip().endswith("▎")]
    return boxes[-1].strip("▊▎ ") if boxes else ""


def alerts_screen_only(screen: str) -> bool:
    """The alerts table, no dialog over it (full-screen screens: runbook, diagnose, models hide the table)."""
    return " Sev " in screen and " Alert " in screen and not any(form in screen for form in FORMS)


def test_filter_bursts_fill_the_box_and_run_nothing(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:6]
    fraud, stale = f"fraud-{tag}", f"churn-{tag}"
    post_alerts(bare_am, [alert(f"LatencyHigh{tag}", fraud, "p95 above 0.5 s"),
                          alert(f"FeatureStale{tag}", stale, "feature store stale for 3 h")])
    t0 = datetime.now(timezone.utc) - timedelta(seconds=1)
    argv, env = app_argv(tmp_path, "--alertmanager", bare_am)
    with TmuxApp(argv, env=env, prefix="i11b-burst") as term:
        term.wait(lambda s: fraud in s and stale in s, "both alerts on the alerts screen")
        term.type("/fraud")  # one write: the bug ran `r` (runbook), `a` (ack form), `d` (diagnose)
        screen = term.wait(lambda s: filter_box(s) == "fraud" and "filter: fraud" in s and fraud in s and stale not in s,
                           "the filter box holding 'fraud' and the table filtered")
        assert alerts_screen_only(screen), screen

        term.keys("Escape")  # clear the box
        term.wait(lambda s: filter_box(s).startswith("filter: text") and "filter: fraud" not in s, "the box cleared")
        term.keys("Escape")  # close it
        term.wait(lambda s: not filter_box(s), "the box closed")
        term.type("/stale\r")  # `/stale` + Enter in one write: the bug opened the silence form and submitted it
        screen = term.wait(lambda s: "filter: stale" in s and stale in s and fraud not in s, "filtered to stale")
        assert alerts_screen_only(screen), screen
        # whatever a leaked key would have opened or written has had time to show; nothing did
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert alerts_screen_only(term.screen()), term.screen()
            time.sleep(0.2)
        assert silences_since(bare_am, t0) == [], "a burst into the filter created a silence"
        assert "filter: stale" in term.screen() and filter_box(term.screen()) == "stale"  # Enter kept the text


def test_silence_reason_typed_in_the_same_burst_as_s(bare_am, tmp_path):
    tag = uuid.uuid4().hex[:6]
    name = f"ReasonBurst{tag}"
    post_alerts(bare_am, [alert(name, f"m-{tag}", "drift")])
    reason = f"known drift, retraining {tag} (JIRA-42)"
    argv, env = app_argv(tmp_path, "--alertmanager", bare_am)
    with TmuxApp(argv, env=env, prefix="i11b-burst") as term:
        term.wait(lambda s: name in s, "the alert")
        term.type(f"/{name}\r")
        term.wait(lambda s: f"filter: {name}" in s and "1/" in s, "filtered to the alert")
        term.type(f"s{reason}\r")  # open the form, type the reason, submit: one write
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = [s for s in httpx.get(f"{bare_am}/api/v2/silences", timeout=10, trust_env=False).json()
                     if tag in s["comment"]]
            if found:
                break
            time.sleep(0.2)
        assert len(found) == 1, found
        # every key, in order, none lost, none run (the app appends its audit id to the comment)
        assert found[0]["comment"].rsplit(" [mlcall:", 1)[0] == reason, found[0]["comment"]
        assert {"name": "alertname", "value": name, "isRegex": False, "isEqual": True} in found[0]["matchers"]
        assert found[0]["createdBy"] == "burst-tester"
        term.wait(lambda s: "Reason (required" not in s and "Silenced" in s, "the form closed, the result shown")


def test_typed_rollback_confirmation_in_one_burst(bare_am, mlflow_stack, tmp_path):
    from tests.integration.test_registry import champion, new_model

    model = new_model(mlflow_stack.mlflow_uri, prefix="burst")
    post_alerts(bare_am, [alert(f"Rollback{model}", model, "accuracy dropped")])
    argv, env = app_argv(tmp_path, "--alertmanager", bare_am, "--mlflow", mlflow_stack.mlflow_uri)
    with TmuxApp(argv, env=env, prefix="i11b-burst") as term:
        term.wait(lambda s: model in s, "the alert")
        term.type(f"/model={model}\r")
        term.wait(lambda s: f"filter: model={model}" in s, "filtered to the alert")
        term.type(f"R\r{model}")  # roll back, choose the registry, type the name: one write
        hint = "Type the model name to confirm"
        screen = term.wait(lambda s: hint in s and any(model in line for line in line_after(s, hint)),
                           "the typed confirmation holding the model name")
        field = [line for line in line_after(screen, hint) if model in line][0]
        inside = re.search(r"▊\s*(.*?)\s*▎", field)  # the text between the field's borders
        assert inside and inside.group(1) == model, field  # the whole name, nothing else, in the field
        term.keys("Escape")  # cancel: nothing rolled back
        term.wait(lambda s: hint not in s, "the dialog closed")
    assert champion(mlflow_stack.mlflow_uri, model) == "3"
