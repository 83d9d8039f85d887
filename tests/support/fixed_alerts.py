"""A fixed set of alerts fed through the app's normal data path (a poll loop on a source), for snapshots
and for looking at the app by hand in tmux: `python -m tests.support.fixed_alerts [--theme NAME] [--danger]`.

Ages are frozen: no alert carries a start time, and `freeze_clock` pins the status bar's "· 0 s".
"""

from __future__ import annotations

from datetime import datetime, timezone

from oncall_tui.models import Alert, AlertState

FROZEN_NOW = datetime(2026, 11, 27, 3, 0, 0, tzinfo=timezone.utc)


def _alert(fp: str, name: str, severity: str, component: str, model: str, state: AlertState, summary: str,
           **labels: str) -> Alert:
    return Alert(fp, {"alertname": name, "severity": severity, "component": component, "model": model, **labels},
                 {"summary": summary, "runbook_url": f"https://runbooks.invalid/{name}.md"}, state=state,
                 source="prometheus")


FIXED_ALERTS: tuple[Alert, ...] = (
    _alert("fp1", "ModelInferenceLatenessHigh", "critical", "inference", "fraud-detector", AlertState.FIRING,
           "p95 latency of fraud-detector is 1.8 s (threshold 0.5 s)", namespace="ml-prod"),
    _alert("fp2", "DataDriftDetected", "warning", "data", "churn-predictor", AlertState.PENDING,
           "Input feature account_age_days drifted (KS 0.31)", feature="account_age_days"),
    _alert("fp3", "DataDriftDetected", "warning", "data", "churn-predictor", AlertState.PENDING,
           "Input feature tenure drifted (KS 0.27)", feature="tenure"),
    _alert("fp4", "ModelStalenessHigh", "warning", "model", "recsys-ranker", AlertState.SILENCED,
           "recsys-ranker was last trained 9 days ago"),
    _alert("fp5", "TrainingJobFailed", "critical", "training", "recsys-ranker", AlertState.INHIBITED,
           "Training job for recsys-ranker failed 3 times"),
    _alert("fp6", "ModelRegistryPushFailed", "info", "registry", "churn-predictor", AlertState.FIRING,
           'Push of churn-predictor failed: label x[/] and "quotes" stay literal'),
)


class FixedAlertsSource:
    """Stands in for PrometheusSource: the same async `alerts()` / `aclose()` the app calls."""

    def __init__(self, alerts: tuple[Alert, ...] = FIXED_ALERTS) -> None:
        self.fixed = alerts

    async def alerts(self) -> list[Alert]:
        return list(self.fixed)

    async def aclose(self) -> None:
        pass


def freeze_clock(monkeypatch) -> None:
    """Pin the clock the poll loop and the status bar read, so "· 0 s" never becomes "· 1 s"."""
    from oncall_tui import polling
    from oncall_tui.ui.widgets import source_bar

    monkeypatch.setattr(polling, "utcnow", lambda: FROZEN_NOW)
    monkeypatch.setattr(source_bar, "utcnow", lambda: FROZEN_NOW)


def main() -> None:
    import argparse
    import tempfile
    from pathlib import Path

    from oncall_tui.config import load
    from oncall_tui.ui.app import MlcallApp

    p = argparse.ArgumentParser()
    p.add_argument("--theme")
    p.add_argument("--config")
    p.add_argument("--profile")
    p.add_argument("--danger", action="store_true", default=None)
    p.add_argument("--read-only", action="store_true", default=None, dest="read_only")
    args = p.parse_args()
    audit = str(Path(tempfile.mkdtemp()) / "audit.jsonl")
    flags = {"theme": args.theme, "config": args.config, "profile": args.profile, "danger": args.danger,
             "read_only": args.read_only, "audit_log": audit}  # no URLs: nothing on the network
    settings = load(flags)
    MlcallApp(settings, prometheus=FixedAlertsSource()).run()


if __name__ == "__main__":
    main()
