"""Silences: plan → validate (Alertmanager's own rules) → audit intent → write to ONE peer → verify → result.

Alertmanager accepts an empty comment, a retried POST makes a duplicate, and in an HA cluster any peer
takes writes. So: the reason is mandatory; every write carries its audit id in the comment
(`reason [mlcall:ab12cd34]`); after a timeout or a 5xx the cluster is searched for that token before
anything is retried; a write goes to one peer (the next only when the previous one surely did not take
it) and is then confirmed on the others ("visible on 2/2 peers").
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from ..models import Matcher, Silence, utcnow
from ..safe_text import redact_url, sanitize
from ..sources.alertmanager import AlertmanagerSource
from ..sources.base import SourceError
from .audit import AuditLog, new_id
from .silence_plan import (  # noqa: F401  (re-exported: the one import for callers)
    ACK_DURATION,
    ACK_PREFIX,
    PRESETS,
    SilenceDraft,
    ValidationError,
    _iso,
    common_labels,
    draft,
    format_duration,
    matcher_matches,
    matcher_sets,
    matchers_for,
    matches_labels,
    matching_alerts,
    parse_duration,
    parse_matchers,
    strip_token,
    token,
    token_of,
    validate,
    with_token,
)

_CONNECT_KINDS = ("connection refused", "cannot connect")


# -- outcomes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    result: str  # ok | failed | unknown
    audit_id: str
    action: str
    silence_id: str = ""
    peer: str = ""
    visible: int = 0
    peers: int = 0
    message: str = ""
    found_by_token: bool = False

    @property
    def ok(self) -> bool:
        return self.result == "ok"

    @property
    def spread(self) -> str:
        return f"visible on {self.visible}/{self.peers} peers" if self.peers else ""


@dataclass
class Attempts:
    """Audit ids of earlier attempts whose outcome is not known: searched for before writing again."""

    pending: list[str] = field(default_factory=list)


def _target(source: AlertmanagerSource, **more: Any) -> dict[str, Any]:
    return {"alertmanager": [redact_url(u) for u in source.urls], **more}


def _is_connect(exc: SourceError) -> bool:
    return exc.kind in _CONNECT_KINDS


def _is_client_error(exc: SourceError) -> bool:
    return exc.kind.startswith("http 4")


async def find_by_token(source: AlertmanagerSource, audit_id: str) -> Silence | None:
    """A silence (any state) whose comment carries this audit id, from any peer that answers."""
    try:
        silences = await source.silences()
    except SourceError:
        return None
    hits = [s for s in silences if token_of(s.comment) == audit_id]
    return max(hits, key=lambda s: s.updated_at or s.starts_at) if hits else None


async def confirm_visible(source: AlertmanagerSource, silence_id: str, *, timeout: float = 5.0,
                          want_state: str | None = None) -> int:
    """How many peers show the silence (in `want_state` if given), waiting up to `timeout` for gossip."""
    deadline = time.monotonic() + timeout
    while True:
        seen = await source.silence_on_peers(silence_id)
        count = sum(1 for s in seen if isinstance(s, Silence) and (want_state is None or s.state == want_state))
        if count == len(source.urls) or time.monotonic() >= deadline:
            return count
        await asyncio.sleep(0.25)


async def create(source: AlertmanagerSource, audit: AuditLog, d: SilenceDraft, *, action: str = "silence.create",
                 attempts: Attempts | None = None, verify_timeout: float = 5.0,
                 extra: Mapping[str, Any] | None = None) -> Outcome:
    """Write one silence. Raises ValidationError (nothing done) or AuditError (nothing sent)."""
    problems = validate(d)
    if problems:
        raise ValidationError(problems)
    attempts = attempts if attempts is not None else Attempts()
    for earlier in list(attempts.pending):  # an earlier attempt may have landed after all
        found = await find_by_token(source, earlier)
        if found is not None:
            peers = await confirm_visible(source, found.id, timeout=verify_timeout)
            audit.result(earlier, action, "ok", after={"silence_id": found.id, "found_by_audit_id": True,
                                                      "visible": f"{peers}/{len(source.urls)}"})
            attempts.pending.remove(earlier)
            return Outcome("ok", earlier, action, found.id, visible=peers, peers=len(source.urls),
                           message="an earlier attempt had landed: found by its audit id", found_by_token=True)
    audit_id = new_id()
    audit.intent(action, audit_id=audit_id, reason=d.comment, before=None,
                 target=_target(source, matchers=[str(m) for m in d.matchers]),
                 silence={"matchers": [m.__dict__ for m in d.matchers], "starts_at": _iso(d.starts_at),
                          "ends_at": _iso(d.ends_at), "created_by": d.created_by, "comment": d.comment},
                 **dict(extra or {}))
    return await _write(source, audit, audit_id, action, d.payload(audit_id), attempts, verify_timeout)


async def _write(source: AlertmanagerSource, audit: AuditLog, audit_id: str, action: str, payload: dict[str, Any],
                 attempts: Attempts, verify_timeout: float, before: Any = None) -> Outcome:
    errors: list[str] = []
    silence_id = peer = ""
    found = False
    for url in source.urls:
        try:
            silence_id = await source.create_silence(payload, peer=url)
            peer = url
            break
        except SourceError as exc:
            errors.append(str(exc))
            if _is_connect(exc):
                continue  # it surely did not reach that peer: the next one may take it
            if _is_client_error(exc):
                return _finish(audit, audit_id, action, "failed", str(exc), attempts)
            hit = await find_by_token(source, audit_id)  # timeout / 5xx: did it land anyway?
            if hit is not None:
                silence_id, peer, found = hit.id, url, True
                break
            if exc.kind == "timeout":
                attempts.pending.append(audit_id)
                return _finish(audit, audit_id, action, "unknown",
                               f"{exc}; no silence with audit id {audit_id} found (yet): "
                               "submitting again first looks for it, so it cannot be duplicated", attempts)
            continue  # a 5xx that left nothing behind: the next peer may take it
    if not silence_id:
        return _finish(audit, audit_id, action, "failed", "; ".join(errors) or "no peer took the write", attempts)
    peers = await confirm_visible(source, silence_id, timeout=verify_timeout)
    result = "ok" if peers else "unknown"
    audit.result(audit_id, action, result, after={"silence_id": silence_id, "peer": redact_url(peer),
                                                  "visible": f"{peers}/{len(source.urls)}", "found_by_audit_id": found},
                 error="" if peers else "written, but no peer shows it when read back")
    return Outcome(result, audit_id, action, silence_id, peer, peers, len(source.urls),
                   message="found by its audit id after an error" if found else "", found_by_token=found)


def _finish(audit: AuditLog, audit_id: str, action: str, result: str, error: str, attempts: Attempts) -> Outcome:
    error = sanitize(error, max_len=500, single_line=True)
    audit.result(audit_id, action, result, error=error)
    return Outcome(result, audit_id, action, message=error)


async def extend(source: AlertmanagerSource, audit: AuditLog, silence: Silence, ends_at: datetime, *,
                 actor_reason: str = "", attempts: Attempts | None = None, verify_timeout: float = 5.0) -> Outcome:
    """Move a silence's end. Alertmanager keeps the id when it can, else expires it and returns a new one."""
    d = SilenceDraft(silence.matchers, silence.starts_at, ends_at, silence.created_by or audit.actor,
                     strip_token(silence.comment) or actor_reason, allow_regex=True)
    problems = validate(d)
    if problems:
        raise ValidationError(problems)
    audit_id = new_id()
    audit.intent("silence.extend", audit_id=audit_id, reason=actor_reason or d.comment,
                 before={"silence_id": silence.id, "ends_at": _iso(silence.ends_at)},
                 target=_target(source, silence_id=silence.id, matchers=[str(m) for m in silence.matchers]),
                 silence={"matchers": [m.__dict__ for m in d.matchers], "starts_at": _iso(d.starts_at),
                          "ends_at": _iso(ends_at), "created_by": d.created_by, "comment": d.comment})
    payload = d.payload(audit_id, silence.id if silence.state != "expired" else "")
    if silence.state != "active":
        payload["startsAt"] = _iso(max(silence.starts_at, utcnow()))
    return await _write(source, audit, audit_id, "silence.extend", payload,
                        attempts if attempts is not None else Attempts(), verify_timeout)


