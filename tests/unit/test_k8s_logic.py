"""The pure parts of the Kubernetes feature: kubectl's rollback rules, the template diff, rollout status
as `kubectl rollout status` decides it, decoders that never raise, findings and the Markdown report."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_tui.actions.diagnose import Diagnosis, pod_findings, to_markdown, worst_pod
from oncall_tui.actions.k8s_rollback import (
    PlanError,
    choose_target,
    diff_templates,
    patch_operations,
    rollback_annotations,
    without_hash,
)
from oncall_tui.models import (
    ContainerState,
    DeploymentRollbackPlan,
    DeploymentView,
    Event,
    Finding,
    LogTail,
    Pod,
    freeze,
    utcnow,
)
from oncall_tui.sources.kube_decode import (
    decode_deployment,
    decode_event,
    decode_pod,
    decode_replica_set,
    log_lines,
    rollout_status,
)


def tmpl(image: str, hash_: str = "", **container) -> dict:
    labels = {"app": "x", **({"pod-template-hash": hash_} if hash_ else {})}
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": image, **container}]}}


def rs(revision: int, image: str, annotations: dict | None = None):
    return decode_replica_set({"metadata": {"name": f"d-{revision}", "annotations": {
        "deployment.kubernetes.io/revision": str(revision), **(annotations or {})}},
        "spec": {"template": tmpl(image, f"h{revision}")}})


def dep(revision: int, image: str, annotations: dict | None = None):
    return decode_deployment({"metadata": {"name": "d", "annotations": {
        "deployment.kubernetes.io/revision": str(revision), **(annotations or {})}},
        "spec": {"replicas": 2, "template": tmpl(image)}})


def test_the_default_target_is_the_second_highest_revision_and_a_chosen_one_is_kept():
    sets = (rs(7, "v7"), rs(5, "v5"), rs(6, "v6"))
    assert choose_target(dep(7, "v7"), sets).revision == 6
    assert choose_target(dep(7, "v7"), sets, to_revision=5).revision == 5
    with pytest.raises(PlanError, match="revision 4 .* not found"):
        choose_target(dep(7, "v7"), sets, to_revision=4)
    with pytest.raises(PlanError, match="no previous revision"):
        choose_target(dep(7, "v7"), (rs(7, "v7"),))


def test_pod_template_hash_is_dropped_and_the_template_otherwise_kept():
    template = without_hash(rs(3, "img:3").template)
    assert template == tmpl("img:3")
    assert without_hash(freeze(tmpl("img:3", "abc"))) == without_hash(tmpl("img:3"))


def test_annotations_follow_kubectl_keep_the_deployments_own_copy_the_rest_from_the_replica_set():
    deployment = dep(4, "v4", {"kubectl.kubernetes.io/last-applied-configuration": "{...}",
                               "deployment.kubernetes.io/desired-replicas": "2", "owner": "team-a"})
    replica_set = rs(2, "v2", {"kubernetes.io/change-cause": "release 2", "deployment.kubernetes.io/max-replicas": "9"})
    assert rollback_annotations(deployment, replica_set) == {
        "deployment.kubernetes.io/revision": "4", "kubectl.kubernetes.io/last-applied-configuration": "{...}",
        "deployment.kubernetes.io/desired-replicas": "2", "kubernetes.io/change-cause": "release 2"}


def test_the_patch_starts_with_the_resource_version_precondition():
    plan = DeploymentRollbackPlan("ctx", "ns", "d", "uid", "4711", 4, 2, "d-2", freeze(tmpl("v2")),
                                  freeze({"a": "b"}))
    ops = patch_operations(plan, "why (audit 1234)")
    assert ops[0] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "4711"}
    assert ops[1] == {"op": "replace", "path": "/spec/template", "value": tmpl("v2")}
    assert ops[2]["value"] == {"a": "b", "kubernetes.io/change-cause": "why (audit 1234)"}


def test_the_diff_names_images_env_and_args_and_flags_anything_else():
    before = tmpl("img:2", env=[{"name": "A", "value": "1"}, {"name": "S", "valueFrom": {"secretKeyRef": {}}}],
                  args=["--x"])
    after = tmpl("img:1", env=[{"name": "A", "value": "0"}])
    changes = {(c.field, c.before, c.after) for c in diff_templates(before, after)}
    assert changes == {("image", "img:2", "img:1"), ("env A", "1", "0"), ("env S", "<from secretKeyRef>", "(unset)"),
                       ("args", "--x", "(none)")}
    other = tmpl("img:1")
    other["spec"]["nodeSelector"] = {"gpu": "a100"}
    assert [c.field for c in diff_templates(tmpl("img:1"), other)] == ["other"]
    assert diff_templates(tmpl("img:1"), tmpl("img:1")) == ()


@pytest.mark.parametrize(("status", "generation", "expected"), [
    ({"observedGeneration": 3}, 4, ("waiting for the deployment spec update", False, False)),
    ({"observedGeneration": 4, "updatedReplicas": 1, "replicas": 3}, 4, ("1 of 3 new replicas", False, False)),
    ({"observedGeneration": 4, "updatedReplicas": 3, "replicas": 4}, 4, ("1 old replicas are pending", False, False)),
    ({"observedGeneration": 4, "updatedReplicas": 3, "replicas": 3, "availableReplicas": 2}, 4,
     ("2 of 3 updated replicas are available", False, False)),
    ({"observedGeneration": 4, "updatedReplicas": 3, "replicas": 3, "availableReplicas": 3}, 4,
     ("successfully rolled out", True, False)),
    ({"observedGeneration": 4, "conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded",
                                               "message": "timed out"}]}, 4,
     ("exceeded its progress deadline: timed out", False, True)),
])
def test_rollout_status_decides_as_kubectl_does(status, generation, expected):
    result = rollout_status({"metadata": {"generation": generation}, "spec": {"replicas": 3}, "status": status})
    assert expected[0] in result.message and (result.done, result.failed) == expected[1:]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_decoders_never_raise_on_odd_objects(raw):
    for decode in (decode_deployment, decode_replica_set, decode_pod, decode_event, rollout_status):
        decode(raw)
        decode({"metadata": raw, "spec": raw, "status": raw})


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=10))
def test_log_lines_are_bounded_and_free_of_control_characters(data, tail):
    lines = log_lines(data, tail)
    assert len(lines) <= tail
    assert not any(ch in line for line in lines for ch in "\x1b\x07\x9b\x00")


def test_findings_rank_oomkilled_and_crashloop_first_and_the_worst_pod_is_read_with_previous():
    now = utcnow()
    oom = Pod("d-1-a", "ns", "Running", "n1", containers=(ContainerState(
        "c", ready=True, restarts=3, state="running", last_reason="OOMKilled", last_exit_code=137,
        last_finished=now - timedelta(minutes=2)),))
    loop = Pod("d-1-b", "ns", "Running", "n2", containers=(ContainerState(
        "c", ready=False, restarts=9, state="waiting", reason="CrashLoopBackOff", last_reason="Error"),))
    view = DeploymentView(dep(1, "v1"), (), (oom, loop))
    findings = pod_findings(view)
    assert {f.severity for f in findings if "OOMKilled" in f.title or "CrashLoopBackOff" in f.title} == {"critical"}
    assert worst_pod(view) == (loop, "c", True)


def test_markdown_keeps_remote_text_inert():
    d = Diagnosis("Alert [x](http://evil)", "m", "ns", "d", "ctx (https://user:pw@host)",
                  (Finding("critical", "events", "<img src=x> **bold** `code`", "line\x1b]52;c;aGk=\x07"),),
                  (Event("Warning", "BackOff", "a | b", 3),), LogTail("p", "c", ("```", "ok")))
    text = to_markdown(d)
    assert "[x](http://evil)" not in text and "\\[x\\]\\(http://evil\\)" in text
    assert not re.search(r"(?<!\\)<img", text) and "\\<img src=x\\>" in text and "pw@" not in text
    assert "\x1b" not in text and "aGk=" not in text
    assert "a \\| b" in text and "````text\n```\nok\n````" in text


def test_a_crash_loop_is_shown_with_how_the_container_last_died_per_container():
    now = utcnow()
    oom = dict(last_reason="OOMKilled", last_exit_code=137, last_finished=now - timedelta(minutes=2))
    looping = ContainerState("server", state="waiting", reason="CrashLoopBackOff", restarts=9, **oom)
    assert looping.status_text(now) == "CrashLoopBackOff · last OOMKilled (137) 2m ago"
    assert ContainerState("server", state="running", ready=True, restarts=1, **oom).status_text(now) == \
        "last OOMKilled (137) 2m ago"
    assert ContainerState("server", state="running", ready=True).status_text(now) == ""
    assert ContainerState("s", state="waiting", reason="ImagePullBackOff").status_text(now) == "ImagePullBackOff"
    pod = Pod("d-1-a", "ns", "Running", "n1", containers=(
        ContainerState("sidecar", state="running", ready=True), looping))
    (finding,) = pod_findings(DeploymentView(dep(1, "v1"), (), (pod,)))[1:]  # after "0/3 available"
    assert finding.severity == "critical" and finding.title.startswith(
        "d-1-a/server: CrashLoopBackOff · last OOMKilled (exit 137) 2 min ago (9 restarts) on n1")
    assert "memory limit" in finding.detail
