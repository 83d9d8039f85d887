"""Append-only JSON-lines audit log: an `intent` record before an action runs, a `result` record after.

Each record is written with O_APPEND and fsynced. If the intent cannot be written, the action must not
run: `AuditLog.intent` raises `AuditError` and the caller shows why.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from .. import __version__
from ..safe_text import redact_url

RESULTS = ("ok", "failed", "unknown")
_SECRET_KEYS = ("password", "token", "secret", "authorization", "api_key", "apikey", "credential")


class AuditError(Exception):
    """The audit log cannot be written; the action was not run."""


def new_id() -> str:
    """A short id, unique enough to find an action's effect again (e.g. in a silence comment)."""
    return secrets.token_hex(4)


def _scrub(value: Any) -> Any:
    """Drop anything that looks like a secret and credentials inside URLs."""
    if isinstance(value, dict):
        return {k: ("<secret>" if any(s in str(k).lower() for s in _SECRET_KEYS) else _scrub(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value


@dataclass
class AuditLog:
    path: Path
    actor: str
    session_id: str = field(default_factory=new_id)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(_scrub(record), sort_keys=True, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    data = line.encode()
                    written = os.write(fd, data)
                    if written != len(data):
                        raise OSError(f"short write to {self.path}")
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise AuditError(f"cannot write the audit log {self.path}: {exc.strerror or exc}") from None

    def _record(self, phase: str, audit_id: str, action: str, **fields: Any) -> dict[str, Any]:
        return {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "phase": phase,
                "id": audit_id, "action": action, "actor": self.actor, "session_id": self.session_id,
                "tool_version": __version__, **fields}

    def intent(self, action: str, *, target: dict[str, Any], reason: str, before: Any = None,
               audit_id: str | None = None, **extra: Any) -> str:
        """Record what is about to be done; returns the audit id. Raises AuditError (do not run then)."""
        audit_id = audit_id or new_id()
        self._write(self._record("intent", audit_id, action, target=target, reason=reason, before=before, **extra))
        return audit_id

    def result(self, audit_id: str, action: str, result: str, *, after: Any = None, error: str = "",
               target: dict[str, Any] | None = None, **extra: Any) -> None:
        """Record the outcome: ok, failed or unknown. Errors are reported but never hide the outcome."""
        if result not in RESULTS:
            raise ValueError(f"result must be one of {RESULTS}")
        self._write(self._record("result", audit_id, action, result=result, after=after, error=error,
                                 target=target or {}, **extra))

    def note(self, action: str, *, target: dict[str, Any], **extra: Any) -> str:
        """A fact that is not an action (a runbook opened, a drill alert looked at): phase `event`.

        Raises AuditError like `intent`; callers for whom the note is optional catch it."""
        audit_id = new_id()
        self._write(self._record("event", audit_id, action, target=target, **extra))
        return audit_id

    def records(self) -> Iterator[dict[str, Any]]:
        """Every readable record, oldest first (a torn last line is skipped)."""
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            try:
                yield json.loads(line)
            except ValueError:
                continue

    def unfinished(self) -> list[dict[str, Any]]:
        """Intents with no result: their outcome is unknown (the process died in between)."""
        open_intents: dict[str, dict[str, Any]] = {}
        for record in self.records():
            if record.get("phase") == "intent":
                open_intents[record["id"]] = record
            elif record.get("phase") == "result":
                open_intents.pop(record.get("id"), None)
        return list(open_intents.values())
