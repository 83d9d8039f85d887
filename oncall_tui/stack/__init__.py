"""Real servers on loopback for the demo and the tests: ``LocalStack`` and its pieces.

Importing this package does not import ``prometheus_client`` (a demo/test extra) nor ``textual``.
"""

from oncall_tui.stack.binaries import BinaryNotFound
from oncall_tui.stack.local import LocalStack
from oncall_tui.stack.processes import StackError
from oncall_tui.stack.scenarios import DESCRIPTIONS, SCENARIOS, Scenario, apply_scenario
from oncall_tui.stack.webhook_sink import WebhookSink

__all__ = [
    "DESCRIPTIONS",
    "SCENARIOS",
    "BinaryNotFound",
    "LocalStack",
    "Scenario",
    "StackError",
    "WebhookSink",
    "apply_scenario",
]
