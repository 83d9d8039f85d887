"""The timeline of one alert group: when it started, when this tool saw it, pending → firing, every
audited action (silences/acks with reason and author, runbook steps, rollbacks before → after), the
silences others made, and the end. MTTA (start → first human action) and MTTR (start → resolved).

Pure functions over models and audit records: no I/O, no textual. Strings in events are raw remote
data; the screen and the Markdown export sanitise them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence

from ..actions.silence_plan import matches_labels, strip_token, token_of
from ..models import Alert, Matcher, Silence
from . import DRILL_ID, is_drill

SILENCE_ACTIONS = ("silence.create", "silence.ack", "silence.extend", "silence.recreate")
HUMAN = {"silence", "ack", "step", "rollback", "other-silence", "resolve"}  # what counts as "acknowledged"
AFTER_END = timedelta(minutes=30)  # actions this long after the end still belong to the incident
BEFORE_START = timedelta(minutes=1)  # clock skew between the tool and Alertmanager


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # start seen pending firing look runbook step silence ack other-silence rollback resolve resolved
    text: str
    actor: str = ""
    reason: str = ""
    category: str = ""
    result: str = ""  # ok | failed | unknown ("" for facts that are not actions)
    detail: str = ""

    @property
    def counts_as_ack(self) -> bool:
        return self.kind in HUMAN and self.result != "failed"


@dataclass(frozen=True)
class Timeline:
    name: str
    labels: Mapping[str, str]  # the labels every alert of the group shares
    fingerprints: tuple[str, ...]
    starts_at: datetime | None
    resolved_at: datetime | None
    events: tuple[Event, ...]
    summary: str = ""
    runbook_url: str = ""
    model: str = ""
    model_versions: tuple[str, ...] = ()  # alias versions seen in rollbacks (before → after)
    drill: bool = False
    alerts: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def first_ack(self) -> Event | None:
        start = self.starts_at
        return next((e for e in self.events if e.counts_as_ack and (start is None or e.at >= start)), None)

    @property
    def mtta(self) -> timedelta | None:
        ack = self.first_ack
        return ack.at - self.starts_at if ack is not None and self.starts_at is not None else None

    @property
    def mttr(self) -> timedelta | None:
        if self.resolved_at is None or self.starts_at is None:
            return None
        return self.resolved_at - self.starts_at

    def relative(self, at: datetime) -> str:
        return relative(at, self.starts_at)


# -- formatting -------------------------------------------------------------------------------------------
def utc(at: datetime | None) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if at else "—"


def span(delta: timedelta | None) -> str:
    """`4m05s`, `2h03m`, `1d2h`; `—` when unknown."""
    if delta is None:
        return "—"
    seconds = int(abs(delta.total_seconds()))
    sign = "-" if delta.total_seconds() < 0 else ""
    if seconds < 3600:
        return f"{sign}{seconds // 60}m{seconds % 60:02d}s"
    hours, rest = divmod(seconds, 3600)
    if hours < 24:
        return f"{sign}{hours}h{rest // 60:02d}m"
    return f"{sign}{hours // 24}d{hours % 24}h"


def relative(at: datetime, start: datetime | None) -> str:
    if start is None:
        return ""
    delta = at - start
    return ("+" if delta.total_seconds() >= 0 else "") + span(delta)


def parse_ts(value: Any) -> datetime | None:
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


# -- audit records → events -------------------------------------------------------------------------------
def pair(records: Iterable[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(intent, result or None) per audit id, in intent order; notes (phase `event`) pair with None."""
    intents: dict[str, dict[str, Any]] = {}
    results: dict[str, dict[str, Any]] = {}
    order: list[dict[str, Any]] = []
    for r in records:
        phase = r.get("phase")
        if phase == "intent":
            intents[str(r.get("id"))] = r
            order.append(r)
        elif phase == "result":
            results[str(r.get("id"))] = r
        elif phase == "event":
            order.append(r)
    return [(r, results.get(str(r.get("id"))) if r.get("phase") == "intent" else None) for r in order]


