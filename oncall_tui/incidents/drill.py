"""`mlcall-tui drill --scenario NAME`: a fire drill, timed.

Posts synthetic alerts that look exactly like the pack's (the rule's labels and rendered annotations, the
scenario's model) plus `drill="true"` to Alertmanager (every peer, as Prometheus does), re-posts them
before `endsAt` so they stay active, and watches:

- first look: the TUI's `drill.look` audit note (written the first time a drill alert is highlighted);
- acknowledged: a silence in Alertmanager matching the drill alert, created after the drill started
  (`a` or `s` in the TUI, or amtool);
- runbook opened / steps run: `runbook.open` / `runbook.step` audit records for the drill alert;
- resolved: the TUI's `drill.resolve` audit record (`e` on the drill's incident timeline).

When every drill alert is acknowledged and resolved (or at the time limit) the alerts are resolved in
Alertmanager (`endsAt` = now) and a drill report (Markdown + JSON) is written.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import httpx
import yaml

from ..actions.audit import AuditLog, new_id
from ..actions.silence_plan import matches_labels, strip_token
from ..resources import bundled
from ..safe_text import redact_url, sanitize
from . import DRILL_ID, DRILL_LABEL
from .timeline import pair, parse_ts, span, utc

ALERT_OF_KIND = {"latency": "ModelInferenceLatenessHigh", "drift": "DataDriftDetected",
                 "stale": "ModelStalenessHigh", "training-failure": "TrainingJobFailed",
                 "push-error": "ModelRegistryPushFailed"}
VALUE_OF_KIND = {"latency": 4.1, "drift": 0.35, "stale": 10.0, "training-failure": 1.0, "push-error": 1.0}
_LABEL = re.compile(r"\{\{\s*\$labels\.(\w+)\s*\}\}")
_VALUE = re.compile(r"\{\{\s*\$value\s*(\|\s*(\w+)\s*(\"[^\"]*\")?)?\s*\}\}")
_ANY = re.compile(r"\{\{.*?\}\}")


def rules(deploy: Path | None = None) -> dict[str, dict[str, Any]]:
    path = (deploy or bundled("deploy")) / "prometheus" / "ml-alerts.rules.yml"
    doc = yaml.safe_load(path.read_text()) or {}
    return {r["alert"]: r for g in doc.get("groups") or () for r in g.get("rules") or () if "alert" in r}


def render(template: str, labels: dict[str, str], value: float) -> str:
    """The few template forms the pack uses: `$labels.x`, `$value`, `| humanizeDuration`, `| printf`."""
    def value_text(m: re.Match[str]) -> str:
        fn, fmt = m[2], (m[3] or "").strip('"')
        if fn == "humanizeDuration":
            return f"{value:g}s"
        if fn == "printf" and fmt:
            try:
                return fmt % value
            except (TypeError, ValueError):
                return f"{value:g}"
        return f"{value:g}"

    text = _LABEL.sub(lambda m: labels.get(m[1], ""), template)
    return _ANY.sub("", _VALUE.sub(value_text, text))


def drill_alerts(scenario: str, drill_id: str, author: str, deploy: Path | None = None) -> list[dict[str, Any]]:
    """The alerts of a drill: one per incident of the scenario, as the pack's rule would fire it."""
    from ..stack.scenarios import get_scenario

    pack = rules(deploy)
    out = []
    for inc in get_scenario(scenario).incidents:
        name = ALERT_OF_KIND.get(inc.kind)
        if name is None or name not in pack:
            continue
        rule = pack[name]
        labels = {"alertname": name, "model": inc.model, **{k: str(v) for k, v in (rule.get("labels") or {}).items()}}
        if inc.feature:
            labels["feature"] = inc.feature
        labels[DRILL_LABEL] = "true"
        annotations = {k: render(str(v), labels, VALUE_OF_KIND[inc.kind])
                       for k, v in (rule.get("annotations") or {}).items()}
        annotations[DRILL_ID] = drill_id
        annotations["drill_note"] = f"FIRE DRILL by {author}: synthetic alert, production is not affected"
        out.append({"labels": labels, "annotations": annotations})
    if not out:
        raise ValueError(f"scenario {scenario!r} fires none of the pack's alerts")
    return out


@dataclass
class AlertProgress:
    labels: dict[str, str]
    look: datetime | None = None
    ack: datetime | None = None
    ack_by: str = ""
    ack_comment: str = ""
    runbook: datetime | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    resolved: datetime | None = None
    resolved_by: str = ""

    @property
    def done(self) -> bool:
        return self.ack is not None and self.resolved is not None


