"""Named incident scenarios for the synthetic model service (``mlcall-tui demo --scenario NAME``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only; keeps prometheus_client out of this import
    from oncall_tui.stack.model_service import ModelService


@dataclass(frozen=True)
class Incident:
    model: str
    kind: str  # one of model_service.INCIDENT_KINDS
    feature: str | None = None  # for kind == "drift"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    incidents: tuple[Incident, ...]
    alerts: tuple[str, ...]  # the alerts this scenario is expected to fire


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "default",
            "a bad night: slow fraud-detector, drifting and stale churn-predictor, failing recsys training",
            (
                Incident("fraud-detector", "latency"),
                Incident("churn-predictor", "drift", "account_age_days"),
                Incident("churn-predictor", "stale"),
                Incident("recsys-ranker", "training-failure"),
            ),
            ("ModelInferenceLatenessHigh", "DataDriftDetected", "ModelStalenessHigh", "TrainingJobFailed"),
        ),
        Scenario(
            "latency",
            "fraud-detector p95 inference latency ~4 s (threshold 2 s)",
            (Incident("fraud-detector", "latency"),),
            ("ModelInferenceLatenessHigh",),
        ),
        Scenario(
            "drift",
            "churn-predictor input feature account_age_days drifts (KS ~0.35 > 0.15)",
            (Incident("churn-predictor", "drift", "account_age_days"),),
            ("DataDriftDetected",),
        ),
        Scenario(
            "stale",
            "churn-predictor last trained 10 days ago (> 7)",
            (Incident("churn-predictor", "stale"),),
            ("ModelStalenessHigh",),
        ),
        Scenario(
            "training-failure",
            "recsys-ranker DVC training job keeps failing",
            (Incident("recsys-ranker", "training-failure"),),
            ("TrainingJobFailed",),
        ),
        Scenario(
            "push-error",
            "fraud-detector cannot push new versions to the MLflow registry",
            (Incident("fraud-detector", "push-error"),),
            ("ModelRegistryPushFailed",),
        ),
        Scenario(
            "all",
            "every one of the five alerts fires at once",
            (
                Incident("fraud-detector", "latency"),
                Incident("fraud-detector", "push-error"),
                Incident("churn-predictor", "drift", "account_age_days"),
                Incident("churn-predictor", "stale"),
                Incident("recsys-ranker", "training-failure"),
                Incident("recsys-ranker", "nan"),
            ),
            (
                "ModelInferenceLatenessHigh",
                "DataDriftDetected",
                "ModelStalenessHigh",
                "TrainingJobFailed",
                "ModelRegistryPushFailed",
            ),
        ),
        Scenario("calm", "no incident: every model healthy", (), ()),
    )
}

DESCRIPTIONS: dict[str, str] = {name: s.description for name, s in SCENARIOS.items()}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}") from None


def apply_scenario(service: ModelService, name: str) -> Scenario:
    """Clear every incident on ``service``, then switch on those of scenario ``name``."""
    scenario = get_scenario(name)
    service.clear()
    for inc in scenario.incidents:
        service.set_incident(inc.model, inc.kind, on=True, feature=inc.feature)
    return scenario
