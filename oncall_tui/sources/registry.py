"""The MLflow model registry, through `MlflowClient` (imported lazily; every method blocks: call it from a
worker thread, never from the UI thread).

Honours `MLFLOW_TRACKING_URI` (via Settings) and MLflow's own auth/TLS variables (`MLFLOW_TRACKING_TOKEN`,
`MLFLOW_TRACKING_USERNAME`/`PASSWORD`, `MLFLOW_TRACKING_SERVER_CERT_PATH`, …), which MlflowClient reads
itself. MLflow's default of 5 retries × 120 s would freeze an action for minutes: unless the user set them,
requests get our timeout and no retries (nothing is retried blindly, DESIGN §6).
Facts (REFERENCE.md): `search_model_versions` returns empty aliases (they are read from the registered
model), versions are strings, `latest` and `v<digits>` are reserved alias names.
"""

from __future__ import annotations

import math
import os
import re
import threading
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, Callable, Iterable, TypeVar

from ..models import ModelServing, ModelVersion, RegisteredModel
from ..safe_text import redact_url
from .base import SourceError

T = TypeVar("T")

HISTORY_TAG = "mlcall.previous."  # + alias: on a model version, the version the alias pointed to before
MAX_VERSIONS = 1000  # versions read per model (pages of 200)
ALIAS_RE = re.compile(r"^[\w\-]+$")
RESERVED_ALIAS = re.compile(r"^(latest|[vV]\d+)$")

# Error kinds (RegistryError.kind)
NOT_FOUND = "not found"
PERMISSION_DENIED = "permission denied"
UNAUTHENTICATED = "unauthenticated"
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
INVALID = "invalid"
ERROR = "registry error"
UNCERTAIN_KINDS = (UNREACHABLE, TIMEOUT, ERROR)  # the request may or may not have been applied


class RegistryError(SourceError):
    """The registry refused or did not answer. `kind` is one of the constants above."""


def history_tag(alias: str) -> str:
    return f"{HISTORY_TAG}{alias}"


def validate_alias(alias: str) -> None:
    if not ALIAS_RE.match(alias or ""):
        raise RegistryError(INVALID, f"alias {alias!r} is not a valid MLflow alias (letters, digits, _ and -)")
    if RESERVED_ALIAS.match(alias):
        raise RegistryError(INVALID, f"alias {alias!r} is reserved by MLflow (latest, v<number>)")


def security_warnings(environ: dict[str, str] | None = None) -> list[str]:
    """What must be shown in red about how we talk to the registry (never the secrets themselves)."""
    environ = os.environ if environ is None else environ
    out = []
    if environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").strip().lower() == "true":
        out.append("TLS verification is OFF for MLflow (MLFLOW_TRACKING_INSECURE_TLS=true)")
    if environ.get("MLFLOW_TRACKING_USERNAME") == "admin" and environ.get("MLFLOW_TRACKING_PASSWORD") == "password1234":
        out.append("MLflow's old default admin password is in use: change it")
    return out


_env_lock = threading.Lock()
_owned: set[str] = set()  # variables this module set (the user's own are never changed)


