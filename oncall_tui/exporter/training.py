"""For training code: record a failed registry push so `ModelRegistryPushFailed` can fire.

```python
from oncall_tui.exporter.training import recording_push_errors

with recording_push_errors("fraud-detector"):
    mlflow.register_model(f"runs:/{run.info.run_id}/model", "fraud-detector")
```

If the block raises, the run (the active one, or `run_id=`) gets the tags `mlcall.registry_push_error
= "true"` and `mlcall.registry_push_model = <model>` (plus the error's type), then the exception is
re-raised unchanged. The exporter counts those runs per model as `mlflow_model_push_errors_total`.
Imports MLflow only when it has something to record; if the tag cannot be written either (the server
is down), that is logged and the original exception still propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

PUSH_ERROR_TAG = "mlcall.registry_push_error"
PUSH_MODEL_TAG = "mlcall.registry_push_model"
PUSH_ERROR_TYPE_TAG = "mlcall.registry_push_error_type"

log = logging.getLogger(__name__)


@contextmanager
def recording_push_errors(model: str, *, run_id: str | None = None, client=None) -> Iterator[None]:
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        try:
            _record(model, run_id, client, exc)
        except Exception as tag_error:  # never hide the push error behind our own
            log.warning("could not record the registry push error of %s: %s", model, type(tag_error).__name__)
        raise


def _record(model: str, run_id: str | None, client, exc: BaseException) -> None:
    import mlflow

    run_id = run_id or (mlflow.active_run().info.run_id if mlflow.active_run() else None)
    if not run_id:
        log.warning("registry push of %s failed outside a run: nothing to tag", model)
        return
    if client is None:
        from mlflow.tracking import MlflowClient

        client = MlflowClient()
    client.set_tag(run_id, PUSH_ERROR_TAG, "true")
    client.set_tag(run_id, PUSH_MODEL_TAG, model)
    client.set_tag(run_id, PUSH_ERROR_TYPE_TAG, type(exc).__name__)
