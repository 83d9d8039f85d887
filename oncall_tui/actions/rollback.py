"""Roll a model back: move the registry's serving alias to another version (DESIGN §6, REFERENCE R11).

MLflow keeps no alias history and has no compare-and-set, so: plan (read the alias) → the user confirms
by typing the model name → audit intent (fsynced; no intent, no action) → re-read the alias and abort if
it moved → set it → read it back → tag the new version with the one it replaced (so a later rollback,
or an undo of this one, knows where to go) → audit result. Nothing is retried blindly: after a timeout
the alias is read back to find out what happened.

Blocking functions: call them from a worker thread. The Kubernetes Deployment rollback lives beside this
one (a separate module) and shares only the audit log.
"""

from __future__ import annotations

from ..models import RegistryRollbackPlan, RegistryRollbackResult
from ..sources.registry import (
    NOT_FOUND,
    PERMISSION_DENIED,
    UNAUTHENTICATED,
    UNCERTAIN_KINDS,
    RegistryError,
    RegistrySource,
    choose_previous,
    history_tag,
    undo_target,
    validate_alias,
)
from .audit import AuditError, AuditLog

ACTION = "registry.rollback"
LAST_MOVE_TAG = "mlcall.last_move."  # + alias: on the registered model, "v3→v2 by … (audit id)"


class PlanError(Exception):
    """There is nothing sensible to roll back to (or the registry could not be read); says why."""


def describe_error(exc: RegistryError, doing: str) -> str:
    """One clear line for the user about a registry error."""
    if exc.kind == PERMISSION_DENIED:
        return (f"permission denied while trying to {doing}: moving an alias needs EDIT permission on "
                f"the model in MLflow ({exc.message})")
    if exc.kind == UNAUTHENTICATED:
        return f"the registry wants credentials to {doing} (MLFLOW_TRACKING_TOKEN or USERNAME/PASSWORD)"
    if exc.kind == NOT_FOUND:
        return f"not found while trying to {doing}: {exc.message}"
    return f"could not {doing}: {exc}"


def plan_registry_rollback(source: RegistrySource, model: str, alias: str, *, prefer: str = "",
                           prefer_why: str = "") -> RegistryRollbackPlan:
    """Read the alias and the versions; choose the default target: `prefer` (the undo of the alert's
    likely trigger, oncall_tui/changes.py) when it is a READY version other than the current one, else
    `choose_previous`."""
    validate_alias(alias)
    try:
        registered = source.registered_model(model)
    except RegistryError as exc:
        if exc.kind == NOT_FOUND:
            raise PlanError(f"model {model!r} is not in the registry at {source.display_uri}") from None
        raise PlanError(describe_error(exc, f"read model {model}")) from None
    current = registered.aliases.get(alias)
    if current is None:
        raise PlanError(f"model {model!r} has no {alias!r} alias: nothing serves, nothing to roll back")
    try:
        versions = source.versions(model, aliases=dict(registered.aliases), runs_for=8)
    except RegistryError as exc:
        raise PlanError(describe_error(exc, f"list the versions of {model}")) from None
    candidates = tuple(v for v in versions if v.ready and v.version != current)
    if not candidates:
        raise PlanError(f"{model} has no other READY version than v{current}: nothing to roll back to")
    default, why = choose_previous(versions, current, alias)
    preferred = next((v for v in candidates if v.version == prefer), None) if prefer else None
    if preferred is not None:
        default, why = preferred, prefer_why or f"undoes the likely trigger (back to v{prefer})"
    elif prefer:
        why = f"{why}; the likely trigger's undo v{prefer} is not a READY version other than v{current}"
    undo = undo_target(versions, current, alias)
    return RegistryRollbackPlan(
        model=model, alias=alias, current=current,
        target=default.version if default else "", target_why=why if default else f"{why}: choose one",
        candidates=candidates, registry=source.display_uri, undo_of=undo.version if undo else "",
    )


