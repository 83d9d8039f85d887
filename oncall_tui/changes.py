"""What changed just before an alert: a UI-free change source over the registry, this tool's audit log,
the cluster, and (when configured) the pipeline's sources.

For the highlighted alert's model and Deployment it collects dated `Change`s:
- model versions created (MLflow `creation_timestamp`);
- serving-alias moves: exact ones from this tool's audit log (`registry.rollback` results, with who and
  why); moves this tool made elsewhere (another user's log) from the `mlcall.previous.<alias>` tag on the
  version, dated "at or after" the version's creation; and a move nobody recorded (another client) when
  the alias serves a version no recorded move went to: "at or after" the later of that version's
  creation and the last recorded move. MLflow keeps no alias history (REFERENCE R11): nothing else is
  known, and nothing is guessed (the previous version of an unrecorded move is unknown unless a
  recorded move left the alias there);
- Deployment revisions: each owned ReplicaSet's creation time, image and `kubernetes.io/change-cause`;
- DVC metrics commits and training Job completions through `register_provider` (another module owns
  those sources); until one registers, each is named "not configured".

Every provider blocks: `ChangeService.collect` runs in a worker thread. Nothing here imports textual.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Protocol

from .models import Alert, Change, ChangeUndo, ChangeView, compact_duration
from .models.changes import ALIAS, ROLLOUT, VERSION

ROLLBACK_ACTION = "registry.rollback"  # actions/rollback.ACTION (not imported: it would import the registry)
HISTORY_TAG = "mlcall.previous."  # sources/registry.HISTORY_TAG
LAST_MOVE_TAG = "mlcall.last_move."  # actions/rollback.LAST_MOVE_TAG
CHANGE_CAUSE = "kubernetes.io/change-cause"
OPTIONAL_SOURCES = ("DVC metrics commits", "training Job completions")
_LAST_MOVE = re.compile(r"^v(?P<before>[^→\s]+)→v(?P<after>\S+) by (?P<who>.+?)(?: \(audit (?P<id>\w+)\))?$")


@dataclass(frozen=True)
class Target:
    """Whose changes: the alert's registered model and its serving alias, its Deployment."""

    model: str = ""
    alias: str = "champion"
    namespace: str = ""
    deployment: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.model, self.alias, self.namespace, self.deployment


class ChangeProvider(Protocol):
    """A source of changes. `changes` blocks; it raises (any exception) when its source fails."""

    name: str

    def changes(self, target: Target) -> list[Change]: ...