def observe(progress: AlertProgress, drill_id: str, started: datetime, records: list[dict[str, Any]],
            silences: list[Any]) -> None:
    """Fold what the audit log and Alertmanager say into the alert's progress (first occurrence wins)."""
    def mine(target: dict[str, Any]) -> bool:  # this alert of this drill: same labels (and drill id, if noted)
        labels = target.get("labels") or {}
        return labels == progress.labels and str(target.get(DRILL_ID, drill_id)) == drill_id

    for intent, result in pair(records):
        at = parse_ts((result or intent).get("ts"))
        action, target = intent.get("action"), intent.get("target") or {}
        if at is None or at < started or not mine(target):
            continue
        if action == "drill.look" and progress.look is None:
            progress.look = at
        elif action == "runbook.open" and progress.runbook is None:
            progress.runbook = at
        elif action == "runbook.step" and result is not None:
            entry = {"at": at.isoformat(), "step": target.get("step"), "result": result.get("result"),
                     "argv": intent.get("argv") or []}
            if entry not in progress.steps:
                progress.steps.append(entry)
        elif action == "drill.resolve" and progress.resolved is None and (result or {}).get("result") == "ok":
            progress.resolved, progress.resolved_by = at, str(intent.get("actor", ""))
    if progress.ack is None:
        hits = [s for s in silences if matches_labels(s.matchers, progress.labels) and s.state != "expired"
                and (s.updated_at or s.starts_at) >= started - timedelta(seconds=1)]
        if hits:
            first = min(hits, key=lambda s: s.updated_at or s.starts_at)
            progress.ack = first.updated_at or first.starts_at
            progress.ack_by, progress.ack_comment = first.created_by, strip_token(first.comment)


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Drill:
    def __init__(self, alerts: list[dict[str, Any]], urls: list[str], audit: AuditLog, *, scenario: str,
                 drill_id: str, repost: float = 30.0, poll: float = 2.0, limit: float = 1800.0,
                 client: httpx.Client | None = None, say: Callable[[str], None] = print) -> None:
        self.alerts, self.urls, self.audit = alerts, [u.rstrip("/") for u in urls], audit
        self.scenario, self.drill_id = scenario, drill_id
        self.repost, self.poll, self.limit = repost, poll, limit
        self.client = client or httpx.Client(timeout=10.0)
        self.say = say
        self.started = datetime.now(timezone.utc)
        self.progress = [AlertProgress(dict(a["labels"])) for a in alerts]
        self.ended: datetime | None = None
        self.timed_out = False

    def post(self, ends_at: datetime) -> None:
        body = [{**a, "startsAt": _iso(self.started), "endsAt": _iso(ends_at)} for a in self.alerts]
        errors = []
        for url in self.urls:  # like Prometheus: every peer gets the alerts
            try:
                self.client.post(f"{url}/api/v2/alerts", json=body).raise_for_status()
            except httpx.HTTPError as exc:
                errors.append(f"{redact_url(url)}: {exc}")
        if len(errors) == len(self.urls):
            raise RuntimeError("no Alertmanager took the drill alerts: " + "; ".join(errors))

    def silences(self) -> list[Any]:
        from ..sources.alertmanager import decode_silences
        from ..sources.base import SourceError

        for url in self.urls:
            try:
                response = self.client.get(f"{url}/api/v2/silences")
                response.raise_for_status()
                return decode_silences(response.json())
            except (httpx.HTTPError, ValueError, SourceError):  # the next peer may answer
                continue
        return []

    def check(self) -> bool:
        records = list(self.audit.records())
        silences = self.silences()
        for p in self.progress:
            before = (p.look, p.ack, p.runbook, len(p.steps), p.resolved)
            observe(p, self.drill_id, self.started, records, silences)
            if (p.look, p.ack, p.runbook, len(p.steps), p.resolved) != before:
                self.say(f"  {p.labels['alertname']}: " + self._line(p))
        return all(p.done for p in self.progress)

    def _line(self, p: AlertProgress) -> str:
        parts = [f"{what} {self.rel(at)}" for what, at in (("looked", p.look), ("acknowledged", p.ack),
                                                          ("runbook", p.runbook), ("resolved", p.resolved)) if at]
        return ", ".join(parts + ([f"{len(p.steps)} step(s) run"] if p.steps else [])) or "waiting"

    def rel(self, at: datetime | None) -> str:
        return "+" + span(at - self.started) if at else "—"

    def run(self, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
        deadline = time.monotonic() + self.limit
        ttl = max(self.repost * 3, 60.0)
        self.post(datetime.now(timezone.utc) + timedelta(seconds=ttl))
        last_post = time.monotonic()
        self.say(f"Drill {self.drill_id} ({self.scenario}): {len(self.alerts)} alert(s) posted to "
                 f"{', '.join(redact_url(u) for u in self.urls)} at {utc(self.started)}; waiting for ack + resolve")
        try:
            while not self.check():
                if time.monotonic() >= deadline:
                    self.timed_out = True
                    break
                if time.monotonic() - last_post >= self.repost:  # keep them alive before endsAt
                    self.post(datetime.now(timezone.utc) + timedelta(seconds=ttl))
                    last_post = time.monotonic()
                sleep(self.poll)
        finally:
            self.ended = datetime.now(timezone.utc)
            try:
                self.post(self.ended)  # endsAt = now: resolved in Alertmanager
            except RuntimeError as exc:
                self.say(f"warning: could not resolve the drill alerts: {exc}")
        return self.result()

    def result(self) -> dict[str, Any]:
        def secs(at: datetime | None) -> float | None:
            return round((at - self.started).total_seconds(), 3) if at else None

        alerts = []
        for p in self.progress:
            alerts.append({
                "alertname": p.labels.get("alertname"), "model": p.labels.get("model", ""), "labels": p.labels,
                "time_to_first_look": secs(p.look), "time_to_ack": secs(p.ack), "acknowledged_by": p.ack_by,
                "ack_comment": p.ack_comment, "runbook_opened": p.runbook is not None,
                "time_to_runbook": secs(p.runbook), "steps_run": p.steps, "time_to_resolve": secs(p.resolved),
                "resolved_by": p.resolved_by,
            })
        return {"drill_id": self.drill_id, "scenario": self.scenario, "started": _iso(self.started),
                "ended": _iso(self.ended) if self.ended else None, "timed_out": self.timed_out,
                "alertmanager": [redact_url(u) for u in self.urls], "alerts": alerts}


def report_markdown(result: dict[str, Any]) -> str:
    from .markdown import inline

    def t(value: float | None) -> str:
        return span(timedelta(seconds=value)) if value is not None else "not done"

    lines = [f"# Fire drill {inline(result['drill_id'])} — scenario {inline(result['scenario'])}", "",
             f"- Started {result['started']}, ended {result['ended']}" +
             (" — **time limit reached**" if result["timed_out"] else ""), "",
             "| alert | model | first look | acknowledged | runbook opened | steps run | resolved |",
             "|---|---|---|---|---|---|---|"]
    for a in result["alerts"]:
        runbook = ("yes, " + t(a["time_to_runbook"])) if a["runbook_opened"] else "no"
        lines.append(f"| {inline(a['alertname'], table=True)} | {inline(a['model'], table=True)} | "
                     f"{t(a['time_to_first_look'])} | {t(a['time_to_ack'])} | {runbook} | {len(a['steps_run'])} | "
                     f"{t(a['time_to_resolve'])} |")
    lines += ["", "Acknowledged by: " + ", ".join(inline(a["acknowledged_by"]) or "—" for a in result["alerts"]), ""]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    from ..args import add_settings_flags
    from ..stack.scenarios import SCENARIOS

    p = argparse.ArgumentParser(prog="mlcall-tui drill", description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", required=True, choices=sorted(n for n in SCENARIOS if n != "calm"))
    p.add_argument("--time-limit", default="30m", dest="time_limit", help="give up after this long (default 30m)")
    p.add_argument("--repost", default="30s", help="re-post the alerts this often (default 30s)")
    p.add_argument("--poll", default="2s", help="check for ack/resolve this often (default 2s)")
    p.add_argument("--report", metavar="FILE", help="drill report (Markdown; a .json beside it); default in the "
                   "state dir")
    add_settings_flags(p)
    return p


def _seconds(text: str, parse: Callable[[str], timedelta]) -> float:
    """`0.5s`, `2s`, `30m`, `1h`: seconds (fractions allowed for the short ones)."""
    try:
        value = float(text[:-1]) if text.endswith("s") else float(text)
    except ValueError:
        return parse(text).total_seconds()
    if value <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return value


def main(argv: list[str]) -> int:
    from ..actions.silence_plan import parse_duration
    from ..args import settings_from
    from ..config import ConfigError, state_dir

    args = _parser().parse_args(argv)
    try:
        settings = settings_from(args)
        limit, repost, poll = (_seconds(x, parse_duration) for x in (args.time_limit, args.repost, args.poll))
    except (ValueError, ConfigError) as exc:
        print(f"mlcall-tui drill: {exc}", file=sys.stderr)
        return 2
    if not settings.alertmanager_urls:
        print("mlcall-tui drill: no Alertmanager configured (--alertmanager URL)", file=sys.stderr)
        return 2
    if settings.read_only:
        print("mlcall-tui drill: read-only mode: a drill posts alerts, refusing", file=sys.stderr)
        return 2
    drill_id = new_id()
    audit = AuditLog(settings.audit_path, settings.author)
    drill = Drill(drill_alerts(args.scenario, drill_id, settings.author), list(settings.alertmanager_urls), audit,
                  scenario=args.scenario, drill_id=drill_id, repost=repost, poll=poll, limit=limit,
                  say=lambda line: print(sanitize(line), flush=True))
    audit.intent("drill.run", audit_id=drill_id, target={"alertmanager": drill.urls, DRILL_ID: drill_id, "scenario": args.scenario},
                 reason=f"fire drill {args.scenario}")
    try:
        result = drill.run()
    except KeyboardInterrupt:
        result = drill.result()
        result["timed_out"] = True
    audit.result(drill_id, "drill.run", "ok" if not result["timed_out"] else "failed",
                 after=result, target={DRILL_ID: drill_id})
    path = Path(args.report) if args.report else state_dir() / "drills" / f"drill-{drill_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_markdown(result))
    path.with_suffix(".json").write_text(json.dumps(result, indent=2))
    print(report_markdown(result))
    print(f"Drill report written to {path} (and {path.with_suffix('.json').name})")
    return 0 if not result["timed_out"] else 1