def silence_matchers(intent: dict[str, Any]) -> list[Matcher]:
    out = []
    for m in (intent.get("silence") or {}).get("matchers") or ():
        try:
            out.append(Matcher(str(m["name"]), str(m["value"]), bool(m.get("is_regex")), bool(m.get("is_equal", True))))
        except (KeyError, TypeError):
            continue
    return out


@dataclass(frozen=True)
class Scope:
    """What identifies the incident in audit records."""

    labels: tuple[Mapping[str, str], ...]
    fingerprints: frozenset[str]
    model: str
    deployment: str
    drill_ids: frozenset[str]


def _event(intent: dict[str, Any], result: dict[str, Any] | None, scope: Scope,
           silence_ids: set[str]) -> Event | None:
    action = str(intent.get("action", ""))
    target = intent.get("target") or {}
    at = parse_ts((result or intent).get("ts"))
    if at is None:
        return None
    outcome = str((result or {}).get("result", "")) or ("" if intent.get("phase") == "event" else "unknown")
    actor, reason = str(intent.get("actor", "")), strip_token(str(intent.get("reason", "")))
    after = (result or {}).get("after") or {}
    before = intent.get("before") or {}
    if action in SILENCE_ACTIONS:
        if not any(matches_labels(silence_matchers(intent), labels) for labels in scope.labels):
            return None
        sid = str(after.get("silence_id", ""))
        if sid:
            silence_ids.add(sid)
        verb = {"silence.ack": "Acknowledged", "silence.extend": "Silence extended",
                "silence.recreate": "Silence re-created"}.get(action, "Silenced")
        until = (intent.get("silence") or {}).get("ends_at", "")
        ends = parse_ts(until)
        text = verb + (f" · silence {sid[:8]}" if sid else "") + (f" until {ends:%H:%M} UTC" if ends else "")
        kind = "ack" if action == "silence.ack" else "silence"
        return Event(at, kind, text, actor, reason, str(intent.get("category", "")), outcome,
                     str((result or {}).get("error", "")))
    if action == "silence.expire":
        if str(before.get("silence_id", "")) not in silence_ids:
            return None
        return Event(at, "silence-expired", f"Silence {str(before.get('silence_id'))[:8]} expired", actor, reason,
                     result=outcome)
    labels = target.get("labels") if isinstance(target.get("labels"), dict) else {}
    mine = (str(target.get("fingerprint", "")) in scope.fingerprints
            or (bool(scope.drill_ids) and str(target.get(DRILL_ID, "")) in scope.drill_ids)
            or (bool(labels) and any(all(labels.get(k) == v for k, v in want.items()) for want in scope.labels)))
    if action == "runbook.step" and mine:
        argv = " ".join(str(a) for a in intent.get("argv") or ())
        return Event(at, "step", f"Runbook step {target.get('step', '?')} ran", actor, "", result=outcome,
                     detail=argv or str((result or {}).get("error", "")))
    if action == "runbook.open" and mine:
        return Event(at, "runbook", f"Runbook opened: {target.get('runbook', '')}", actor)
    if action == "drill.look" and mine:
        return Event(at, "look", "First look at the drill alert in the TUI", actor)
    if action == "drill.resolve" and mine:
        return Event(at, "resolve", "Drill marked resolved in the TUI", actor, reason, result=outcome)
    if action == "registry.rollback" and scope.model and target.get("model") == scope.model:
        alias = before.get("alias", "")
        now = (after or {}).get("version") or (intent.get("planned") or {}).get("version", "")
        return Event(at, "rollback", f"Registry rollback: {alias} v{before.get('version', '?')} → v{now or '?'}",
                     actor, reason, result=outcome, detail=str((result or {}).get("error", "")))
    if action == "deployment.rollback" and target.get("name") in {scope.deployment, scope.model} - {""}:
        planned = intent.get("planned") or {}
        return Event(at, "rollback", f"Deployment rollback {target.get('namespace', '')}/{target.get('name', '')}: "
                     f"revision {before.get('revision', '?')} → {planned.get('revision', '?')}", actor, reason,
                     result=outcome, detail=str((result or {}).get("error", "")))
    return None