# -- helpers ---------------------------------------------------------------------------------------------
def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _iso(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except (TypeError, ValueError):
        return None


def relative(seconds: float) -> str:
    """A signed, compact offset: −4m, +30s, −1h05m, −2d3h (U+2212 for minus)."""
    return ("−" if seconds < 0 else "+") + compact_duration(abs(seconds))


def before_words(seconds: float) -> str:
    """`seconds` ≥ 0 before something, in words: "4 min", "40 s", "1 h 05 min"."""
    s = int(max(0, seconds))
    if s < 60:
        return f"{s} s"
    m = s // 60
    if m < 60:
        return f"{m} min"
    h = m // 60
    return f"{h} h {m % 60:02d} min" if h < 48 else f"{h // 24} days"


def line(change: Change) -> str:
    """"champion v6 → v7 by alice: retrain" (the summary, who and why when known)."""
    text = change.summary
    if change.who:
        text += f" by {change.who}"
    if change.why:
        text += f": {change.why}"
    return text


def likely_trigger(view: ChangeView | None, alert_start: float | None) -> Change | None:
    """The change nearest before the alert's start that changed what serves (a version merely registered
    changes nothing; an alias move or a rollout does, as may a data commit or a training run)."""
    if view is None or alert_start is None:
        return None
    before = [c for c in view.changes if c.at <= alert_start and c.kind != VERSION]
    return max(before, key=lambda c: (c.at, not c.at_or_after), default=None)


def trigger_line(change: Change, alert_start: float) -> str:
    """"likely trigger: champion v6 → v7, 4 min before the alert" (≥ when only a lower bound is known)."""
    ago = before_words(alert_start - change.at)
    when = (f"at or after {ago} before the alert (its exact time is not recorded)" if change.at_or_after
            else f"{ago} before the alert")
    text = f"likely trigger: {change.summary}"
    if change.who:
        text += f" by {change.who}"
    return f"{text}, {when}"


# -- the registry and this tool's audit log ----------------------------------------------------------------
def audit_moves(records: Iterable[dict[str, Any]], model: str, alias: str) -> list[tuple[float, str, str, str, str]]:
    """(time, before, after, actor, reason) of every alias move this tool made and verified (result ok)."""
    intents: dict[str, dict[str, Any]] = {}
    out = []
    for record in records:
        if record.get("action") != ROLLBACK_ACTION:
            continue
        target = record.get("target") or {}
        if target.get("model") != model or target.get("alias") != alias:
            continue
        if record.get("phase") == "intent":
            intents[str(record.get("id"))] = record
        elif record.get("phase") == "result" and record.get("result") == "ok":
            intent = intents.get(str(record.get("id")), {})
            before = str((intent.get("before") or {}).get("version", ""))
            after = str((record.get("after") or {}).get("version", ""))
            at = _iso(record.get("ts"))
            if at is not None and after:
                out.append((at, before, after, str(record.get("actor", "")), str(intent.get("reason", ""))))
    return sorted(out)


def registry_changes(model: str, alias: str, aliases: dict[str, str], versions: list[Any],
                     records: Iterable[dict[str, Any]], model_tags: dict[str, str] | None = None) -> list[Change]:
    """Changes of one model from what the registry holds now and what this tool recorded (pure)."""
    model_tags = model_tags or {}
    out: list[Change] = []
    by_version = {v.version: v for v in versions}

    def undo(to: str) -> ChangeUndo | None:
        return ChangeUndo("registry", f"{alias} back to v{to}", model=model, alias=alias, version=to) if to else None

    for v in versions:
        created = _ts(v.created_at)
        if created is not None:
            out.append(Change(created, VERSION, f"{model} v{v.version} registered ({v.status or 'status unknown'})",
                              source="MLflow registry"))
    moves = audit_moves(records, model, alias)
    for at, before, after, actor, reason in moves:
        summary = f"{alias} v{before} → v{after}" if before else f"{alias} → v{after}"
        out.append(Change(at, ALIAS, summary, who=actor, why=reason, source="audit log", undo=undo(before)))
    recorded = {(b, a) for _, b, a, _, _ in moves}
    previous_after, previous_at = "", None
    for at, before, after, _, _ in moves:  # the alias was at `before` when this tool moved it: how it got there
        tagged = before in by_version and by_version[before].tags.get(f"{HISTORY_TAG}{alias}")  # mlcall, elsewhere
        if before and before != previous_after and not tagged:
            created = _ts(by_version[before].created_at) if before in by_version else None
            lower = max([t for t in (created, previous_at) if t is not None], default=None)
            if lower is not None and lower <= at:
                out.append(_unrecorded(alias, model, before, previous_after, lower, undo))
        previous_after, previous_at = after, at
    last_move = _LAST_MOVE.match(model_tags.get(f"{LAST_MOVE_TAG}{alias}", ""))
    for v in versions:  # moves this tool made, recorded on the version but not in this audit log
        previous = v.tags.get(f"{HISTORY_TAG}{alias}", "")
        created = _ts(v.created_at)
        if not previous or (previous, v.version) in recorded or created is None:
            continue
        who = ""
        if last_move and last_move["before"] == previous and last_move["after"] == v.version:
            who = last_move["who"]
        out.append(Change(created, ALIAS, f"{alias} v{previous} → v{v.version}", who=who,
                          why=f"mlcall-tui (tag {HISTORY_TAG}{alias}; time not recorded)", source="MLflow registry",
                          at_or_after=True, undo=undo(previous)))
        recorded.add((previous, v.version))
    current = aliases.get(alias)
    last = moves[-1] if moves else None  # this tool's last verified move (exact time)
    if current is not None:
        covered = last[2] == current if last is not None else any(a == current for _, a in recorded)
        created = _ts(by_version[current].created_at) if current in by_version else None
        lower = max([t for t in (created, last[0] if last else None) if t is not None], default=None)
        if not covered and lower is not None:  # someone else moved it: when and from where is not recorded
            out.append(_unrecorded(alias, model, current, last[2] if last else "", lower, undo))
    return out


def _unrecorded(alias: str, model: str, to: str, before: str, lower: float,
                undo: Callable[[str], ChangeUndo | None]) -> Change:
    """A move nobody recorded (another client) to `to`: at or after `lower`; from `before` only when this
    tool's previous move left the alias there, else from an unknown version (and then no undo)."""
    summary = f"{alias} v{before} → v{to}" if before else f"{alias} → v{to}"
    why = "moved outside mlcall-tui (no history tag)" + ("" if before else "; previous version unknown")
    return Change(lower, ALIAS, summary, why=why, source="MLflow registry", at_or_after=True, undo=undo(before))


class RegistryChanges:
    name = "MLflow registry"

    def __init__(self, source: Any, audit: Any) -> None:
        self.source, self.audit = source, audit

    def changes(self, target: Target) -> list[Change]:
        registered = self.source.registered_model(target.model)
        versions = self.source.versions(target.model, aliases=dict(registered.aliases))
        records = list(self.audit.records()) if self.audit is not None else []
        return registry_changes(target.model, target.alias, dict(registered.aliases), versions, records,
                                dict(registered.tags))


class AuditChanges:
    """Alias moves from this tool's audit log alone (when no registry is configured, they are still facts)."""

    name = "audit log"

    def __init__(self, audit: Any) -> None:
        self.audit = audit

    def changes(self, target: Target) -> list[Change]:
        out = []
        for at, before, after, actor, reason in audit_moves(self.audit.records(), target.model, target.alias):
            undo = ChangeUndo("registry", f"{target.alias} back to v{before}", model=target.model, alias=target.alias,
                              version=before) if before else None
            summary = f"{target.alias} v{before} → v{after}" if before else f"{target.alias} → v{after}"
            out.append(Change(at, ALIAS, summary, who=actor, why=reason, source="audit log", undo=undo))
        return out


# -- the cluster -------------------------------------------------------------------------------------------
def rollout_changes(namespace: str, name: str, replica_sets: Iterable[Any]) -> list[Change]:
    """One change per owned ReplicaSet (a Deployment revision), dated by its creation. A rollback that
    re-uses an old ReplicaSet keeps that ReplicaSet's (old) creation time: the summary says "created"."""
    kept = sorted((rs for rs in replica_sets if rs.revision > 0), key=lambda rs: rs.revision)
    out = []
    for i, rs in enumerate(kept):
        created = _ts(rs.created_at)
        if created is None:
            continue
        previous = kept[i - 1].revision if i > 0 else 0
        undo = ChangeUndo("deployment", f"{namespace}/{name} back to revision {previous}", namespace=namespace,
                          name=name, revision=previous) if previous else None
        images = ", ".join(i.rsplit("/", 1)[-1] for i in rs.images) or "no image"
        out.append(Change(created, ROLLOUT, f"{name} revision {rs.revision} ({images})",
                          why=str(rs.annotations.get(CHANGE_CAUSE, "")), source="Kubernetes", undo=undo))
    return out


class ClusterChanges:
    name = "Kubernetes"

    def __init__(self, source: Any) -> None:
        self.source = source

    def changes(self, target: Target) -> list[Change]:
        deployment = self.source.deployment(target.namespace, target.deployment)
        return rollout_changes(target.namespace, target.deployment, self.source.replica_sets(deployment))


# -- optional sources (the exporter's DVC and training-Job readers register here) ---------------------------
_FACTORIES: dict[str, Callable[[Any], ChangeProvider | str]] = {}


def register_provider(name: str, factory: Callable[[Any], ChangeProvider | str]) -> None:
    """`factory(settings)` returns a provider, or why it is not configured. Names in OPTIONAL_SOURCES
    that nobody registered are listed as "not configured"."""
    _FACTORIES[name] = factory


def optional_providers(settings: Any) -> tuple[list[ChangeProvider], list[tuple[str, str]]]:
    providers, missing = [], []
    for name in dict.fromkeys((*OPTIONAL_SOURCES, *_FACTORIES)):
        made = _FACTORIES[name](settings) if name in _FACTORIES else "not configured"
        if isinstance(made, str):
            missing.append((name, made))
        else:
            providers.append(made)
    return providers, missing


# -- the service -------------------------------------------------------------------------------------------
class ChangeService:
    """Collects one target's changes from every provider (blocking; call from a worker thread) and keeps
    the answer for `ttl` seconds. A provider that fails is named with its error; the others still count."""

    def __init__(self, providers: list[ChangeProvider], missing: list[tuple[str, str]] | None = None, *,
                 ttl: float = 30.0, clock: Callable[[], float] = time.time,
                 needs: Callable[[ChangeProvider, Target], str] | None = None) -> None:
        self.providers = providers
        self.missing = list(missing or [])
        self.ttl = ttl
        self.clock = clock
        self.needs = needs or (lambda provider, target: "")
        self._cache: dict[tuple[str, str, str, str], tuple[float, ChangeView]] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def cached(self, target: Target, *, fresh_only: bool = True) -> ChangeView | None:
        with self._lock:
            found = self._cache.get(target.key)
        if found is None or (fresh_only and time.monotonic() - found[0] > self.ttl):
            return None
        self.hits += 1
        return found[1]

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def collect(self, target: Target) -> ChangeView:
        self.misses += 1
        changes: list[Change] = []
        missing = list(self.missing)
        errors: list[tuple[str, str]] = []
        for provider in self.providers:
            why = self.needs(provider, target)
            if why:
                missing.append((provider.name, why))
                continue
            try:
                changes.extend(provider.changes(target))
            except Exception as exc:  # SourceError and the rest: named, the other sources still shown
                errors.append((provider.name, f"{getattr(exc, 'kind', type(exc).__name__)}: "
                                              f"{getattr(exc, 'message', '') or exc}"))
        changes = _dedupe(changes)
        changes.sort(key=lambda c: (c.at, c.kind), reverse=True)
        view = ChangeView(tuple(changes), tuple(missing), tuple(errors), self.clock())
        with self._lock:
            self._cache[target.key] = (time.monotonic(), view)
        return view


def _dedupe(changes: list[Change]) -> list[Change]:
    """The audit log and the registry may both report one move: keep the registry provider's copy
    (it has the same exact time, who and why when it came from the audit log)."""
    seen, out = set(), []
    for c in sorted(changes, key=lambda c: c.source != "MLflow registry"):
        key = (c.kind, c.summary, round(c.at, 3), c.at_or_after)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def target_of(settings: Any, alert: Alert | None) -> Target:
    if alert is None:
        return Target()
    model = alert.label(settings.model_label)
    namespace = alert.label(settings.namespace_label) or settings.namespace
    deployment = alert.label(settings.deployment_label) or model
    return Target(model, settings.serving_alias, namespace, deployment)


def alert_start(alert: Alert | None) -> float | None:
    return alert.starts_at.timestamp() if alert is not None and alert.starts_at is not None else None


def columns_of(changes: Iterable[Change], start: float, end: float, width: int) -> dict[int, list[Change]]:
    """Which column of a `width`-column chart over [start, end] each change falls in (as `rasterize`
    places samples: floor((t − start) / span × width))."""
    span = max(end - start, 1e-9)
    out: dict[int, list[Change]] = {}
    for c in changes:
        if start <= c.at <= end:
            col = min(width - 1, max(0, math.floor((c.at - start) / span * width)))
            out.setdefault(col, []).append(c)
    return out
