"""The exporter's settings: the `[exporter]` table of the config file, then flags (highest wins).

```toml
mlflow = "https://mlflow.example"          # the app's settings: MLFLOW_TRACKING_URI, kubeconfig…

[exporter]
listen = "0.0.0.0:9717"
timeout = 8          # seconds per source read; keep it below Prometheus' scrape_timeout (10 s)
ttl = 15             # seconds a read is reused by later scrapes
models = []          # registered models to export; empty = all (or a filter:)
model_filter = "name LIKE 'fraud-%'"
job_namespaces = ["ml-prod"]   # where training Jobs run; [] = every namespace; jobs = false: off
jobs = true

[[exporter.dvc]]
repo = "/srv/drift-monitor"    # a path or a Git URL
rev = "main"                   # default: the working tree (a path) / the default branch (a URL)
model = "fraud-detector"       # the `model` label; default: the repository's directory name
targets = []                   # metrics files; default: those in dvc.yaml
```
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config import ConfigError, Settings, positive_number, section

DEFAULT_LISTEN = "127.0.0.1:9717"
_KEYS = {"listen", "timeout", "ttl", "models", "model_filter", "job_namespaces", "jobs", "dvc", "push",
         "instance", "job"}


@dataclass(frozen=True)
class DvcRepo:
    repo: str
    rev: str = ""
    model: str = ""
    targets: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.model or Path(self.repo.rstrip("/")).name.removesuffix(".git") or "dvc"


@dataclass(frozen=True)
class ExporterConfig:
    listen: str = DEFAULT_LISTEN
    timeout: float = 8.0
    ttl: float = 15.0
    models: tuple[str, ...] = ()
    model_filter: str = ""
    jobs: bool = True
    job_namespaces: tuple[str, ...] = ()
    dvc: tuple[DvcRepo, ...] = ()
    push: str = ""
    job: str = "mlcall-exporter"  # Pushgateway grouping key
    instance: str = ""
    settings: Settings = field(default_factory=Settings)

    def listen_address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        try:
            return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - the user asked for all interfaces
        except ValueError:
            raise ConfigError(f"exporter: --listen wants HOST:PORT, not {self.listen!r}") from None


def _number(table: dict[str, Any], key: str, default: float) -> float:
    return positive_number(table.get(key, default), f"[exporter] {key}")


def _strings(table: dict[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise ConfigError(f"[exporter] {key} must be a list")
    return tuple(str(v) for v in value)


def _repo(entry: Any, where: str) -> DvcRepo:
    if isinstance(entry, str):
        entry = {"repo": entry}
    if not isinstance(entry, dict) or not entry.get("repo"):
        raise ConfigError(f"{where}: needs `repo` (a path or a Git URL)")
    unknown = set(entry) - {"repo", "rev", "model", "targets"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return DvcRepo(str(entry["repo"]), str(entry.get("rev", "")), str(entry.get("model", "")),
                   _strings(entry, "targets"))


def from_table(table: dict[str, Any], settings: Settings) -> ExporterConfig:
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(f"[exporter]: unknown key(s) {', '.join(sorted(unknown))}")
    repos = table.get("dvc", [])
    if not isinstance(repos, list):
        raise ConfigError("[exporter] dvc must be an array of tables ([[exporter.dvc]])")
    config = ExporterConfig(
        listen=str(table.get("listen", DEFAULT_LISTEN)),
        timeout=_number(table, "timeout", 8.0),
        ttl=_number(table, "ttl", 15.0),
        models=_strings(table, "models"),
        model_filter=str(table.get("model_filter", "")),
        jobs=bool(table.get("jobs", True)),
        job_namespaces=_strings(table, "job_namespaces"),
        dvc=tuple(_repo(e, f"[[exporter.dvc]] #{i + 1}") for i, e in enumerate(repos)),
        push=str(table.get("push", "")),
        job=str(table.get("job", "mlcall-exporter")),
        instance=str(table.get("instance", "")),
        settings=settings,
    )
    return config


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--listen", metavar="ADDR", help=f"HOST:PORT to serve /metrics on (default {DEFAULT_LISTEN})")
    p.add_argument("--push", metavar="URL", help="push once to this Pushgateway and exit (for CronJobs)")
    p.add_argument("--timeout", metavar="SECONDS", type=float, help="per source read (default 8)")
    p.add_argument("--ttl", metavar="SECONDS", type=float, help="reuse a read for this long (default 15)")
    p.add_argument("--model", metavar="NAME", action="append", dest="models",
                   help="registered model to export; repeat (default: all)")
    p.add_argument("--dvc-repo", metavar="PATH_OR_URL[@REV][=MODEL]", action="append", dest="dvc",
                   help="a DVC repository to read metrics from; repeat")
    p.add_argument("--no-jobs", action="store_false", dest="jobs", default=None,
                   help="do not read training Jobs from Kubernetes")
    p.add_argument("--job-namespace", metavar="NS", action="append", dest="job_namespaces")
    p.add_argument("--instance", metavar="NAME", help="Pushgateway grouping key `instance` (default: host name)")


def parse_repo_flag(text: str) -> DvcRepo:
    """`PATH_OR_URL[@REV][=MODEL]`."""
    text, _, model = text.partition("=")
    repo, rev = text, ""
    at = text.rfind("@")
    if at > 0 and "/" not in text[at:] and ":" not in text[at:]:
        repo, rev = text[:at], text[at + 1:]
    return DvcRepo(repo, rev, model)


def with_flags(config: ExporterConfig, args: argparse.Namespace) -> ExporterConfig:
    changes: dict[str, Any] = {}
    for key in ("listen", "push", "instance"):
        if getattr(args, key, None):
            changes[key] = getattr(args, key)
    for key in ("timeout", "ttl"):
        value = getattr(args, key, None)
        if value is not None:
            if value <= 0:
                raise ConfigError(f"--{key} must be positive")
            changes[key] = value
    if getattr(args, "models", None):
        changes["models"] = tuple(args.models)
    if getattr(args, "job_namespaces", None):
        changes["job_namespaces"] = tuple(args.job_namespaces)
    if getattr(args, "jobs", None) is not None:
        changes["jobs"] = args.jobs
    if getattr(args, "dvc", None):
        changes["dvc"] = tuple(parse_repo_flag(t) for t in args.dvc)
    return replace(config, **changes)


def load(settings: Settings, args: argparse.Namespace) -> ExporterConfig:
    table = section(settings, "exporter")
    return with_flags(from_table(table, settings), args)
