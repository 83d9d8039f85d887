"""What a source returns: plain metric families (no prometheus_client objects, no JSON), and the names.

Metric and label names follow Prometheus' rules (`[a-zA-Z_:][a-zA-Z0-9_:]*`, labels without `:`);
`metric_name` turns any key (a DVC metric path, say) into one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

GAUGE, COUNTER = "gauge", "counter"
_INVALID = re.compile(r"[^a-zA-Z0-9_]+")


def metric_name(*parts: str) -> str:
    """`("dvc_metric", "data-drift.KS")` → `dvc_metric_data_drift_ks`: lower case, `_` for anything else."""
    joined = "_".join(p for p in (_INVALID.sub("_", str(part)).strip("_") for part in parts) if p)
    name = re.sub(r"_+", "_", joined).lower()
    if not name or name[0].isdigit():
        name = f"_{name}"
    return name


@dataclass(frozen=True)
class Family:
    """One metric family: `samples` holds (label values in `labels` order, value)."""

    name: str
    kind: str
    help: str
    labels: tuple[str, ...]
    samples: tuple[tuple[tuple[str, ...], float], ...] = field(default=())


class FamilyBuilder:
    """Collects samples by family name (first help/kind wins); skips NaN/inf and non-numbers."""

    def __init__(self) -> None:
        self._families: dict[str, tuple[str, str, tuple[str, ...], dict[tuple[str, ...], float]]] = {}

    def add(self, name: str, kind: str, help_text: str, labels: dict[str, str], value: object) -> None:
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return
        if isinstance(value, bool) or not math.isfinite(number):
            return
        names = tuple(labels)
        entry = self._families.setdefault(name, (kind, help_text, names, {}))
        if entry[2] != names:  # same name, other label set: Prometheus refuses that; keep the first
            return
        entry[3][tuple(str(labels[n]) for n in names)] = number

    def build(self) -> list[Family]:
        return [
            Family(name, kind, help_text, names, tuple(sorted(samples.items())))
            for name, (kind, help_text, names, samples) in sorted(self._families.items())
        ]