async def expire(source: AlertmanagerSource, audit: AuditLog, silence: Silence, *, reason: str,
                 verify_timeout: float = 5.0) -> Outcome:
    """Expire a silence on one peer (the next only if the previous could not be reached), then verify."""
    action = "silence.expire"
    audit_id = audit.intent(action, reason=reason, before={"silence_id": silence.id, "state": silence.state,
                                                           "ends_at": _iso(silence.ends_at)},
                            target=_target(source, silence_id=silence.id,
                                           matchers=[str(m) for m in silence.matchers]))
    errors, peer = [], ""
    for url in source.urls:
        try:
            await source.expire_silence(silence.id, peer=url)
            peer = url
            break
        except SourceError as exc:
            errors.append(str(exc))
            if _is_client_error(exc):
                return _finish(audit, audit_id, action, "failed", str(exc), Attempts())
            if not _is_connect(exc):
                now = await source.silence_on_peers(silence.id)
                if any(isinstance(s, Silence) and s.state == "expired" for s in now):
                    peer = url
                    break
                if exc.kind == "timeout":
                    return _finish(audit, audit_id, action, "unknown", str(exc), Attempts())
    if not peer:
        return _finish(audit, audit_id, action, "failed", "; ".join(errors), Attempts())
    peers = await confirm_visible(source, silence.id, timeout=verify_timeout, want_state="expired")
    result = "ok" if peers else "unknown"
    audit.result(audit_id, action, result, after={"silence_id": silence.id, "state": "expired",
                                                  "visible": f"{peers}/{len(source.urls)}"})
    return Outcome(result, audit_id, action, silence.id, peer, peers, len(source.urls))


