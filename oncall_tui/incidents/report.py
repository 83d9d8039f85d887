"""`mlcall-tui report --since 7d [--json|--markdown]`: per alert name and model, how often it fired, for
how long, MTTA and MTTR, and how many silences called it a false alarm.

Firing history comes from Prometheus (`ALERTS{alertstate="firing"}`, one range query, step bounded under
the 11,000-point limit); acknowledgements and false alarms from the audit log. Runs of one alert separated
by less than `--flap-gap` count as one incident.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from ..actions.silence_plan import matches_labels
from ..models import Series
from ..safe_text import redact_url, sanitize
from . import CATEGORY_LABELS
from .history import Episode, episodes, runs, step_for, union
from .timeline import Scope, audit_events, parse_ts, silence_matchers, span

QUERY = 'ALERTS{alertstate="firing"}'


class ReportError(Exception):
    """Prometheus could not answer the history query."""


@dataclass(frozen=True)
class RuleStats:
    alertname: str
    model: str
    fired: int  # incidents (flaps folded)
    runs: int  # firing runs before folding
    firing_seconds: float
    mtta: float | None  # mean seconds from start to the first human action, over incidents that had one
    mttr: float | None  # mean seconds from start to end, over incidents that ended inside the window
    acknowledged: int
    false_alarms: int
    incidents: tuple[dict[str, Any], ...] = field(default=())


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _silence_matches(record: dict[str, Any], label_sets: Iterable[dict[str, str]]) -> bool:
    ms = silence_matchers(record)
    return any(matches_labels(ms, labels) for labels in label_sets)


def compute(series: Iterable[Series], records: Iterable[dict[str, Any]], *, start: float, end: float, step: float,
            flap_gap: float = 300.0, model_label: str = "model") -> list[RuleStats]:
    records = list(records)
    by_key: dict[tuple[str, str], list[Series]] = {}
    for s in series:
        key = (s.labels.get("alertname", ""), s.labels.get(model_label, ""))
        by_key.setdefault(key, []).append(s)
    def in_window(r: dict[str, Any]) -> bool:
        at = parse_ts(r.get("ts"))
        return at is not None and start <= at.timestamp() <= end

    false_alarms = [r for r in records if r.get("phase") == "intent" and r.get("category") == "false-alarm"
                    and in_window(r)]
    out = []
    for (name, model), group in sorted(by_key.items()):
        label_sets = [{k: v for k, v in s.labels.items() if k != "alertstate"} for s in group]
        intervals = union(((a, b + step) for s in group for a, b in runs([t for t, _ in s.points], step)), step)
        eps = episodes(intervals, flap_gap)
        scope = Scope(tuple(label_sets), frozenset(), model, model, frozenset())
        human = [e for e in audit_events(records, scope) if e.counts_as_ack]
        rows, acks, ends = [], [], []
        for ep in eps:
            ack = next((e for e in human if ep.start - 60 <= e.at.timestamp() <= ep.end + step), None)
            ended = ep.end < end - 0.5 * step  # the last grid point (> end - step) had no sample
            if ack is not None:
                acks.append(max(0.0, ack.at.timestamp() - ep.start))
            if ended:
                ends.append(ep.duration)
            rows.append(_incident(ep, ack.at.timestamp() if ack else None, ended))
        out.append(RuleStats(name, model, len(eps), sum(e.runs for e in eps), sum(e.firing for e in eps),
                             _mean(acks), _mean(ends), len(acks),
                             sum(1 for r in false_alarms if _silence_matches(r, label_sets)), tuple(rows)))
    known = {(r.alertname, r.model) for r in out}
    for r in false_alarms:  # false alarms of alerts that never reached firing in the window
        labels = {m.name: m.value for m in silence_matchers(r) if m.is_equal and not m.is_regex}
        key = (labels.get("alertname", ""), labels.get(model_label, ""))
        if key[0] and key not in known:
            known.add(key)
            count = sum(1 for x in false_alarms if _silence_matches(x, [labels]))
            out.append(RuleStats(key[0], key[1], 0, 0, 0.0, None, None, 0, count))
    return out


def _incident(ep: Episode, ack: float | None, ended: bool) -> dict[str, Any]:
    return {"start": _iso(ep.start), "end": _iso(ep.end) if ended else None, "firing_seconds": round(ep.firing, 1),
            "runs": ep.runs, "tta_seconds": round(ack - ep.start, 1) if ack is not None else None,
            "ttr_seconds": round(ep.duration, 1) if ended else None}


# -- output ------------------------------------------------------------------------------------------------
def _secs(value: float | None) -> str:
    return span(timedelta(seconds=value)) if value is not None else "—"


HEADERS = ("alert", "model", "fired", "flaps", "firing time", "MTTA", "MTTR", "acked", "false alarms")


def _cells(r: RuleStats) -> list[str]:
    return [sanitize(r.alertname, single_line=True, max_len=60), sanitize(r.model, single_line=True, max_len=40),
            str(r.fired), str(r.runs - r.fired), _secs(r.firing_seconds), _secs(r.mtta), _secs(r.mttr),
            str(r.acknowledged), str(r.false_alarms)]


def table(rows: Sequence[RuleStats]) -> str:
    cells = [list(HEADERS)] + [_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells)


def _md(value: str) -> str:
    from .markdown import inline

    return inline(value, table=True)


def markdown(rows: Sequence[RuleStats], *, since: str, source: str) -> str:
    lines = [f"# Alert history, last {since}", "", f"From `ALERTS{{alertstate=\"firing\"}}` on {_md(source)} and "
             "the mlcall-tui audit log. Flaps within the gap count as one incident.", "",
             "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for r in rows:
        cells = _cells(r)
        lines.append("| " + " | ".join([_md(cells[0]), _md(cells[1]), *cells[2:]]) + " |")
    if not rows:
        lines.append("| (nothing fired) |" + " |" * (len(HEADERS) - 1))
    lines += ["", "False alarms are silences whose category was "
              f"“{CATEGORY_LABELS['false-alarm']}”: the input for tuning `for:` and thresholds.", ""]
    return "\n".join(lines)


def to_json(rows: Sequence[RuleStats], *, start: float, end: float, step: float, flap_gap: float) -> str:
    return json.dumps({"start": _iso(start), "end": _iso(end), "step_seconds": step, "flap_gap_seconds": flap_gap,
                       "query": QUERY, "rules": [asdict(r) for r in rows]}, indent=2, default=str)


# -- command line -------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    from ..args import add_settings_flags

    p = argparse.ArgumentParser(prog="mlcall-tui report", description=__doc__.split("\n\n")[0])
    p.add_argument("--since", default="7d", help="how far back: 1h, 24h, 7d (default 7d)")
    p.add_argument("--flap-gap", default="5m", dest="flap_gap",
                   help="an alert that fires again within this gap counts once (default 5m)")
    p.add_argument("--min-step", default="15s", dest="min_step",
                   help="smallest range-query step; use your rule evaluation interval (default 15s)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--markdown", action="store_true")
    add_settings_flags(p)
    return p


async def fetch(settings: Any, start: float, end: float, step: float) -> list[Series]:
    from ..sources.http_config import prometheus_client
    from ..sources.prometheus_queries import RangeQuerier

    timeout = max(settings.timeout, 30.0)
    querier = RangeQuerier(settings.prometheus_url, timeout=timeout, client=prometheus_client(settings, timeout))
    try:
        result = await querier.query_range(QUERY, start, end, step)
    finally:
        await querier.aclose()
    if not result.ok:
        raise ReportError(f"Prometheus query failed ({result.error_type}): {result.error}")
    if result.partial:
        print("mlcall-tui report: warning: Prometheus answered PARTIAL data: " + "; ".join(result.warnings),
              file=sys.stderr)
    return list(result.series)


def main(argv: list[str]) -> int:
    from ..actions.audit import AuditLog
    from ..actions.silence_plan import parse_duration
    from ..args import settings_from
    from ..config import ConfigError

    args = _parser().parse_args(argv)
    try:
        since = parse_duration(args.since).total_seconds()
        gap = parse_duration(args.flap_gap).total_seconds()
        min_step = parse_duration(args.min_step).total_seconds()
        settings = settings_from(args)
    except (ValueError, ConfigError) as exc:
        print(f"mlcall-tui report: {exc}", file=sys.stderr)
        return 2
    if not settings.prometheus_url:
        print("mlcall-tui report: no Prometheus configured (--prometheus URL or MLCALL_PROMETHEUS_URL)", file=sys.stderr)
        return 2
    end = time.time()
    start = end - since
    step = step_for(since, min_step)
    try:
        series = asyncio.run(fetch(settings, start, end, step))
    except ReportError as exc:
        print(f"mlcall-tui report: {sanitize(exc, max_len=500)}", file=sys.stderr)
        return 1
    records = list(AuditLog(settings.audit_path, settings.author).records())
    rows = compute(series, records, start=start, end=end, step=step, flap_gap=gap, model_label=settings.model_label)
    if args.json:
        print(to_json(rows, start=start, end=end, step=step, flap_gap=gap))
    elif args.markdown:
        print(markdown(rows, since=args.since, source=redact_url(settings.prometheus_url)))
    else:
        print(table(rows) if rows else f"Nothing fired in the last {args.since}.")
    return 0