def execute_registry_rollback(source: RegistrySource, audit: AuditLog, plan: RegistryRollbackPlan,
                              target: str, reason: str) -> RegistryRollbackResult:
    """Move `plan.alias` from `plan.current` to `target`, checked and audited. Never raises for the
    expected failures: the result says what happened (ok | failed | unknown, as audited)."""
    model, alias, before = plan.model, plan.alias, plan.current
    what = f"{alias} of {model}"
    # -- validate locally, before anything is recorded or sent ---------------------------------------
    if not reason.strip():
        return RegistryRollbackResult(False, "failed", "a reason is required: nothing was changed")
    if target not in {v.version for v in plan.candidates}:
        return RegistryRollbackResult(False, "failed", f"v{target} is not a READY version of {model} "
                                                       "offered by the plan: nothing was changed")
    audit_target = {"system": "mlflow", "registry": plan.registry, "model": model, "alias": alias}
    try:
        audit_id = audit.intent(ACTION, target=audit_target, reason=reason.strip(),
                                before={"alias": alias, "version": before}, planned={"version": target})
    except AuditError as exc:
        return RegistryRollbackResult(False, "failed", f"{exc}: the rollback was not run")

    def finish(outcome: str, message: str, after: str = "", error: str = "") -> RegistryRollbackResult:
        try:
            audit.result(audit_id, ACTION, outcome, after={"alias": alias, "version": after} if after else None,
                         error=error, target=audit_target)
        except AuditError as exc:
            message += f" (the audit result could not be written: {exc})"
        return RegistryRollbackResult(outcome == "ok", outcome, message, audit_id, before, after)

    # -- re-read: MLflow has no compare-and-set, so this is the check -------------------------------
    try:
        now = source.alias_version(model, alias)
    except RegistryError as exc:
        return finish("failed", describe_error(exc, f"re-read {what}") + ": nothing was changed", error=str(exc))
    if now != before:
        moved = f"v{now}" if now else "nowhere (it was removed)"
        return finish("failed", f"{what} moved from v{before} to {moved} since the plan was made (someone else "
                                f"changed it): nothing was changed. Open the rollback again to plan from there.",
                      after=now or "", error="alias moved concurrently")
    try:
        version = source.version(model, target, with_run=False)
    except RegistryError as exc:
        gone = f"v{target} of {model} no longer exists" if exc.kind == NOT_FOUND else describe_error(exc, f"read v{target}")
        return finish("failed", f"{gone}: nothing was changed", error=str(exc))
    if not version.ready:
        return finish("failed", f"v{target} is {version.status or 'not READY'}: nothing was changed",
                      error="target not ready")
    # -- set ----------------------------------------------------------------------------------------
    set_error: RegistryError | None = None
    try:
        source.set_alias(model, alias, target)
    except RegistryError as exc:
        if exc.kind not in UNCERTAIN_KINDS:  # refused (403, 404, invalid): nothing changed
            return finish("failed", describe_error(exc, f"move {what}") + ": nothing was changed", error=str(exc))
        set_error = exc  # it may or may not have been applied: look for its effect
    # -- read back ------------------------------------------------------------------------------------
    try:
        after = source.alias_version(model, alias)
    except RegistryError as exc:
        return finish("unknown", f"could not read {what} back ({exc}): the outcome is unknown; check the "
                                 f"registry before trying again", error=str(set_error or exc))
    if after != target:
        if set_error is not None and after == before:
            return finish("failed", describe_error(set_error, f"move {what}") + f": it still points to v{before}",
                          after=after or "", error=str(set_error))
        return finish("unknown", f"{what} reads back as v{after}, not v{target}: someone may be moving it at "
                                 "the same time; check the registry", after=after or "", error="read back differs")
    # -- history, so an undo or a later rollback knows where to go ---------------------------------------
    warning = ""
    try:
        source.set_version_tag(model, target, history_tag(alias), before)
        source.set_model_tag(model, history_tag(alias), before)
        source.set_model_tag(model, f"{LAST_MOVE_TAG}{alias}", f"v{before}→v{target} by {audit.actor} (audit {audit_id})")
    except RegistryError as exc:
        warning = (f"; the history tag could not be written ({exc.kind}), the audit log keeps the previous "
                   f"version (v{before})")
    return finish("ok", f"{what} moved from v{before} to v{target} (audit {audit_id}){warning}", after=target)