# -- what the audit log knows about silences this tool made -----------------------------------------
@dataclass(frozen=True)
class ToolSilence:
    """A silence this tool wrote (from the audit log), enough to find it again or re-create it."""

    audit_id: str
    silence_id: str
    matchers: tuple[Matcher, ...]
    ends_at: datetime
    comment: str
    created_by: str
    alertmanagers: tuple[str, ...] = ()  # the cluster it was written to (URLs without credentials)


def tool_silences(records: Iterable[dict[str, Any]]) -> list[ToolSilence]:
    """Silences written by this tool that should still be in force (not expired by us, not replaced)."""
    intents: dict[str, dict[str, Any]] = {}
    alive: dict[str, ToolSilence] = {}
    for r in records:
        action, phase = r.get("action", ""), r.get("phase")
        if phase == "intent":
            intents[r.get("id", "")] = r
            continue
        if phase != "result" or r.get("result") != "ok":
            continue
        after = r.get("after") or {}
        sid = after.get("silence_id", "")
        if action == "silence.expire":
            alive.pop(sid, None)
        elif action in ("silence.create", "silence.extend", "silence.recreate", "silence.ack") and sid:
            intent = intents.get(r.get("id", ""), {})
            before = intent.get("before") or {}
            if before.get("silence_id") and before["silence_id"] != sid:
                alive.pop(before["silence_id"], None)
            for old, recreated in list(alive.items()):
                if recreated.audit_id == intent.get("recreates"):
                    alive.pop(old, None)
            spec = intent.get("silence") or {}
            try:
                matchers = tuple(Matcher(m["name"], m["value"], bool(m["is_regex"]), bool(m["is_equal"]))
                                 for m in spec.get("matchers", ()))
                ends = datetime.fromisoformat(str(spec["ends_at"]).replace("Z", "+00:00"))
            except (KeyError, TypeError, ValueError):
                continue
            cluster = tuple(str(u) for u in (intent.get("target") or {}).get("alertmanager") or ())
            alive[sid] = ToolSilence(r.get("id", ""), sid, matchers, ends, str(spec.get("comment", "")),
                                     str(spec.get("created_by", "")), cluster)
    return list(alive.values())


def vanished(records: Iterable[dict[str, Any]], known_ids: Iterable[str], now: datetime | None = None,
             urls: Iterable[str] | None = None) -> list[ToolSilence]:
    """Tool-made silences still meant to be in force that no peer knows any more (e.g. a node crashed).

    With `urls`, only silences written to one of these Alertmanagers count (one audit log may serve
    several clusters: a prod silence is not "vanished" from staging).
    """
    now = now or utcnow()
    known = set(known_ids)
    here = {redact_url(u).rstrip("/") for u in urls} if urls is not None else None
    return [t for t in tool_silences(records) if t.ends_at > now and t.silence_id not in known
            and (here is None or here & {u.rstrip("/") for u in t.alertmanagers})]


def recreate_draft(t: ToolSilence, created_by: str, now: datetime | None = None) -> SilenceDraft:
    start = now or utcnow()
    return SilenceDraft(t.matchers, start, max(t.ends_at, start + timedelta(minutes=1)), created_by,
                        strip_token(t.comment), allow_regex=True)


async def reconcile(source: AlertmanagerSource, audit: AuditLog, *, older_than: float = 120.0) -> list[Outcome]:
    """Intents of earlier sessions that never got a result (the process died): find out what happened."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    out = []
    for intent in audit.unfinished():
        action = intent.get("action", "")
        if not action.startswith("silence.") or intent.get("session_id") == audit.session_id:
            continue
        try:
            ts = datetime.fromisoformat(str(intent.get("ts", "")).replace("Z", "+00:00"))
        except ValueError:
            continue
        if ts > cutoff:
            continue
        audit_id = intent["id"]
        if action == "silence.expire":
            sid = (intent.get("before") or {}).get("silence_id", "")
            seen = await source.silence_on_peers(sid)
            done = any(isinstance(s, Silence) and s.state == "expired" for s in seen)
            result, after = ("ok" if done else "failed"), {"silence_id": sid}
        else:
            hit = await find_by_token(source, audit_id)
            result, after = ("ok", {"silence_id": hit.id}) if hit else ("failed", None)
        note = "reconciled after a restart: " + ("found" if result == "ok" else "no effect found")
        audit.result(audit_id, action, result, after=after, error="" if result == "ok" else note, note=note)
        out.append(Outcome(result, audit_id, action, (after or {}).get("silence_id", ""), message=note))
    return out