def configure_mlflow_env(timeout: float, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Short timeouts and no retries for MLflow's HTTP client, unless the user set them; no telemetry.

    MLflow reads them at each request; the latest source's timeout wins (one registry per app). Returns
    what was set.
    """
    environ = os.environ if environ is None else environ
    wanted = {
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(max(1, math.ceil(timeout))),  # MLflow parses an int
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
        "MLFLOW_DISABLE_TELEMETRY": "true",  # an on-call tool sends nothing anywhere but the registry
    }
    done = {}
    with _env_lock:
        for name, value in wanted.items():
            if name not in environ or (environ is os.environ and name in _owned):
                environ[name] = value
                done[name] = value
                if environ is os.environ:
                    _owned.add(name)
    return done


def _ms(value: Any) -> datetime | None:
    try:
        ms = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc) if ms > 0 else None


def _frozen(mapping: Any) -> MappingProxyType:
    return MappingProxyType(dict(mapping or {}))


_CONNECT = ("connection refused", "max retries exceeded", "failed to establish", "connectionerror",
            "name or service not known", "nodename nor servname", "temporary failure in name resolution",
            "remote end closed", "connection reset", "connection aborted")


def classify(exc: BaseException, what: str, where: str) -> RegistryError:
    """An exception from MlflowClient/requests as a RegistryError with no credentials in it."""
    code = str(getattr(exc, "error_code", "") or "")
    text = redact_url(str(getattr(exc, "message", "") or exc))
    lower = text.lower()
    if code in {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "ENDPOINT_NOT_FOUND"}:
        kind = NOT_FOUND
    elif code == "PERMISSION_DENIED":
        kind = PERMISSION_DENIED
    elif code == "UNAUTHENTICATED":
        kind = UNAUTHENTICATED
    elif "timed out" in lower or "timeout" in lower:
        kind = TIMEOUT
    elif any(marker in lower for marker in _CONNECT):
        kind = UNREACHABLE
    elif code in {"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "INVALID_STATE"}:
        kind = NOT_FOUND if "not found" in lower else INVALID
    else:
        kind = ERROR
    if kind == UNREACHABLE:
        text = f"cannot connect to {where}"
    elif kind == TIMEOUT:
        text = f"no answer from {where} in time"
    return RegistryError(kind, f"{what}: {text}")


class RegistrySource:
    """Reads and writes the registry. Every public method blocks (run it in a worker thread)."""

    def __init__(self, uri: str, *, timeout: float = 4.0) -> None:
        self.uri = uri
        self.timeout = timeout
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def display_uri(self) -> str:
        return redact_url(self.uri)

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                configure_mlflow_env(self.timeout)
                import logging

                from mlflow.tracking import MlflowClient  # 1.5 s and 160 MB: never on the first frame

                logging.getLogger("mlflow").setLevel(logging.ERROR)  # no log lines over the TUI
                self._client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
            return self._client

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # MlflowException, requests errors, anything the client raises
            raise classify(exc, what, self.display_uri) from None

    # -- reads ------------------------------------------------------------------------------------------
    def registered_model(self, name: str) -> RegisteredModel:
        rm = self._call(f"model {name}", lambda: self.client().get_registered_model(name))
        return _registered(rm)

    def models(self, limit: int = 500) -> list[RegisteredModel]:
        out: list[RegisteredModel] = []
        token = None
        while len(out) < limit:
            page = self._call("list models", lambda t=token: self.client().search_registered_models(
                max_results=min(100, limit - len(out)), page_token=t))
            out.extend(_registered(rm) for rm in page)
            token = getattr(page, "token", None)
            if not token:
                break
        return sorted(out, key=lambda m: m.name.lower())

    def alias_version(self, name: str, alias: str) -> str | None:
        """The version `alias` points to now, or None when it is not set."""
        return self.registered_model(name).aliases.get(alias)

    def version(self, name: str, version: str, *, with_run: bool = True, aliases: dict | None = None) -> ModelVersion:
        mv = self._call(f"model {name} v{version}", lambda: self.client().get_model_version(name, str(version)))
        found = _version(mv, aliases)
        return self._with_run(found) if with_run else found

    def versions(self, name: str, *, aliases: dict[str, str] | None = None, runs_for: int = 0,
                 always_runs: Iterable[str] = ()) -> list[ModelVersion]:
        """Every version, newest first, aliases filled in; run metrics for the newest `runs_for` versions
        and for the versions in `always_runs` (one request per run)."""
        if "'" in name:
            raise RegistryError(INVALID, f"model name {name!r} contains a quote")
        if aliases is None:
            aliases = dict(self.registered_model(name).aliases)
        found: list[ModelVersion] = []
        token = None
        while len(found) < MAX_VERSIONS:
            page = self._call(f"versions of {name}", lambda t=token: self.client().search_model_versions(
                filter_string=f"name='{name}'", max_results=200, page_token=t))
            found.extend(_version(mv, aliases) for mv in page)
            token = getattr(page, "token", None)
            if not token:
                break
        found.sort(key=lambda v: (v.number, v.version), reverse=True)
        wanted = {v.version for v in found[:runs_for]} | set(always_runs)
        return [self._with_run(v) if v.version in wanted else v for v in found]

    def _with_run(self, version: ModelVersion) -> ModelVersion:
        """The version with its source run's metrics and training time (unchanged if the run is gone)."""
        if not version.run_id:
            return version
        from dataclasses import replace

        try:
            run = self.client().get_run(version.run_id)
        except Exception as exc:  # a deleted run, a run in another store, a slow server: still useful
            error = classify(exc, f"run {version.run_id[:8]}", self.display_uri)
            return replace(version, run_error=error.kind)

        info = run.info
        trained = _ms(getattr(info, "end_time", None)) or _ms(getattr(info, "start_time", None))
        return replace(version, metrics=_frozen(run.data.metrics), trained_at=trained)

    def serving(self, name: str, alias: str) -> ModelServing:
        """The version behind `alias`, and the one a rollback would go to (see `choose_previous`)."""
        model = self.registered_model(name)
        current = model.aliases.get(alias)
        if current is None:
            return ModelServing(model, alias, None)
        versions = self.versions(name, aliases=dict(model.aliases))
        previous, why = choose_previous(versions, current, alias)
        serving = next((v for v in versions if v.version == current), None)
        serving = self._with_run(serving) if serving else self.version(name, current, aliases=dict(model.aliases))
        return ModelServing(model, alias, serving, self._with_run(previous) if previous else None, why)

    # -- writes -----------------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: str) -> None:
        validate_alias(alias)
        self._call(f"set {alias} of {name} to v{version}",
                   lambda: self.client().set_registered_model_alias(name, alias, str(version)))

    def set_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        self._call(f"tag {name} v{version}",
                   lambda: self.client().set_model_version_tag(name, str(version), key, str(value)))

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self._call(f"tag {name}", lambda: self.client().set_registered_model_tag(name, key, str(value)))


def choose_previous(versions: list[ModelVersion], current: str, alias: str) -> tuple[ModelVersion | None, str]:
    """Where a rollback of `alias` (now at `current`) should go, and why.

    1. The version this tool recorded as serving before `current` (tag `mlcall.previous.<alias>` on it),
       when it is older, READY and still exists. A *newer* recorded version means `current` is itself
       a rollback: going back there is an undo (`undo_target`), not a rollback, so two rollbacks in a
       row go further back instead of flipping (the kubectl pitfall).
    2. Else the newest READY version older than `current`.
    """
    by_version = {v.version: v for v in versions}
    cur = by_version.get(current)
    try:
        cur_number = int(current)
    except ValueError:
        cur_number = cur.number if cur else -1
    recorded = cur.tags.get(history_tag(alias), "") if cur else ""
    candidate = by_version.get(recorded)
    if candidate is not None and candidate.ready and candidate.version != current and candidate.number < cur_number:
        return candidate, f"served before v{current} (tag {history_tag(alias)})"
    older = [v for v in versions if v.ready and 0 <= v.number < cur_number]
    if older:
        best = max(older, key=lambda v: v.number)
        return best, f"newest READY version older than v{current}"
    return None, f"no READY version older than v{current}"


def undo_target(versions: list[ModelVersion], current: str, alias: str) -> ModelVersion | None:
    """The version this tool moved `alias` away from to reach `current` (any direction), if READY."""
    by_version = {v.version: v for v in versions}
    cur = by_version.get(current)
    recorded = cur.tags.get(history_tag(alias), "") if cur else ""
    candidate = by_version.get(recorded)
    return candidate if candidate is not None and candidate.ready and candidate.version != current else None


def _registered(rm: Any) -> RegisteredModel:
    aliases = getattr(rm, "aliases", None) or {}
    if not isinstance(aliases, dict):  # older clients: a list of entries
        aliases = {getattr(a, "alias", ""): str(getattr(a, "version", "")) for a in aliases}
    latest = [str(v.version) for v in (getattr(rm, "latest_versions", None) or [])]
    return RegisteredModel(
        name=str(rm.name),
        aliases=_frozen({str(k): str(v) for k, v in aliases.items()}),
        latest_version=max(latest, key=lambda v: int(v) if v.isdigit() else -1) if latest else "",
        description=str(getattr(rm, "description", "") or ""),
        tags=_frozen({str(k): str(v) for k, v in (getattr(rm, "tags", None) or {}).items()}),
        created_at=_ms(getattr(rm, "creation_timestamp", None)),
        updated_at=_ms(getattr(rm, "last_updated_timestamp", None)),
    )


def _version(mv: Any, aliases: dict[str, str] | None) -> ModelVersion:
    version = str(mv.version)
    if aliases is not None:
        names = tuple(sorted(a for a, v in aliases.items() if v == version))
    else:
        names = tuple(getattr(mv, "aliases", None) or ())
    return ModelVersion(
        name=str(mv.name),
        version=version,
        status=str(getattr(mv, "status", "") or ""),
        aliases=names,
        created_at=_ms(getattr(mv, "creation_timestamp", None)),
        run_id=str(getattr(mv, "run_id", "") or ""),
        source=str(getattr(mv, "source", "") or ""),
        tags=_frozen({str(k): str(v) for k, v in (getattr(mv, "tags", None) or {}).items()}),
    )
