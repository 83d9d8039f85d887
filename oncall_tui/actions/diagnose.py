"""Diagnose an alert's model: checks run concurrently and turn into findings ordered by severity.

Checks: the Deployment's pods (restarts, termination reasons such as OOMKilled and CrashLoopBackOff,
readiness, a stuck rollout), the warning events of the Deployment, its ReplicaSets and pods (reason,
message, count, age), the last lines of the worst pod's log (bounded on the server with tailLines and
limitBytes, control sequences stripped), plus the live PromQL checks (the signal service of the metrics
feature) and the registry facts (MLflow), when those are configured. No textual here; `to_markdown`
renders a result for the incident notes.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable

from ..models import (
    DeploymentView,
    Event,
    Finding,
    LogTail,
    ModelServing,
    Pod,
    SignalView,
    utcnow,
)
from ..safe_text import redact_url, sanitize
from ..sources.cluster import ClusterError, ClusterSource

TAIL_LINES = 50
LIMIT_BYTES = 64 * 1024
MAX_EVENTS = 15
SEVERITIES = ("critical", "warning", "info", "ok")
BAD_WAITING = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
               "CreateContainerError", "InvalidImageName", "RunContainerError"}
BAD_TERMINATED = {"OOMKilled", "Error", "ContainerCannotRun", "DeadlineExceeded"}
ERROR_LINE = re.compile(r"\b(error|exception|traceback|fatal|panic|killed|out of memory)\b", re.IGNORECASE)
CHECKS = {"pods": "pods and restarts", "events": "warning events", "logs": "log tail",
          "promql": "live PromQL checks", "registry": "registry facts"}


@dataclass(frozen=True)
class Diagnosis:
    alert: str
    model: str
    namespace: str
    deployment: str
    context: str = ""
    findings: tuple[Finding, ...] = ()
    events: tuple[Event, ...] = ()
    log: LogTail | None = None
    checks: tuple[tuple[str, str], ...] = ()  # (check, "ok" | "failed: …" | "skipped: …")
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None


def ordered(findings: list[Finding]) -> tuple[Finding, ...]:
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return tuple(sorted(findings, key=lambda f: (rank.get(f.severity, len(rank)), f.check)))


def ago(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "?"
    seconds = max(0.0, ((now or utcnow()) - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


# -- findings from what the checks read (pure functions) ---------------------------------------------
def pod_findings(view: DeploymentView) -> list[Finding]:
    d = view.deployment
    out: list[Finding] = []
    progressing = d.condition("Progressing")
    if progressing and progressing[2] == "ProgressDeadlineExceeded":
        out.append(Finding("critical", "pods", f"rollout of {d.name} exceeded its progress deadline", progressing[3]))
    if d.paused:
        out.append(Finding("info", "pods", f"{d.name} is paused: rollouts (and rollbacks) do not proceed"))
    if d.available_replicas < d.replicas:
        out.append(Finding("critical" if d.available_replicas == 0 else "warning", "pods",
                           f"{d.available_replicas}/{d.replicas} replicas available",
                           f"{d.ready_replicas} ready, {d.updated_replicas} updated to revision {d.revision}"))
    for pod in view.pods:
        out.extend(_pod(pod))
    if not out:
        out.append(Finding("ok", "pods", f"{len(view.pods)} pods, {d.available_replicas}/{d.replicas} available, "
                                         "no restarts"))
    return out


OOM_HINT = "the container hit its memory limit: check requests/limits and the model's footprint"


def _last_death(c) -> str:
    code = f" (exit {c.last_exit_code})" if c.last_exit_code is not None else ""
    return f"last {c.last_reason}{code} {ago(c.last_finished)} ago"


def _pod(pod: Pod) -> list[Finding]:
    out = []
    where = f" on {pod.node}" if pod.node else ""
    for c in pod.containers:
        name = f"{pod.name}/{c.name}" if len(pod.containers) > 1 else pod.name
        looping = c.state == "waiting" and c.reason in BAD_WAITING
        oom = c.last_reason == "OOMKilled" or (c.state == "terminated" and c.reason == "OOMKilled")
        if looping:
            # A crash loop's cause is how the previous instance died: both on one line.
            cause = f" · {_last_death(c)}" if c.last_reason else ""
            out.append(Finding("critical", "pods", f"{name}: {c.reason}{cause} ({c.restarts} restarts){where}",
                               OOM_HINT if oom else c.message))
        elif oom:
            out.append(Finding("critical", "pods", f"{name} was OOMKilled (exit {c.last_exit_code or 137}) "
                                                   f"{ago(c.last_finished)} ago; {c.restarts} restarts", OOM_HINT))
        elif c.last_reason in BAD_TERMINATED:
            out.append(Finding("warning", "pods", f"{name} last terminated: {c.last_reason} (exit "
                                                  f"{c.last_exit_code}) {ago(c.last_finished)} ago; {c.restarts} restarts"))
        elif c.restarts:
            out.append(Finding("warning", "pods", f"{name}: {c.restarts} restarts" +
                               (f", last: {c.last_reason}" if c.last_reason else "")))
    if pod.phase not in {"Running", "Succeeded"} or (pod.phase == "Running" and not pod.ready and not out):
        out.append(Finding("warning", "pods", f"{pod.name} is {pod.phase or 'unknown'}"
                                              f"{'' if pod.ready else ', not ready'}{where}"))
    return out


def event_findings(events: tuple[Event, ...], now: datetime | None = None) -> list[Finding]:
    return [Finding("warning", "events", f"{e.reason} on {e.kind}/{e.object_name} ×{e.count}, "
                                         f"{ago(e.last_seen, now)} ago", e.message) for e in events[:MAX_EVENTS]]


def worst_pod(view: DeploymentView) -> tuple[Pod, str, bool] | None:
    """(pod, container, previous?) whose log to read: crash-looping first, then most restarts, not ready."""
    candidates = []
    for pod in view.pods:
        for c in pod.containers:
            bad = c.state == "waiting" and c.reason in BAD_WAITING
            candidates.append(((bad, c.restarts, not c.ready, pod.name), pod, c))
    if not candidates:
        return None
    _, pod, c = max(candidates, key=lambda item: item[0])
    return pod, c.name, bool(c.restarts) and c.state != "running"


def log_findings(log: LogTail) -> list[Finding]:
    if log.error:
        return [Finding("warning", "logs", f"log of {log.pod} unavailable", log.error)]
    errors = [line for line in log.lines if ERROR_LINE.search(line)]
    which = "previous (crashed) instance" if log.previous else "current instance"
    title = f"last {len(log.lines)} log lines of {log.pod}/{log.container} ({which})"
    if errors:
        return [Finding("warning", "logs", f"{len(errors)} error lines in the {title}", errors[-1])]
    return [Finding("info", "logs", title)]


_OPS: dict[str, Callable[[float, float], bool]] = {">": lambda v, t: v > t, ">=": lambda v, t: v >= t,
                                                   "<": lambda v, t: v < t, "<=": lambda v, t: v <= t,
                                                   "==": lambda v, t: v == t, "!=": lambda v, t: v != t}


def signal_findings(view: SignalView) -> list[Finding]:
    """The current value of each chart against its threshold (the metrics feature's live checks)."""
    out = []
    for chart in view.charts:
        if not chart.result.ok:
            out.append(Finding("warning", "promql", f"{chart.title}: query failed ({chart.result.error_type})",
                               chart.result.error))
            continue
        last = chart.series.last() if chart.series else None
        if last is None:
            out.append(Finding("info", "promql", f"{chart.title}: no data", chart.note))
            continue
        value = last[1]
        shown = f"{value:.4g}{(' ' + chart.unit) if chart.unit else ''}"
        partial = " (PARTIAL answer)" if chart.result.partial else ""
        if chart.threshold is None or chart.op not in _OPS or math.isnan(value):
            out.append(Finding("info", "promql", f"{chart.title} = {shown}{partial}", chart.result.query))
        elif _OPS[chart.op](value, chart.threshold):
            severity = "critical" if chart.key == "signal" else "warning"
            out.append(Finding(severity, "promql", f"{chart.title} = {shown} {chart.op} {chart.threshold:g}{partial}",
                               chart.result.query))
        else:
            out.append(Finding("ok", "promql", f"{chart.title} = {shown}, within {chart.op} {chart.threshold:g}"
                                               f"{partial}", chart.result.query))
    if view.note:
        out.append(Finding("info", "promql", view.note))
    return out


def registry_findings(serving: ModelServing) -> list[Finding]:
    alias = serving.alias
    if serving.serving is None:
        return [Finding("warning", "registry", f"{serving.model.name} has no '{alias}' alias: nothing serves from "
                                               "the registry")]
    current = serving.serving
    trained = current.trained_at or current.created_at
    out = [Finding("info", "registry", f"{alias} → v{current.version} ({current.status or '?'}), "
                                       f"{'trained' if current.trained_at else 'registered'} {ago(trained)} ago")]
    if serving.previous is not None:
        out.append(Finding("info", "registry", f"previous version: v{serving.previous.version}", serving.previous_why))
    return out


# -- running the checks --------------------------------------------------------------------------------
Progress = Callable[[str, str], None]  # (check, "running" | "ok" | "failed: …" | "skipped: …")


async def diagnose(*, alert: str, model: str, namespace: str, deployment: str,
                   cluster: ClusterSource | None, cluster_problem: str = "",
                   promql: Callable[[], Awaitable[list[Finding]]] | None = None,
                   registry: Callable[[], list[Finding]] | None = None,
                   progress: Progress = lambda check, state: None,
                   tail_lines: int = TAIL_LINES, limit_bytes: int = LIMIT_BYTES) -> Diagnosis:
    """Run every check at once (blocking clients in threads); a failing check becomes a finding."""
    findings: list[Finding] = []
    states: dict[str, str] = {}
    found: dict[str, Any] = {}

    def mark(check: str, state: str) -> None:
        states[check] = state
        progress(check, state)

    async def run(check: str, body: Callable[[], Awaitable[list[Finding]]]) -> None:
        mark(check, "running")
        try:
            findings.extend(await body())
        except ClusterError as exc:
            findings.append(Finding("warning", check, f"{CHECKS[check]}: {exc.kind}", exc.message))
            mark(check, f"failed: {exc}")
            return
        except Exception as exc:  # a check's bug must not hide the other checks
            findings.append(Finding("warning", check, f"{CHECKS[check]} failed: {type(exc).__name__}", str(exc)))
            mark(check, f"failed: {type(exc).__name__}: {exc}")
            return
        mark(check, "ok")

    async def cluster_checks() -> None:
        view_box: dict[str, DeploymentView] = {}

        async def pods() -> list[Finding]:
            view_box["view"] = await asyncio.to_thread(cluster.view, namespace, deployment)
            return pod_findings(view_box["view"])

        await run("pods", pods)
        view = view_box.get("view")
        if view is None:
            for check in ("events", "logs"):
                mark(check, "skipped: the Deployment could not be read")
            return

        async def events() -> list[Finding]:
            objects = {("Deployment", deployment)} | {("ReplicaSet", rs.name) for rs in view.replica_sets}
            objects |= {("Pod", p.name) for p in view.pods}
            found["events"] = await asyncio.to_thread(cluster.warning_events, namespace, objects)
            return event_findings(found["events"])

        async def logs() -> list[Finding]:
            worst = worst_pod(view)
            if worst is None:
                return [Finding("info", "logs", "no pods: no log to read")]
            pod, container, previous = worst
            try:
                log = await asyncio.to_thread(cluster.log_tail, namespace, pod.name, container,
                                              tail_lines=tail_lines, limit_bytes=limit_bytes, previous=previous)
            except ClusterError:
                if not previous:
                    raise
                log = await asyncio.to_thread(cluster.log_tail, namespace, pod.name, container,
                                              tail_lines=tail_lines, limit_bytes=limit_bytes)
            found["log"] = log
            return log_findings(log)

        await asyncio.gather(run("events", events), run("logs", logs))

    jobs = []
    if cluster is not None and deployment:
        jobs.append(cluster_checks())
    else:
        why = cluster_problem or ("no Kubernetes cluster configured" if cluster is None else "no deployment label")
        findings.append(Finding("info", "pods", f"Kubernetes checks skipped: {why}"))
        for check in ("pods", "events", "logs"):
            mark(check, f"skipped: {why}")
    if promql is not None:
        jobs.append(run("promql", promql))
    else:
        mark("promql", "skipped: Prometheus not configured")
    if registry is not None:
        jobs.append(run("registry", lambda: asyncio.to_thread(registry)))
    else:
        mark("registry", "skipped: MLflow registry not configured")
    await asyncio.gather(*jobs)
    return Diagnosis(alert, model, namespace, deployment, cluster.where if cluster else "", ordered(findings),
                     found.get("events", ()), found.get("log"), tuple(states.items()), finished_at=utcnow())


# -- Markdown for the incident notes ----------------------------------------------------------------
def _md(text: object) -> str:
    """Remote text as inert Markdown: no control sequences, no HTML, no links or emphasis."""
    plain = sanitize(text, max_len=2000, single_line=True)
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", plain)


def to_markdown(d: Diagnosis) -> str:
    when = d.finished_at or d.started_at
    lines = [f"# Diagnosis: {_md(d.alert or d.model)}", "",
             f"- when: {when:%Y-%m-%d %H:%M:%S UTC}",
             f"- model: {_md(d.model) or '-'}; deployment: {_md(d.namespace)}/{_md(d.deployment) or '-'}",
             f"- cluster: {_md(redact_url(d.context)) or '-'}", "", "## Findings", ""]
    for f in d.findings:
        lines.append(f"- **{f.severity.upper()}** [{f.check}] {_md(f.title)}")
        if f.detail:
            lines.append(f"  - {_md(f.detail)}")
    lines += ["", "## Checks", ""] + [f"- {check}: {_md(state)}" for check, state in d.checks]
    if d.events:
        lines += ["", "## Warning events", "", "| age | object | reason | count | message |", "|---|---|---|---|---|"]
        for e in d.events[:MAX_EVENTS]:
            lines.append(f"| {ago(e.last_seen, when)} | {_md(e.kind)}/{_md(e.object_name)} | {_md(e.reason)} "
                         f"| {e.count} | {_md(e.message)} |")
    if d.log is not None and d.log.lines:
        body = "\n".join(d.log.lines)
        fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", body)), default=0))
        lines += ["", f"## Log tail: {_md(d.log.pod)}/{_md(d.log.container)}"
                      f"{' (previous instance)' if d.log.previous else ''}", "", fence + "text", body, fence]
    return "\n".join(lines) + "\n"
