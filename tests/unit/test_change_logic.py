"""The change source's logic on fixed inputs: which changes, dated how, with which undo; the trigger."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from oncall_tui import changes as ch
from oncall_tui.actions.audit import AuditLog
from oncall_tui.models import ChangeView, ModelVersion, ReplicaSet
from oncall_tui.models.changes import ALIAS, ROLLOUT, VERSION
from oncall_tui.ui.widgets.change_marks import MARK, MARK_AT_OR_AFTER, changes_section, marks

T0 = 1_800_000_000.0


def at(offset: float) -> datetime:
    return datetime.fromtimestamp(T0 + offset, timezone.utc)


def version(n: int, created: float, **tags: str) -> ModelVersion:
    return ModelVersion("m", str(n), "READY", created_at=at(created), tags=tags)


def moved(log: AuditLog, before: str, after: str, reason: str, *, ok: bool = True, model: str = "m") -> None:
    target = {"model": model, "alias": "champion"}
    audit_id = log.intent(ch.ROLLBACK_ACTION, target=target, reason=reason, before={"version": before})
    log.result(audit_id, ch.ROLLBACK_ACTION, "ok" if ok else "failed", after={"version": after}, target=target)


def test_a_move_by_this_tool_is_exact_with_who_why_and_its_undo(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", "alice")
    moved(log, "6", "7", "retrain")
    moved(log, "7", "5", "nope", ok=False)  # a failed move changed nothing: not a change
    moved(log, "1", "2", "other model", model="other")
    (record,) = [r for r in log.records() if r["phase"] == "result" and r["result"] == "ok"
                 and r["target"]["model"] == "m"]
    when = datetime.fromisoformat(record["ts"]).timestamp()
    versions = [version(7, -600, **{"mlcall.previous.champion": "6"}), version(6, -7200)]
    found = ch.registry_changes("m", "champion", {"champion": "7"}, versions, log.records())
    moves = [c for c in found if c.kind == ALIAS]
    assert len(moves) == 1  # the tag and the audit record are one move, and the alias still serves v7
    move = moves[0]
    assert (move.at, move.summary, move.who, move.why, move.at_or_after) == (when, "champion v6 → v7", "alice",
                                                                            "retrain", False)
    assert move.undo is not None and (move.undo.kind, move.undo.version) == ("registry", "6")
    assert ch.line(move) == "champion v6 → v7 by alice: retrain"
    assert sorted(c.summary for c in found if c.kind == VERSION) == ["m v6 registered (READY)", "m v7 registered (READY)"]


def test_a_move_by_another_client_is_at_or_after_and_names_only_what_is_known(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", "alice")
    # nothing recorded: the alias serves v7, moved at or after v7 was created, from an unknown version
    found = ch.registry_changes("m", "champion", {"champion": "7"}, [version(7, -600), version(6, -7200)], [])
    (move,) = [c for c in found if c.kind == ALIAS]
    assert (move.at, move.at_or_after, move.summary, move.undo) == (T0 - 600, True, "champion → v7", None)
    assert "previous version unknown" in move.why
    # this tool left it at v7 (recorded); now it serves v8: moved v7 → v8 at or after the later of both times
    moved(log, "6", "7", "retrain")
    found = ch.registry_changes("m", "champion", {"champion": "8"},
                                [version(8, -900), version(7, -600), version(6, -7200)], log.records())
    other = [c for c in found if c.kind == ALIAS and c.at_or_after]
    assert [c.summary for c in other] == ["champion v7 → v8"]
    assert other[0].at >= max(c.at for c in found if c.kind == ALIAS and not c.at_or_after)
    assert other[0].undo.version == "7"
    # a move this tool made from another machine: the version's history tag and the model's last-move tag
    found = ch.registry_changes("m", "champion", {"champion": "7"},
                                [version(7, -600, **{"mlcall.previous.champion": "6"}), version(6, -7200)], [],
                                {"mlcall.last_move.champion": "v6→v7 by bob@host (audit 1a2b3c4d)"})
    (move,) = [c for c in found if c.kind == ALIAS]
    assert (move.summary, move.who, move.at_or_after, move.at, move.undo.version) == (
        "champion v6 → v7", "bob@host", True, T0 - 600, "6")


def test_rollouts_are_dated_by_replicaset_creation_and_undo_to_the_revision_before():
    rs = [ReplicaSet("d-b", "ml", revision=2, created_at=at(-300), images=("registry/x/fraud:1.4",),
                     annotations={"kubernetes.io/change-cause": "deploy 1.4"}),
          ReplicaSet("d-a", "ml", revision=1, created_at=at(-86400), images=("registry/x/fraud:1.3",))]
    found = ch.rollout_changes("ml", "d", rs)
    assert [(c.kind, c.summary, c.why) for c in found] == [
        (ROLLOUT, "d revision 1 (fraud:1.3)", ""), (ROLLOUT, "d revision 2 (fraud:1.4)", "deploy 1.4")]
    assert found[0].undo is None and found[1].undo.revision == 1 and found[1].undo.kind == "deployment"


def test_the_likely_trigger_is_the_nearest_serving_change_before_the_start():
    changes = (
        ch.Change(T0 - 60, VERSION, "m v9 registered"),  # registering changes nothing that serves
        ch.Change(T0 - 240, ALIAS, "champion v6 → v7", who="alice"),
        ch.Change(T0 - 900, ROLLOUT, "d revision 2"),
        ch.Change(T0 + 30, ROLLOUT, "d revision 3"),  # after the start: not a trigger
    )
    view = ChangeView(changes)
    trigger = ch.likely_trigger(view, T0)
    assert trigger.summary == "champion v6 → v7"
    assert ch.trigger_line(trigger, T0) == "likely trigger: champion v6 → v7 by alice, 4 min before the alert"
    assert ch.likely_trigger(view, None) is None and ch.likely_trigger(ChangeView(), T0) is None
    assert [ch.relative(s) for s in (-240, 30, -3900, -2 * 86400 - 3600)] == ["−4m", "+30s", "−1h05m", "−2d1h"]


def test_marks_sit_in_the_column_of_their_time_and_the_glyph_says_exact_or_lower_bound():
    view = ChangeView((ch.Change(T0 - 240, ALIAS, "a"), ch.Change(T0 - 600, ALIAS, "b", at_or_after=True),
                       ch.Change(T0 - 5000, ROLLOUT, "outside")))
    row = marks(view.changes, T0 - 900, T0, 30)  # 30 s per column
    assert row.plain.index(MARK) == 22 and row.plain.index(MARK_AT_OR_AFTER) == 10
    assert row.plain.count(MARK) + row.plain.count(MARK_AT_OR_AFTER) == 2 and len(row.plain) == 30
    text = changes_section(view, T0 - 900, T0, T0, 80).plain.splitlines()
    assert text[1].startswith(f"{MARK}    −4m  a") and text[2].startswith(f"{MARK_AT_OR_AFTER}  ≥−10m  b")


def test_a_failing_source_is_named_and_the_others_still_count():
    class Broken:
        name = "Kubernetes"

        def changes(self, target):
            raise RuntimeError("connection refused")

    class One:
        name = "audit log"

        def changes(self, target):
            return [ch.Change(T0, ALIAS, "champion v1 → v2")]

    providers, missing = ch.optional_providers(object())
    assert [name for name, _ in missing] == list(ch.OPTIONAL_SOURCES) and not providers
    service = ch.ChangeService([Broken(), One()], missing)
    view = service.collect(ch.Target("m", "champion", "ml", "d"))
    assert [c.summary for c in view.changes] == ["champion v1 → v2"]
    assert view.errors == (("Kubernetes", "RuntimeError: connection refused"),)
    assert ("DVC metrics commits", "not configured") in view.missing
    assert service.cached(ch.Target("m", "champion", "ml", "d")) is view


def test_how_the_alias_reached_the_version_this_tool_moved_it_from_is_an_unrecorded_move(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", "alice")
    moved(log, "2", "3", "retrain")  # the alias was at v2 then: someone moved it there, unrecorded
    now = time.time() - T0  # versions created before the move
    versions = [version(3, now - 300), version(2, now - 600), version(1, now - 900)]
    found = ch.registry_changes("m", "champion", {"champion": "3"}, versions, log.records())
    summaries = {c.summary: c for c in found if c.kind == ALIAS}
    assert set(summaries) == {"champion v2 → v3", "champion → v2"}
    other = summaries["champion → v2"]
    assert other.at_or_after and other.at == pytest.approx(T0 + now - 600, abs=1e-3) and other.undo is None
