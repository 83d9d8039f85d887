"""The incident note (`w` on the timeline): a Markdown postmortem skeleton.

Every remote string (labels, annotations, reasons, authors, URLs) goes through `safe_text.sanitize` (no
terminal control sequence survives), has credentials removed (URL userinfo, `token=`-like parameters), and
is written as an inline code span so Markdown/HTML/Rich markup inside it stays inert text.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from ..safe_text import redact_url, sanitize
from .timeline import Event, Timeline, span, utc

_SECRET_PARAM = re.compile(
    r"(?i)\b(access_token|id_token|token|password|passwd|secret|api_?key|apikey|auth|sig|signature|credentials?)"
    r"(\s*[=:]\s*)([^&\s,;\"'`]+)")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


def scrub(text: str) -> str:
    """Credentials out: URL userinfo, `token=…`-style values, `Bearer …` headers."""
    text = redact_url(text)
    text = _SECRET_PARAM.sub(lambda m: m[1] + m[2] + "<secret>", text)
    return _BEARER.sub(lambda m: m[1] + " <secret>", text)


def inline(value: object, *, table: bool = False, max_len: int = 500) -> str:
    """A remote value as an inert inline code span (empty stays empty)."""
    text = scrub(sanitize(value, single_line=True, max_len=max_len)).strip()
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    out = f"{fence}{pad}{text}{pad}{fence}"
    return out.replace("|", "\\|") if table else out


def _labels(labels) -> str:
    return ", ".join(inline(f"{k}={v}") for k, v in sorted(labels.items())) or "—"


def _event_row(t: Timeline, e: Event) -> str:
    who = inline(e.actor, table=True)
    what = e.text if e.kind in ("start", "seen", "pending", "firing", "inactive", "resolved", "look") else None
    text = what if what is not None else inline(e.text, table=True)  # our own wording, but it may quote ids
    details = " · ".join(x for x in (
        ("reason " + inline(e.reason, table=True)) if e.reason else "",
        ("category " + inline(e.category, table=True)) if e.category else "",
        ("result " + e.result) if e.result else "",
        inline(e.detail, table=True) if e.detail else "",
    ) if x)
    return f"| {utc(e.at)} | {t.relative(e.at)} | {text} | {who} | {details} |"


def render(t: Timeline, *, now: datetime | None = None, source: str = "") -> str:
    now = now or datetime.now(timezone.utc)
    drill = " — DRILL" if t.drill else ""
    title = f"# Incident: {inline(t.name)}" + (f" on {inline(t.model)}" if t.model else "") + drill
    end = t.resolved_at
    impact = f"{utc(t.starts_at)} → {utc(end) if end else 'still open at ' + utc(now)}"
    duration = span((end or now) - t.starts_at) if t.starts_at else "—"
    ack = t.first_ack
    lines = [
        title, "",
        f"_Incident note written by mlcall-tui at {utc(now)}{(' from ' + inline(source)) if source else ''}."
        " Fill in the sections marked TODO._", "",
        "## Summary", "",
        f"- Alert: {inline(t.name)} ({t.alerts} alert{'s' if t.alerts != 1 else ''})" + (
            " — a fire drill (synthetic alert, `drill=\"true\"`), not a production incident" if t.drill else ""),
        f"- Labels: {_labels(t.labels)}",
        f"- Summary annotation: {inline(t.summary) or '—'}",
        "- What happened: TODO", "",
        "## Impact window", "",
        f"- {impact} ({duration})",
        f"- Time to acknowledge (MTTA): {span(t.mtta)}" + (f" — first action: {inline(ack.text)}" if ack else ""),
        f"- Time to resolve (MTTR): {span(t.mttr)}",
        "- Users/predictions affected: TODO", "",
        "## Timeline", "",
        "| time (UTC) | since start | event | by | details |",
        "|---|---|---|---|---|",
        *[_event_row(t, e) for e in t.events], "",
        "## Actions and reasons", "",
    ]
    actions = [e for e in t.events if e.kind in ("silence", "ack", "other-silence", "step", "rollback", "resolve",
                                                 "silence-expired")]
    for e in actions:
        why = f" — reason: {inline(e.reason)}" if e.reason else ""
        cat = f" (category {inline(e.category)})" if e.category else ""
        res = f" → {e.result}" if e.result else ""
        by = f" by {inline(e.actor)}" if e.actor else ""
        lines.append(f"- {utc(e.at)} ({t.relative(e.at)}): {inline(e.text)}{by}{why}{cat}{res}")
    if not actions:
        lines.append("- none recorded")
    lines += [
        "", "## Links", "",
        f"- Runbook: {inline(t.runbook_url) or '—'}",
        f"- Model: {inline(t.model) or '—'}" + (
            "; versions in rollbacks: " + ", ".join(inline(v) for v in t.model_versions) if t.model_versions else ""),
        "", "## Root cause", "", "TODO", "",
        "## Follow-ups", "", "- [ ] TODO (alert tuning: was it a false alarm? `for:`/threshold?)", "",
    ]
    return "\n".join(lines)