def audit_events(records: Iterable[dict[str, Any]], scope: Scope, silence_ids: set[str] | None = None) -> list[Event]:
    silence_ids = silence_ids if silence_ids is not None else set()
    out = []
    for intent, result in pair(records):
        event = _event(intent, result, scope, silence_ids)
        if event is not None:
            out.append(event)
    return out


def other_silences(silences: Iterable[Silence], scope: Scope, known_ids: set[str], audit_ids: set[str]) -> list[Event]:
    """Silences matching the alerts that this tool's audit log does not know: made by someone else."""
    out = []
    for s in silences:
        if s.id in known_ids or token_of(s.comment) in audit_ids:
            continue
        if not any(matches_labels(s.matchers, labels) for labels in scope.labels):
            continue
        at = s.updated_at or s.starts_at
        out.append(Event(at, "other-silence", f"Silenced in Alertmanager (silence {s.id[:8]}, {s.state}, "
                         f"until {utc(s.ends_at)})", s.created_by, strip_token(s.comment)))
    return out


def common(alerts: Sequence[Alert]) -> dict[str, str]:
    first = dict(alerts[0].labels) if alerts else {}
    return {k: v for k, v in first.items() if all(a.labels.get(k) == v for a in alerts[1:])}


def build(alerts: Sequence[Alert], *, records: Iterable[dict[str, Any]] = (), silences: Iterable[Silence] = (),
          first_seen: datetime | None = None, transitions: Sequence[tuple[datetime, str]] = (),
          resolved_at: datetime | None = None, model_label: str = "model",
          deployment_label: str = "deployment") -> Timeline:
    """The timeline of these alerts (one alert, or every alert of a group)."""
    if not alerts:
        raise ValueError("a timeline needs at least one alert")
    records = list(records)
    starts = [a.starts_at for a in alerts if a.starts_at is not None]
    start = min(starts) if starts else first_seen
    first = alerts[0]
    model = first.label(model_label)
    scope = Scope(tuple(a.labels for a in alerts), frozenset(a.fingerprint for a in alerts), model,
                  first.label(deployment_label) or model,
                  frozenset(a.annotations.get(DRILL_ID, "") for a in alerts) - {""})
    events: list[Event] = []
    if start is not None:
        events.append(Event(start, "start", "Alert started (startsAt)"))
    if first_seen is not None:
        events.append(Event(first_seen, "seen", "First seen by mlcall-tui"))
    for at, state in transitions:
        events.append(Event(at, state, {"pending": "Pending in Prometheus (`for:` running)",
                                        "firing": "Firing in Prometheus",
                                        "inactive": "No longer firing in Prometheus"}.get(state, state)))
    silence_ids: set[str] = set()
    earliest = (start - BEFORE_START) if start else None
    latest = resolved_at + AFTER_END if resolved_at else None
    for e in audit_events(records, scope, silence_ids):
        if (earliest is None or e.at >= earliest) and (latest is None or e.at <= latest):
            events.append(e)
    audit_ids = {str(r.get("id")) for r in records}
    events += other_silences(silences, scope, silence_ids, audit_ids)
    if resolved_at is not None:
        events.append(Event(resolved_at, "resolved", "Resolved"))
    events.sort(key=lambda e: e.at)
    versions = tuple(dict.fromkeys(v for e in events if e.kind == "rollback" and e.text.startswith("Registry")
                                   for v in _versions(e.text)))
    return Timeline(first.name, common(alerts), tuple(sorted(scope.fingerprints)), start, resolved_at,
                    tuple(events), summary=first.summary, runbook_url=first.runbook_url, model=model,
                    model_versions=versions, drill=any(is_drill(a.labels) for a in alerts), alerts=len(alerts))


def _versions(text: str) -> list[str]:
    return [w for w in text.replace("→", " ").split() if w.startswith("v") and w[1:].isdigit()]
