"""Undo a Deployment's rollout the way `kubectl rollout undo` does — and the safe way (REFERENCE R10).

kubectl's algorithm (polymorphichelpers/rollback.go): the ReplicaSets the Deployment controls, their
`deployment.kubernetes.io/revision`, the default target the *previous* revision (second highest); refuse a
paused Deployment; skip if the target template already equals the current one (ignoring
`pod-template-hash`); drop `pod-template-hash` from the target template; keep the Deployment's own
revision/desired-replicas/max-replicas/last-applied annotations and copy the rest from the ReplicaSet;
a JSON Patch that replaces `/spec/template` and `/metadata/annotations`.

What kubectl does not do, done here: SelfSubjectAccessReviews before the action is offered (fail closed);
the target is pinned when the plan is made (a second undo does not flip back); a server-side dry run
(dryRun=All) whose result is shown as a diff of images/env/args; the patch carries the plan's
`metadata.resourceVersion` as a precondition, so a concurrent change gives a 409 that is shown (and the
plan re-read by the caller), never retried; a `kubernetes.io/change-cause` naming the reason and audit id;
audit intent before and result after; then the rollout is watched (`watch_rollout`).

Blocking functions: call them from a worker thread.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from ..models import (
    AccessReview,
    Deployment,
    DeploymentRollbackPlan,
    DeploymentRollbackResult,
    ReplicaSet,
    RolloutStatus,
    TemplateChange,
    freeze,
    thaw,
)
from ..safe_text import sanitize
from ..sources.cluster import CONFLICT, NOT_FOUND, UNCERTAIN_KINDS, ClusterError, ClusterSource
from ..sources.kube_decode import HASH_LABEL, REVISION
from .audit import AuditError, AuditLog

ACTION = "deployment.rollback"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# Annotations the Deployment keeps through a rollback (kubectl's annotationsToSkip).
KEEP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", REVISION,
                    "deployment.kubernetes.io/desired-replicas", "deployment.kubernetes.io/max-replicas")
# Needed for a rollback: read the Deployment, patch it, list its ReplicaSets.
ACCESS_CHECKS = (("get", "apps", "deployments"), ("patch", "apps", "deployments"), ("list", "apps", "replicasets"))


class PlanError(Exception):
    """There is nothing (safe) to roll back to, or the cluster could not be read; says why."""


def access(source: ClusterSource, namespace: str, name: str, *, fresh: bool = False) -> AccessReview:
    return source.access(namespace, name, ACCESS_CHECKS, fresh=fresh)


def denial(review: AccessReview) -> str:
    """One line saying why the rollback is not offered ("" when it is)."""
    if review.allowed:
        return ""
    if review.reason.startswith("could not check"):
        return review.reason
    return "not permitted: you cannot " + ", ".join(review.denied) + (f" ({review.reason})" if review.reason else "")


# -- kubectl's algorithm -----------------------------------------------------------------------------
def without_hash(template: Any) -> dict[str, Any]:
    """A plain copy of a pod template without the `pod-template-hash` label."""
    plain = thaw(template) if template else {}
    labels = (plain.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return plain


def rollback_annotations(deployment: Deployment, replica_set: ReplicaSet) -> dict[str, str]:
    annotations = {k: v for k, v in deployment.annotations.items() if k in KEEP_ANNOTATIONS}
    annotations.update({k: v for k, v in replica_set.annotations.items() if k not in KEEP_ANNOTATIONS})
    return annotations


def choose_target(deployment: Deployment, replica_sets: tuple[ReplicaSet, ...],
                  to_revision: int = 0) -> ReplicaSet:
    revisions = sorted({rs.revision for rs in replica_sets if rs.revision > 0}, reverse=True)
    if to_revision:
        found = next((rs for rs in replica_sets if rs.revision == to_revision), None)
        if found is None:
            raise PlanError(f"revision {to_revision} of {deployment.name} not found (kept: "
                            f"{', '.join(map(str, revisions)) or 'none'})")
        return found
    if len(revisions) < 2:
        raise PlanError(f"{deployment.name} has no previous revision to roll back to "
                        f"(ReplicaSets kept: {', '.join(map(str, revisions)) or 'none'})")
    return next(rs for rs in replica_sets if rs.revision == revisions[1])


def plan_rollback(source: ClusterSource, namespace: str, name: str, to_revision: int = 0) -> DeploymentRollbackPlan:
    try:
        deployment = source.deployment(namespace, name)
        replica_sets = source.replica_sets(deployment)
    except ClusterError as exc:
        if exc.kind == NOT_FOUND:
            raise PlanError(f"deployment {namespace}/{name} not found in {source.where}") from None
        raise PlanError(str(exc)) from None
    if deployment.paused:
        raise PlanError(f"{namespace}/{name} is paused: resume it before rolling back "
                        "(kubectl refuses too; a paused Deployment would not roll out)")
    target = choose_target(deployment, replica_sets, to_revision)
    template = without_hash(target.template)
    if template == without_hash(deployment.template):
        raise PlanError(f"{name} already runs the template of revision {target.revision}: nothing to roll back "
                        "(skipped, as kubectl does)")
    return DeploymentRollbackPlan(
        context=source.context, namespace=namespace, name=name, uid=deployment.uid,
        resource_version=deployment.resource_version, current_revision=deployment.revision,
        target_revision=target.revision, target_replica_set=target.name, target_template=freeze(template),
        annotations=freeze(rollback_annotations(deployment, target)),
        changes=diff_templates(deployment.template, template),
        candidates=tuple(rs for rs in replica_sets if rs.revision != deployment.revision),
    )


def patch_operations(plan: DeploymentRollbackPlan, change_cause: str = "") -> list[dict[str, Any]]:
    """The JSON Patch: the resourceVersion precondition first, then kubectl's two replacements."""
    annotations = dict(thaw(plan.annotations))
    if change_cause:
        annotations[CHANGE_CAUSE] = change_cause
    return [
        {"op": "replace", "path": "/metadata/resourceVersion", "value": plan.resource_version},
        {"op": "replace", "path": "/spec/template", "value": thaw(plan.target_template)},
        {"op": "add", "path": "/metadata/annotations", "value": annotations},
    ]


