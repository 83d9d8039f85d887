"""Settings: defaults < config file < environment < command-line flags, with named profiles.

The config file is TOML (`$XDG_CONFIG_HOME/mlcall-tui/config.toml`, or `--config` / `MLCALL_CONFIG`).
Top-level keys are the defaults; `[profiles.NAME]` tables override them when `--profile NAME` is used.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping


class ConfigError(Exception):
    """The configuration cannot be used; the message says why."""


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback)


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "mlcall-tui"


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "mlcall-tui"


def default_user() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry, e.g. in a container
        user = os.environ.get("USER", "unknown")
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Settings:
    alertmanager_urls: tuple[str, ...] = ()
    prometheus_url: str = ""
    mlflow_uri: str = ""
    kube_context: str = ""
    kubeconfig: str = ""
    namespace: str = "default"
    runbook_dirs: tuple[str, ...] = ()
    user: str = ""
    audit_log: str = ""
    refresh: float = 5.0
    timeout: float = 4.0
    theme: str = ""
    read_only: bool = False
    profile: str = ""
    danger: bool = False  # a production profile: shown in red on every screen
    serving_alias: str = "champion"
    model_label: str = "model"
    deployment_label: str = "deployment"
    namespace_label: str = "namespace"
    group_by: tuple[str, ...] = ("model",)
    silence_duration: str = "1h"
    # matchers sent to Alertmanager's /api/v2/alerts?filter=… (e.g. 'team="ml"'): it sends only those alerts
    alert_filter: tuple[str, ...] = ()
    config_file: str = ""
    # `[[clusters]]` of the config file; empty: the one cluster the fields above describe
    clusters: tuple[ClusterConfig, ...] = field(default=(), repr=False)
    cluster: str = ""  # in the Settings of one cluster (`for_cluster`): its name
    prometheus_http: Mapping[str, Any] | None = None  # that cluster's Prometheus table (url, headers, auth, TLS)

    @property
    def author(self) -> str:
        return self.user or default_user()

    @property
    def audit_path(self) -> Path:
        return Path(self.audit_log) if self.audit_log else state_dir() / "audit.jsonl"


@dataclass(frozen=True)
class ClusterConfig:
    """One `[[clusters]]` table: an Alertmanager cluster (its peers), a Prometheus (or a Mimir tenant), an
    MLflow registry and a kube context, with its own danger and read-only flags."""

    name: str
    alertmanager_urls: tuple[str, ...] = ()
    prometheus_url: str = ""
    prometheus_http: Mapping[str, Any] | None = None  # the table's `prometheus` when it is a table
    mlflow_uri: str = ""
    kube_context: str = ""
    namespace: str = ""
    danger: bool = False
    read_only: bool = False
    alert_filter: tuple[str, ...] | None = None  # None: the top-level alert_filter


_CLUSTER_KEYS = {"name", "alertmanager", "alertmanager_urls", "prometheus", "prometheus_url", "mlflow",
                 "mlflow_uri", "kube_context", "namespace", "danger", "read_only", "alert_filter"}
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def parse_clusters(tables: Any, origin: str) -> tuple[ClusterConfig, ...]:
    """The `[[clusters]]` array of tables; names unique and plain (they are typed in filters)."""
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{origin}: clusters must be an array of tables ([[clusters]])")
    out: list[ClusterConfig] = []
    for i, table in enumerate(tables):
        where = f"{origin} [[clusters]] #{i + 1}"
        unknown = set(table) - _CLUSTER_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
        name = str(table.get("name", ""))
        if not _CLUSTER_NAME.match(name):
            raise ConfigError(f"{where}: name must be 1-40 letters, digits, '.', '_' or '-' (got {name!r})")
        if any(c.name == name for c in out):
            raise ConfigError(f"{where}: a cluster named {name!r} is already defined")
        prometheus = table.get("prometheus", table.get("prometheus_url", ""))
        http: Mapping[str, Any] | None = None
        if isinstance(prometheus, dict):
            http = MappingProxyType(dict(prometheus))
            prometheus = prometheus.get("url", "")
        urls = _coerce("alertmanager_urls", table.get("alertmanager", table.get("alertmanager_urls", ())), where)
        out.append(ClusterConfig(
            name=name, alertmanager_urls=urls, prometheus_url=str(prometheus), prometheus_http=http,
            mlflow_uri=str(table.get("mlflow", table.get("mlflow_uri", ""))),
            kube_context=str(table.get("kube_context", "")), namespace=str(table.get("namespace", "")),
            danger=_coerce("danger", table.get("danger", False), where),
            alert_filter=_coerce("alert_filter", table["alert_filter"], where) if "alert_filter" in table else None,
            read_only=_coerce("read_only", table.get("read_only", False), where)))
    return tuple(out)


def for_cluster(settings: Settings, cluster: ClusterConfig) -> Settings:
    """The Settings of one cluster: its own backends; the session's flags (read-only, danger) still hold."""
    return replace(settings, alertmanager_urls=cluster.alertmanager_urls, prometheus_url=cluster.prometheus_url,
                   prometheus_http=cluster.prometheus_http, mlflow_uri=cluster.mlflow_uri or settings.mlflow_uri,
                   kube_context=cluster.kube_context or settings.kube_context,
                   namespace=cluster.namespace or settings.namespace, danger=settings.danger or cluster.danger,
                   read_only=settings.read_only or cluster.read_only, cluster=cluster.name, clusters=(),
                   alert_filter=settings.alert_filter if cluster.alert_filter is None else cluster.alert_filter)


