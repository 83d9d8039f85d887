"""Silence plans: tokens, durations, matchers and Alertmanager's own validation rules. No I/O.

Alertmanager only checks that `comment`/`createdBy` exist and that one matcher does not match the empty
string; we also refuse a blank reason, regex/negative matchers without an explicit toggle, and an end
that is not after the start and in the future.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence

from ..models import Alert, Matcher, Silence, utcnow

PRESETS = ("15m", "1h", "2h", "4h", "1d")
ACK_DURATION = "15m"
ACK_PREFIX = "ACK: "
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_TOKEN = re.compile(r"\s*\[mlcall:([0-9a-f]{6,32})\]")
_DURATION = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MATCHER = re.compile(r'^\s*(?P<name>[^=!~\s]+)\s*(?P<op>=~|!~|!=|=)\s*(?P<value>.*?)\s*$', re.DOTALL)


class ValidationError(ValueError):
    """The silence would be refused (by us or by Alertmanager); `problems` says why, one per line."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


# -- tokens and durations -------------------------------------------------------------------------
def token(audit_id: str) -> str:
    return f"[mlcall:{audit_id}]"


def with_token(reason: str, audit_id: str) -> str:
    return f"{strip_token(reason)} {token(audit_id)}"


def token_of(comment: str) -> str:
    """The audit id carried by a silence comment, or ''."""
    m = _TOKEN.search(comment or "")
    return m[1] if m else ""


def strip_token(comment: str) -> str:
    return _TOKEN.sub("", comment or "").strip()


def parse_duration(text: str) -> timedelta:
    """`15m`, `1h`, `2h30m`, `1d`, `1w`: a positive duration, or ValueError saying what is accepted."""
    cleaned = (text or "").strip().lower().replace(" ", "")
    if not cleaned or _DURATION.sub("", cleaned):
        raise ValueError(f"duration {text!r} not understood: use e.g. 15m, 1h, 2h30m, 1d")
    seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(cleaned))
    if seconds <= 0:
        raise ValueError("the duration must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0m"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    return "".join(parts) or f"{seconds}s"


# -- matchers -------------------------------------------------------------------------------------
def _compile(value: str) -> re.Pattern[str] | None:
    try:
        return re.compile(value)
    except re.error:
        return None


def matcher_matches(m: Matcher, value: str) -> bool:
    """Alertmanager's semantics: regexes are anchored; a missing label is the empty string."""
    if m.is_regex:
        pattern = _compile(m.value)
        hit = bool(pattern.fullmatch(value)) if pattern is not None else False
    else:
        hit = value == m.value
    return hit if m.is_equal else not hit


def matches_labels(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    matchers = list(matchers)
    return bool(matchers) and all(matcher_matches(m, labels.get(m.name, "")) for m in matchers)


def matching_alerts(silence: Silence, alerts: Iterable[Alert]) -> list[Alert]:
    return [a for a in alerts if matches_labels(silence.matchers, a.labels)]


def parse_matchers(text: str) -> list[Matcher]:
    """`name=value name!=value name=~re name!~re` (comma or space separated, values may be quoted)."""
    try:
        words = shlex.split(text.replace(",", " "))
    except ValueError as exc:
        raise ValueError(f"cannot read matchers: {exc}") from None
    out = []
    for word in words:
        m = _MATCHER.match(word)
        if not m:
            raise ValueError(f"{word!r} is not a matcher (use name=value, !=, =~ or !~)")
        op = m["op"]
        out.append(Matcher(m["name"], m["value"], is_regex="~" in op, is_equal=op in ("=", "=~")))
    return out


def matchers_for(labels: Mapping[str, str], names: Iterable[str] | None = None) -> tuple[Matcher, ...]:
    """Equality matchers for the chosen label names (all by default), skipping empty values."""
    chosen = sorted(labels) if names is None else [n for n in sorted(labels) if n in set(names)]
    return tuple(Matcher(n, labels[n]) for n in chosen if labels[n] != "")


def common_labels(alerts: Sequence[Alert]) -> dict[str, str]:
    """Labels with the same value on every alert."""
    if not alerts:
        return {}
    first = dict(alerts[0].labels)
    return {k: v for k, v in first.items() if all(a.labels.get(k) == v for a in alerts[1:])}


def matcher_sets(alerts: Sequence[Alert], names: Iterable[str], *, common: bool,
                 extra: Sequence[Matcher] = ()) -> list[tuple[Matcher, ...]]:
    """One matcher set per distinct (chosen) label set, or one set of the labels every alert shares."""
    names = set(names)
    if common:
        return [matchers_for(common_labels(alerts), names) + tuple(extra)]
    out: list[tuple[Matcher, ...]] = []
    for alert in alerts:
        ms = matchers_for(alert.labels, names) + tuple(extra)
        if ms not in out:
            out.append(ms)
    return out


# -- the plan and its validation -----------------------------------------------------------------
@dataclass(frozen=True)
class SilenceDraft:
    """One silence about to be written: what the user sees in the form before pressing enter."""

    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    reason: str
    allow_regex: bool = False
    ack: bool = False

    @property
    def comment(self) -> str:
        reason = strip_token(self.reason.strip())
        if self.ack and not reason.upper().startswith(ACK_PREFIX.strip()):
            reason = ACK_PREFIX + reason
        return reason

    def payload(self, audit_id: str, silence_id: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {
            "matchers": [{"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}
                         for m in self.matchers],
            "startsAt": _iso(self.starts_at), "endsAt": _iso(self.ends_at),
            "createdBy": self.created_by, "comment": with_token(self.comment, audit_id),
        }
        if silence_id:
            body["id"] = silence_id
        return body


def draft(matchers: Sequence[Matcher], duration: timedelta, *, created_by: str, reason: str,
          allow_regex: bool = False, ack: bool = False, now: datetime | None = None) -> SilenceDraft:
    start = now or utcnow()
    return SilenceDraft(tuple(matchers), start, start + duration, created_by, reason, allow_regex, ack)


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validate(d: SilenceDraft, now: datetime | None = None) -> list[str]:
    """Every reason Alertmanager (validateSilence, postSilencesHandler) or our own rules would refuse it."""
    now = now or utcnow()
    problems = []
    if not strip_token(d.reason).strip() or (d.ack and not d.comment[len(ACK_PREFIX):].strip()):
        problems.append("a reason is required")
    if not d.created_by.strip():
        problems.append("an author is required")
    if not d.matchers:
        problems.append("at least one matcher is required")
    for m in d.matchers:
        if not LABEL_NAME.match(m.name):
            problems.append(f"invalid label name {m.name!r}")
        if (m.is_regex or not m.is_equal) and not d.allow_regex:
            problems.append(f"{m} is a regex or negative matcher: turn on 'allow regex / negative' to use it")
        if m.is_regex and _compile(m.value) is None:
            problems.append(f"invalid regular expression in {m}")
    if d.matchers and all(matcher_matches(m, "") for m in d.matchers):
        problems.append("at least one matcher must not match the empty string (it would silence everything)")
    if d.ends_at <= d.starts_at:
        problems.append("the end must be after the start")
    if d.ends_at <= now:
        problems.append("the end must be in the future")
    return problems
