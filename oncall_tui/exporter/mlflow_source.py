"""Registry facts from MLflow (`MlflowClient`, same URI and auth/TLS environment as the app).

Per registered model (all of them, the configured list, or those matching `model_filter`):
- `mlflow_model_last_trained_timestamp{model}`: end time of the source run of the version the serving
  alias (`champion`) points to, else of the newest version; the version's creation time when it has no
  run (or the run has no end time);
- `mlflow_model_version_info{model,alias,version,run_id}` 1 for every alias;
- `mlflow_model_versions{model}`: how many versions it has;
- `mlflow_model_push_errors_total{model}`: runs that recorded a failed registry push (training.py).
A handful of search calls per scrape, whatever the number of models (no call per model).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .families import COUNTER, GAUGE, Family, FamilyBuilder
from .training import PUSH_ERROR_TAG, PUSH_MODEL_TAG

PAGE = 1000
RUN_IDS_PER_QUERY = 100


def _quote(text: str) -> str:
    return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pages(call, **kwargs) -> list[Any]:
    out: list[Any] = []
    token = None
    while True:
        page = call(page_token=token, **kwargs)
        out.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return out


class MlflowSource:
    name = "mlflow"

    def __init__(self, uri: str, *, models: tuple[str, ...] = (), model_filter: str = "",
                 serving_alias: str = "champion", timeout: float = 8.0) -> None:
        self.uri = uri
        self.models = models
        self.model_filter = model_filter
        self.serving_alias = serving_alias
        self.timeout = timeout
        self._client: Any = None

    def prepare(self) -> None:
        self.client()
        import mlflow.entities  # noqa: F401 - used by the reads

    def client(self) -> Any:
        if self._client is None:
            import logging

            from ..sources.registry import configure_mlflow_env

            configure_mlflow_env(self.timeout)  # bounded requests, no retries, no telemetry
            from mlflow.tracking import MlflowClient

            logging.getLogger("mlflow").setLevel(logging.ERROR)
            self._client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        return self._client

    # -- reads -----------------------------------------------------------------------------------------
    def _registered(self) -> list[Any]:
        client = self.client()
        if self.models:
            wanted = set(self.models)
            found = _pages(client.search_registered_models, max_results=100)
            return [m for m in found if m.name in wanted]
        return _pages(client.search_registered_models, max_results=100,
                      filter_string=self.model_filter or None)

    def _versions(self, names: set[str]) -> dict[str, list[Any]]:
        by_model: dict[str, list[Any]] = {name: [] for name in names}
        for mv in _pages(self.client().search_model_versions, max_results=PAGE):
            if mv.name in by_model:
                by_model[mv.name].append(mv)
        return by_model

    def _experiment_ids(self) -> list[str]:
        from mlflow.entities import ViewType

        return [e.experiment_id for e in _pages(self.client().search_experiments, view_type=ViewType.ALL,
                                                max_results=PAGE)]

    def _runs(self, experiment_ids: list[str], run_ids: list[str]) -> dict[str, Any]:
        from mlflow.entities import ViewType

        found: dict[str, Any] = {}
        for i in range(0, len(run_ids), RUN_IDS_PER_QUERY):
            chunk = run_ids[i:i + RUN_IDS_PER_QUERY]
            where = f"attributes.run_id IN ({', '.join(_quote(r) for r in chunk)})"
            for run in _pages(self.client().search_runs, experiment_ids=experiment_ids, filter_string=where,
                              run_view_type=ViewType.ALL, max_results=PAGE):
                found[run.info.run_id] = run
        return found

    def _push_errors(self, experiment_ids: list[str]) -> Counter[str]:
        from mlflow.entities import ViewType

        where = f"tags.`{PUSH_ERROR_TAG}` = 'true'"
        counts: Counter[str] = Counter()
        for run in _pages(self.client().search_runs, experiment_ids=experiment_ids, filter_string=where,
                          run_view_type=ViewType.ALL, max_results=PAGE):
            model = run.data.tags.get(PUSH_MODEL_TAG, "")
            if model:
                counts[model] += 1
        return counts

    def read(self) -> list[Family]:
        from ..safe_text import redact_url
        from ..sources.registry import classify

        try:
            return self._read()
        except Exception as exc:  # "cannot connect to http://mlflow:5000", not a urllib3 traceback line
            raise classify(exc, "registry", redact_url(self.uri)) from None

    def _read(self) -> list[Family]:
        registered = self._registered()
        names = {m.name for m in registered}
        versions = self._versions(names)
        serving: dict[str, Any] = {}
        for model in registered:
            by_number = {str(v.version): v for v in versions.get(model.name, [])}
            number = (model.aliases or {}).get(self.serving_alias)
            chosen = by_number.get(str(number)) if number is not None else None
            if chosen is None and by_number:
                chosen = max(by_number.values(), key=lambda v: int(v.version))
            if chosen is not None:
                serving[model.name] = chosen
        experiment_ids = self._experiment_ids()
        run_ids = sorted({v.run_id for v in serving.values() if v.run_id})
        runs = self._runs(experiment_ids, run_ids) if run_ids and experiment_ids else {}
        push_errors = self._push_errors(experiment_ids) if experiment_ids else Counter()

        out = FamilyBuilder()
        for model in registered:
            name = model.name
            out.add("mlflow_model_versions", GAUGE, "Number of versions of the registered model",
                    {"model": name}, len(versions.get(name, [])))
            for alias, version in sorted((model.aliases or {}).items()):
                mv = next((v for v in versions.get(name, []) if str(v.version) == str(version)), None)
                out.add("mlflow_model_version_info", GAUGE, "The version each alias of the model points to",
                        {"model": name, "alias": alias, "version": str(version),
                         "run_id": (mv.run_id or "") if mv is not None else ""}, 1)
            chosen = serving.get(name)
            if chosen is not None:
                run = runs.get(chosen.run_id) if chosen.run_id else None
                end_ms = getattr(run.info, "end_time", None) if run is not None else None
                trained_ms = end_ms or chosen.creation_timestamp
                if trained_ms:
                    out.add("mlflow_model_last_trained_timestamp", GAUGE,
                            "Unix time the serving version's training run ended (version creation time "
                            "without a run)", {"model": name}, trained_ms / 1000)
        for name in sorted(names | set(push_errors)):
            if self.models and name not in self.models:
                continue
            out.add("mlflow_model_push_errors", COUNTER,
                    "Training runs that recorded a failed push to the model registry",
                    {"model": name}, push_errors.get(name, 0))
        return out.build()