def cluster_configs(settings: Settings) -> tuple[ClusterConfig, ...]:
    """The configured clusters; without `[[clusters]]`, one named after the profile (or "default")."""
    if settings.clusters:
        return settings.clusters
    return (ClusterConfig(name=settings.profile or "default", alertmanager_urls=settings.alertmanager_urls,
                          prometheus_url=settings.prometheus_url, mlflow_uri=settings.mlflow_uri,
                          kube_context=settings.kube_context, namespace=settings.namespace,
                          danger=settings.danger, read_only=settings.read_only),)


_TUPLES = {f.name for f in fields(Settings) if str(f.type).startswith("tuple")} - {"clusters"}
_FLOATS = {"refresh", "timeout"}
_BOOLS = {"read_only", "danger"}
_KNOWN = {f.name for f in fields(Settings)}
_NOT_SETTABLE = {"profile", "config_file", "clusters", "cluster", "prometheus_http"}
# Names accepted in the TOML file besides the field names themselves.
_FILE_ALIASES = {"alertmanager": "alertmanager_urls", "alertmanager_url": "alertmanager_urls",
                 "prometheus": "prometheus_url", "mlflow": "mlflow_uri", "runbooks": "runbook_dirs"}


def positive_number(value: Any, what: str) -> float:
    """`value` as a number > 0, or a ConfigError naming `what` (e.g. "config.toml: refresh")."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a number, not {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{what} must be positive")
    return number


def _coerce(name: str, value: Any, origin: str) -> Any:
    if name in _TUPLES:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{origin}: {name} must be a list")
        return tuple(str(v) for v in value)
    if name in _FLOATS:
        return positive_number(value, f"{origin}: {name}")
    if name in _BOOLS:
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    return str(value)


def _apply(settings: Settings, values: Mapping[str, Any], origin: str) -> Settings:
    changes = {}
    for key, value in values.items():
        name = _FILE_ALIASES.get(key, key)
        if name not in _KNOWN or name in _NOT_SETTABLE:
            raise ConfigError(f"{origin}: unknown setting {key!r}")
        changes[name] = _coerce(name, value, origin)
    return replace(settings, **changes)


def _from_file(path: Path, profile: str) -> tuple[dict[str, Any], dict[str, Any], tuple[ClusterConfig, ...]]:
    """(top-level settings, the chosen profile's settings, its clusters) from a TOML file.

    A profile's own `[[profiles.NAME.clusters]]` replace the top-level `[[clusters]]`."""
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    profiles = data.pop("profiles", {})
    data.pop("keys", None)  # key map overrides, read by the UI
    _pop_sections(data)
    clusters = parse_clusters(data.pop("clusters"), str(path)) if "clusters" in data else ()
    chosen: dict[str, Any] = {}
    if profile:
        if profile not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigError(f"{path}: no profile {profile!r} (profiles: {known})")
        chosen = dict(profiles[profile])
        _pop_sections(chosen)
        if "clusters" in chosen:
            clusters = parse_clusters(chosen.pop("clusters"), f"{path} [profiles.{profile}]")
    return data, chosen, clusters


# Tables read by their own modules through `section()`: `[queries]` (health_queries.py),
# `[prometheus]` (sources/http_config.py; its `url` is the prometheus_url setting) and `[exporter]`
# (exporter/config.py).
SECTIONS = ("queries", "prometheus", "exporter")


def _pop_sections(values: dict[str, Any]) -> None:
    for name in SECTIONS:
        if isinstance(values.get(name), dict):
            table = values.pop(name)
            if name == "prometheus" and "url" in table:
                values["prometheus_url"] = table["url"]


def section(settings: Settings, name: str) -> dict[str, Any]:
    """A table of the config file (`[queries]`, `[prometheus]`), the profile's own table merged over it."""
    if not settings.config_file:
        return {}
    data = tomllib.loads(Path(settings.config_file).read_text())
    out = dict(data[name]) if isinstance(data.get(name), dict) else {}
    chosen = (data.get("profiles") or {}).get(settings.profile) or {}
    if settings.profile and isinstance(chosen.get(name), dict):
        out.update(chosen[name])
    return out


ENV = {
    "MLCALL_ALERTMANAGER_URL": "alertmanager_urls",
    "MLCALL_PROMETHEUS_URL": "prometheus_url",
    "MLFLOW_TRACKING_URI": "mlflow_uri",
    "KUBECONFIG": "kubeconfig",
    "MLCALL_READ_ONLY": "read_only",
    "MLCALL_AUDIT_LOG": "audit_log",
    "MLCALL_RUNBOOKS": "runbook_dirs",
}


def load(flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from defaults, the config file, the environment and flags (highest wins).

    `flags` holds only what was given on the command line (None values are ignored).
    """
    flags = {k: v for k, v in (flags or {}).items() if v not in (None, (), [])}
    env = os.environ if env is None else env
    profile = str(flags.pop("profile", "") or env.get("MLCALL_PROFILE", ""))
    path_text = flags.pop("config", None) or env.get("MLCALL_CONFIG")
    path = Path(path_text) if path_text else config_dir() / "config.toml"
    settings = Settings()
    if path.is_file():
        top, chosen, clusters = _from_file(path, profile)
        settings = _apply(settings, top, str(path))
        settings = _apply(settings, chosen, f"{path} [profiles.{profile}]")
        settings = replace(settings, config_file=str(path), clusters=clusters)
    elif path_text:
        raise ConfigError(f"config file {path} does not exist")
    elif profile:
        raise ConfigError(f"profile {profile!r} given but there is no config file at {path}")
    env_values = {}
    for var, name in ENV.items():
        if env.get(var):
            env_values[name] = env[var].split(os.pathsep) if name == "runbook_dirs" else env[var]
    settings = _apply(settings, env_values, "environment")
    settings = _apply(settings, flags, "command line")
    return replace(settings, profile=profile)


def keymap(settings: Settings) -> dict[str, str]:
    """User key overrides (`[keys]` table: binding id → keys) from the config file."""
    if not settings.config_file:
        return {}
    data = tomllib.loads(Path(settings.config_file).read_text())
    keys = data.get("keys", {})
    return {str(k): str(v) for k, v in keys.items()}


def public_view(settings: Settings) -> dict[str, Any]:
    """Settings as they may be shown or logged: URLs without credentials."""
    from .safe_text import redact_url

    out = {}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if f.name in {"alertmanager_urls"}:
            value = [redact_url(v) for v in value]
        elif f.name == "clusters":
            value = [{"name": c.name, "alertmanager": [redact_url(u) for u in c.alertmanager_urls],
                      "prometheus": redact_url(c.prometheus_url), "mlflow": redact_url(c.mlflow_uri),
                      "kube_context": c.kube_context, "danger": c.danger, "read_only": c.read_only}
                     for c in value]
        elif f.name == "prometheus_http":
            continue  # headers may hold tenants and tokens: `check` shows them through http_config
        elif f.name in {"prometheus_url", "mlflow_uri"}:
            value = redact_url(value)
        out[f.name] = value
    return out
