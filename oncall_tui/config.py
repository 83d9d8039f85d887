"""Settings: defaults < config file < environment < command-line flags, with named profiles.

The config file is TOML (`$XDG_CONFIG_HOME/mlcall-tui/config.toml`, or `--config` / `MLCALL_CONFIG`).
Top-level keys are the defaults; `[profiles.NAME]` tables override them when `--profile NAME` is used.
"""

from __future__ import annotations

import getpass
import os
import socket
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
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
    config_file: str = ""

    @property
    def author(self) -> str:
        return self.user or default_user()

    @property
    def audit_path(self) -> Path:
        return Path(self.audit_log) if self.audit_log else state_dir() / "audit.jsonl"


_TUPLES = {f.name for f in fields(Settings) if str(f.type).startswith("tuple")}
_FLOATS = {"refresh", "timeout"}
_BOOLS = {"read_only", "danger"}
_KNOWN = {f.name for f in fields(Settings)}
# Names accepted in the TOML file besides the field names themselves.
_FILE_ALIASES = {"alertmanager": "alertmanager_urls", "alertmanager_url": "alertmanager_urls",
                 "prometheus": "prometheus_url", "mlflow": "mlflow_uri", "runbooks": "runbook_dirs"}


def _coerce(name: str, value: Any, origin: str) -> Any:
    if name in _TUPLES:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{origin}: {name} must be a list")
        return tuple(str(v) for v in value)
    if name in _FLOATS:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{origin}: {name} must be a number, not {value!r}") from None
        if number <= 0:
            raise ConfigError(f"{origin}: {name} must be positive")
        return number
    if name in _BOOLS:
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    return str(value)


def _apply(settings: Settings, values: Mapping[str, Any], origin: str) -> Settings:
    changes = {}
    for key, value in values.items():
        name = _FILE_ALIASES.get(key, key)
        if name not in _KNOWN or name in {"profile", "config_file"}:
            raise ConfigError(f"{origin}: unknown setting {key!r}")
        changes[name] = _coerce(name, value, origin)
    return replace(settings, **changes)


def _from_file(path: Path, profile: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(top-level settings, the chosen profile's settings) from a TOML file."""
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    profiles = data.pop("profiles", {})
    data.pop("keys", None)  # key map overrides, read by the UI
    _pop_sections(data)
    chosen: dict[str, Any] = {}
    if profile:
        if profile not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigError(f"{path}: no profile {profile!r} (profiles: {known})")
        chosen = dict(profiles[profile])
        _pop_sections(chosen)
    return data, chosen


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
        top, chosen = _from_file(path, profile)
        settings = _apply(settings, top, str(path))
        settings = _apply(settings, chosen, f"{path} [profiles.{profile}]")
        settings = replace(settings, config_file=str(path))
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
        elif f.name in {"prometheus_url", "mlflow_uri"}:
            value = redact_url(value)
        out[f.name] = value
    return out
