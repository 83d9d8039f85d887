"""Seed a registry with the synthetic model service's models, so the model panel and the registry
rollback have something real to show (`mlcall-tui demo` and the integration tests).

Each version gets a tracking run (with metrics, a start/end time in the past, no artifacts) and is
registered from `runs:/<run_id>/model`; `champion` points at the newest good version. Idempotent:
a model that already exists is left as it is.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

DAY_MS = 86_400_000


@dataclass(frozen=True)
class SeedVersion:
    trained_days_ago: float
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SeedModel:
    name: str
    versions: tuple[SeedVersion, ...]
    aliases: dict[str, int]  # alias -> version number (1-based)
    description: str = ""


MODELS = (
    SeedModel(
        "fraud-detector",
        (
            SeedVersion(30, {"val_accuracy": 0.912, "val_auc": 0.951}),
            SeedVersion(16, {"val_accuracy": 0.934, "val_auc": 0.962}, {"git_commit": "4c1d2e9"}),
            SeedVersion(2, {"val_accuracy": 0.941, "val_auc": 0.958}, {"git_commit": "a81f07b"}),
        ),
        {"champion": 3},
        "Card-transaction fraud classifier",
    ),
    SeedModel(
        "churn-predictor",
        (
            SeedVersion(40, {"val_accuracy": 0.861}),
            SeedVersion(25, {"val_accuracy": 0.874, "val_f1": 0.702}),
            SeedVersion(9, {"val_accuracy": 0.881, "val_f1": 0.719}),
            SeedVersion(1, {"val_accuracy": 0.879, "val_f1": 0.731}),
        ),
        {"champion": 3, "challenger": 4},
        "Monthly churn propensity",
    ),
    SeedModel(
        "recsys-ranker",
        (
            SeedVersion(12),  # no metrics logged: the panel must cope
            SeedVersion(5, {"val_ndcg_at_10": 0.412}),
        ),
        {"champion": 2},
        "Home-feed ranker",
    ),
)


@contextmanager
def _quiet_env():
    """While seeding: bounded requests and no "View run at" lines; the user's environment afterwards
    (the app configures its own, shorter timeouts later in the same process)."""
    wanted = {
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    saved = {name: os.environ.get(name) for name in wanted}
    for name, value in wanted.items():
        os.environ.setdefault(name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _experiment(client, name: str) -> str:
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found is not None else client.create_experiment(name)


def seed_model(client, model: SeedModel, *, now_ms: int | None = None) -> dict[str, str]:
    """Create `model` with its versions and aliases unless it exists; returns its aliases."""
    with _quiet_env():
        return _seed_model(client, model, now_ms)


def _seed_model(client, model: SeedModel, now_ms: int | None) -> dict[str, str]:
    from mlflow.entities import Metric
    from mlflow.exceptions import MlflowException

    try:
        existing = client.get_registered_model(model.name)
        return dict(existing.aliases or {})
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    experiment_id = _experiment(client, model.name)
    client.create_registered_model(model.name, description=model.description)
    for i, spec in enumerate(model.versions, start=1):
        end = now_ms - int(spec.trained_days_ago * DAY_MS)
        start = end - 40 * 60_000  # a 40-minute training job
        run = client.create_run(
            experiment_id,
            start_time=start,
            run_name=f"{model.name}-train-{i}",
            tags={"mlflow.user": "training-pipeline"},
        )
        run_id = run.info.run_id
        if spec.metrics:
            client.log_batch(run_id, metrics=[Metric(k, v, end, 0) for k, v in spec.metrics.items()])
        client.set_terminated(run_id, "FINISHED", end_time=end)
        client.create_model_version(
            model.name,
            source=f"runs:/{run_id}/model",
            run_id=run_id,
            tags=dict(spec.tags),
            await_creation_for=0,
        )
    for alias, number in model.aliases.items():
        client.set_registered_model_alias(model.name, alias, str(number))
    return {alias: str(number) for alias, number in model.aliases.items()}


def seed(uri: str, models: tuple[SeedModel, ...] = MODELS) -> dict[str, dict[str, str]]:
    """Seed the registry at `uri` (a 127.0.0.1 URI: MLflow ≥ 3.5 rejects unknown Host headers).

    Returns {model: {alias: version}}. The demo calls `seed(stack.mlflow_uri)`.
    """
    with _quiet_env():
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        return {model.name: seed_model(client, model) for model in models}
