"""What changed around an alert: registry versions and alias moves, Deployment rollouts, pipeline runs."""

from __future__ import annotations

from dataclasses import dataclass

ALIAS, VERSION, ROLLOUT, DATA, TRAINING = "alias", "version", "rollout", "data", "training"


@dataclass(frozen=True)
class ChangeUndo:
    """What undoes one change: the registry alias back to `version`, or the Deployment back to `revision`."""

    kind: str  # "registry" | "deployment" (the rollback chooser's kinds)
    label: str  # "champion back to v6", "revision 1 of ml/fraud-detector"
    model: str = ""
    alias: str = ""
    version: str = ""
    namespace: str = ""
    name: str = ""
    revision: int = 0


@dataclass(frozen=True)
class Change:
    """One dated change. `at` is unix seconds; with `at_or_after` it is only a lower bound (the registry
    keeps no alias history: a move nobody recorded happened at or after the version's creation)."""

    at: float
    kind: str  # ALIAS | VERSION | ROLLOUT | DATA | TRAINING
    summary: str  # one line: "champion v6 → v7", "fraud-detector revision 2: image …:1.4"
    who: str = ""
    why: str = ""
    source: str = ""  # where it was read: "audit log", "MLflow registry", "Kubernetes" …
    at_or_after: bool = False
    undo: ChangeUndo | None = None


@dataclass(frozen=True)
class ChangeView:
    """The changes of one alert's model and Deployment (newest first), and which sources said nothing:
    `missing` (name, why not configured) and `errors` (name, why it failed)."""

    changes: tuple[Change, ...] = ()
    missing: tuple[tuple[str, str], ...] = ()
    errors: tuple[tuple[str, str], ...] = ()
    fetched_at: float = 0.0

    def within(self, start: float, end: float) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if start <= c.at <= end)
