"""Incidents: what fired and what was done about it (timeline, MTTA/MTTR, history report, fire drills).

UI-free like sources/ and actions/: nothing here imports textual (tests/unit/test_architecture.py).
"""

from __future__ import annotations

from typing import Mapping

DRILL_LABEL = "drill"  # drill="true": a synthetic alert posted by `mlcall-tui drill`
DRILL_ID = "drill_id"  # annotation tying a drill alert to its run (and the TUI's audit notes to it)

# Silence categories (dismiss vs. resolve): stored as `category` in the audit intent of a silence.
CATEGORIES = ("false-alarm", "known-issue", "fixed", "drill")
CATEGORY_LABELS = {"false-alarm": "false alarm", "known-issue": "known issue", "fixed": "fixed", "drill": "drill"}


def is_drill(labels: Mapping[str, str] | None) -> bool:
    return bool(labels) and str(labels.get(DRILL_LABEL, "")).lower() == "true"
