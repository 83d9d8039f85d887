"""Audit notes the TUI writes about incidents: a runbook opened, a drill alert first looked at, a drill
marked resolved. The `drill` command reads them back (same audit log) to time the drill."""

from __future__ import annotations

from typing import Any

from ..actions.audit import AuditError, AuditLog
from ..models import Alert
from . import DRILL_ID, is_drill


def alert_target(alert: Alert) -> dict[str, Any]:
    target: dict[str, Any] = {"alert": alert.name, "fingerprint": alert.fingerprint, "labels": dict(alert.labels)}
    if alert.annotations.get(DRILL_ID):
        target[DRILL_ID] = alert.annotations[DRILL_ID]
    return target


def runbook_opened(audit: AuditLog, alert: Alert, runbook: str) -> None:
    """Optional: a read-only look must not fail because the audit log cannot be written."""
    try:
        audit.note("runbook.open", target={**alert_target(alert), "runbook": runbook})
    except AuditError:
        pass


def drill_looked(audit: AuditLog, alert: Alert) -> bool:
    """The first highlight of a drill alert in this session (the caller remembers which it noted)."""
    if not is_drill(alert.labels):
        return False
    try:
        audit.note("drill.look", target=alert_target(alert))
    except AuditError:
        return False
    return True


def drill_resolved(audit: AuditLog, alert: Alert, reason: str) -> str:
    """The engineer ends the drill: intent and result (nothing remote changes; the drill command
    resolves the alert in Alertmanager when it reads this). Raises AuditError."""
    target = alert_target(alert)
    audit_id = audit.intent("drill.resolve", target=target, reason=reason)
    audit.result(audit_id, "drill.resolve", "ok", target=target)
    return audit_id