# -- what changes ------------------------------------------------------------------------------------
def _env(container: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for item in container.get("env") or ():
        name = str(item.get("name", ""))
        out[name] = str(item["value"]) if "value" in item else f"<from {', '.join(item.get('valueFrom') or {}) or '?'}>"
    return out


def _rest(template: dict[str, Any]) -> dict[str, Any]:
    """The template without what the diff shows field by field."""
    spec = dict(template.get("spec") or {})
    spec["containers"] = [{k: v for k, v in c.items() if k not in {"image", "env", "args", "command"}}
                          for c in spec.get("containers") or []]
    return {**template, "spec": spec}


def diff_templates(before: Any, after: Any) -> tuple[TemplateChange, ...]:
    """Images, env and args/command per container; anything else as one `other` line."""
    b, a = thaw(before) or {}, thaw(after) or {}
    b_containers = {c.get("name", ""): c for c in (b.get("spec") or {}).get("containers") or []}
    a_containers = {c.get("name", ""): c for c in (a.get("spec") or {}).get("containers") or []}
    changes: list[TemplateChange] = []
    for name in list(dict.fromkeys([*b_containers, *a_containers])):
        old, new = b_containers.get(name), a_containers.get(name)
        if old is None or new is None:
            changes.append(TemplateChange(name, "container", "absent" if old is None else "present",
                                          "absent" if new is None else "present"))
            continue
        if old.get("image") != new.get("image"):
            changes.append(TemplateChange(name, "image", str(old.get("image", "")), str(new.get("image", ""))))
        old_env, new_env = _env(old), _env(new)
        for key in sorted(set(old_env) | set(new_env)):
            if old_env.get(key) != new_env.get(key):
                changes.append(TemplateChange(name, f"env {key}", old_env.get(key, "(unset)"), new_env.get(key, "(unset)")))
        for field in ("args", "command"):
            if (old.get(field) or []) != (new.get(field) or []):
                changes.append(TemplateChange(name, field, " ".join(map(str, old.get(field) or [])) or "(none)",
                                              " ".join(map(str, new.get(field) or [])) or "(none)"))
    if _rest(b) != _rest(a):
        changes.append(TemplateChange("", "other", "pod template fields besides image/env/args differ", ""))
    return tuple(changes)


def dry_run(source: ClusterSource, plan: DeploymentRollbackPlan, current_template: Any = None) -> DeploymentRollbackPlan:
    """Send the patch with dryRun=All (admission runs, nothing is stored); the diff is what the server
    would store. A refusal is recorded in `plan.dry_run` (the caller must not offer the action then)."""
    from dataclasses import replace

    try:
        result = source.patch_deployment(plan.namespace, plan.name, patch_operations(plan, "dry run"), dry_run=True)
    except ClusterError as exc:
        if exc.kind == CONFLICT:
            return replace(plan, dry_run="the Deployment changed since the plan (409 Conflict): re-read the plan")
        return replace(plan, dry_run=f"refused by the API server: {exc}")
    try:
        before = current_template if current_template is not None else _current_template(source, plan)
    except ClusterError:
        return replace(plan, dry_run="ok")  # accepted; the plan's own diff stays
    return replace(plan, changes=diff_templates(before, result.template), dry_run="ok")


def _current_template(source: ClusterSource, plan: DeploymentRollbackPlan) -> Any:
    return source.deployment(plan.namespace, plan.name).template


# -- execute -----------------------------------------------------------------------------------------
def change_cause(plan: DeploymentRollbackPlan, reason: str, audit_id: str, actor: str) -> str:
    why = sanitize(reason.strip(), single_line=True, max_len=600)
    text = f"mlcall-tui rollback to revision {plan.target_revision} by {actor}: {why} (audit {audit_id})"
    return text[:1000]


def execute_rollback(source: ClusterSource, audit: AuditLog, plan: DeploymentRollbackPlan,
                     reason: str) -> DeploymentRollbackResult:
    """Audit intent → patch with the resourceVersion precondition → read back → audit result.
    Never raises for the expected failures: the result says what happened."""
    if not reason.strip():
        return DeploymentRollbackResult(False, "", "a reason is required: nothing was changed")
    if plan.dry_run not in {"", "ok"}:
        return DeploymentRollbackResult(False, "", f"the dry run was refused ({plan.dry_run}): nothing was changed")
    where = f"deployment {plan.namespace}/{plan.name}"
    target = {"system": "kubernetes", "context": plan.context, "server": source.server, "namespace": plan.namespace,
              "kind": "Deployment", "name": plan.name}
    try:
        audit_id = audit.intent(ACTION, target=target, reason=reason.strip(),
                                before={"resourceVersion": plan.resource_version, "revision": plan.current_revision},
                                planned={"revision": plan.target_revision, "replicaSet": plan.target_replica_set})
    except AuditError as exc:
        return DeploymentRollbackResult(False, "", f"{exc}: the rollback was not run")

    def finish(outcome: str, message: str, *, after: dict | None = None, error: str = "",
               conflict: bool = False, rv: str = "") -> DeploymentRollbackResult:
        try:
            audit.result(audit_id, ACTION, outcome, after=after, error=error, target=target)
        except AuditError as exc:
            message += f" (the audit result could not be written: {exc})"
        return DeploymentRollbackResult(outcome == "ok", outcome, message, audit_id, conflict, rv)

    cause = change_cause(plan, reason, audit_id, audit.actor)
    patch_error: ClusterError | None = None
    try:
        source.patch_deployment(plan.namespace, plan.name, patch_operations(plan, cause), audit_id=audit_id)
    except ClusterError as exc:
        if exc.kind == CONFLICT:
            return finish("failed", f"{where} changed since the plan was made (409 Conflict: resourceVersion "
                                    f"{plan.resource_version} is no longer current): nothing was changed. The plan "
                                    "was re-read: review it and confirm again.", error=str(exc), conflict=True)
        if exc.kind not in UNCERTAIN_KINDS:
            return finish("failed", f"the API server refused the rollback: {exc}: nothing was changed", error=str(exc))
        patch_error = exc  # it may or may not have been applied: look for its effect
    try:
        now = source.deployment(plan.namespace, plan.name)
    except ClusterError as exc:
        return finish("unknown", f"could not read {where} back ({exc}): the outcome is unknown; check the "
                                 "Deployment's change-cause for this audit id before trying again",
                      error=str(patch_error or exc))
    applied = audit_id in now.annotations.get(CHANGE_CAUSE, "")
    same = without_hash(now.template) == without_hash(plan.target_template)
    after = {"resourceVersion": now.resource_version, "generation": now.generation, "revision": plan.target_revision}
    if applied and same:
        return finish("ok", f"{where} rolled back from revision {plan.current_revision} to {plan.target_revision} "
                            f"(audit {audit_id}); watching the rollout", after=after, rv=now.resource_version)
    if patch_error is not None and now.resource_version == plan.resource_version:
        return finish("failed", f"{patch_error}: {where} is unchanged", error=str(patch_error))
    return finish("unknown", f"{where} reads back differently than planned (someone may be changing it at the "
                             "same time): check it before trying again", after=after, error=str(patch_error or "read back differs"))


def watch_rollout(source: ClusterSource, namespace: str, name: str, on_status: Callable[[RolloutStatus], Any], *,
                  stop: Callable[[], bool] = lambda: False, interval: float = 1.0, deadline: float = 900.0) -> RolloutStatus:
    """Poll the Deployment as `kubectl rollout status` does until done, failed (ProgressDeadlineExceeded),
    stopped or `deadline` seconds passed; every status goes to `on_status`."""
    started = time.monotonic()
    last = RolloutStatus(0, 0, 0, 0, False, message="waiting for the first status")
    while not stop():
        try:
            last = source.rollout(namespace, name)
        except ClusterError as exc:
            last = RolloutStatus(last.desired, last.updated, last.ready, last.available, last.observed,
                                 message=f"cannot read the rollout ({exc.kind}); retrying")
        on_status(last)
        if last.done or last.failed:
            return last
        if time.monotonic() - started > deadline:
            last = RolloutStatus(last.desired, last.updated, last.ready, last.available, last.observed,
                                 failed=True, message=f"still not finished after {deadline:.0f} s: {last.message}")
            on_status(last)
            return last
        end = time.monotonic() + interval
        while time.monotonic() < end and not stop():
            time.sleep(0.05)
    return last
