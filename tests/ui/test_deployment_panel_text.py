"""The Deployment panel's text for a crash-looping pod (pure rendering; the panel against kmock is in
tests/integration/test_cluster_more.py): the waiting reason and the last death on the pod's own line,
per container, the container named when the pod has several."""

from __future__ import annotations

from datetime import timedelta

from oncall_tui.models import ContainerState, Deployment, DeploymentView, Pod, utcnow
from oncall_tui.ui.widgets.deployment_panel import describe_view


def test_each_troubled_container_gets_a_line_with_its_state_and_last_death():
    now = utcnow()
    looping = ContainerState("server", state="waiting", reason="CrashLoopBackOff", restarts=9,
                             last_reason="OOMKilled", last_exit_code=137, last_finished=now - timedelta(seconds=150))
    sidecar = ContainerState("proxy", state="running", ready=True, restarts=1, last_reason="Error", last_exit_code=1,
                             last_finished=now - timedelta(hours=3, minutes=5))
    pods = (Pod("fraud-abc-x1", "ml", "Running", "node-a", owner="fraud-abc", containers=(looping, sidecar)),
            Pod("fraud-abc-y2", "ml", "Running", "node-b", owner="fraud-abc",
                containers=(ContainerState("server", state="running", ready=True),)))
    view = DeploymentView(Deployment("fraud", "ml", replicas=2, available_replicas=1), (), pods, "emulated-kmock")
    lines = describe_view(view, now).plain.splitlines()
    at = lines.index("abc-x1 Running not ready ↻10 @node-a")
    assert lines[at + 1:at + 3] == ["  server: CrashLoopBackOff · last OOMKilled (137) 2m ago",
                                    "  proxy: last Error (1) 3h05m ago"]
    assert lines[at + 3] == "abc-y2 Running ↻0 @node-b"  # a healthy pod: one line
    assert "(emulated-kmock)" in lines[0]
