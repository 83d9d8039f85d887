"""Command-line flags shared by every subcommand that needs Settings (the TUI, `check`): one place, so
`cli.py` and `check.py` both import it and neither imports the other's caller."""

from __future__ import annotations

import argparse

from .config import Settings, load


def add_settings_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="config file (TOML)")
    p.add_argument("--profile", metavar="NAME", help="profile from the config file (prod, staging…)")
    p.add_argument("--alertmanager", metavar="URL", action="append", dest="alertmanager_urls",
                   help="Alertmanager URL; repeat for the peers of an HA cluster")
    p.add_argument("--prometheus", metavar="URL", dest="prometheus_url")
    p.add_argument("--mlflow", metavar="URI", dest="mlflow_uri")
    p.add_argument("--kube-context", metavar="NAME", dest="kube_context")
    p.add_argument("--namespace", metavar="NS")
    p.add_argument("--runbooks", metavar="DIR", action="append", dest="runbook_dirs")
    p.add_argument("--user", metavar="NAME", help="author of silences (default $USER@hostname)")
    p.add_argument("--audit-log", metavar="FILE", dest="audit_log")
    p.add_argument("--refresh", metavar="SECONDS", type=float)
    p.add_argument("--theme", metavar="NAME")
    p.add_argument("--read-only", action="store_true", default=None, dest="read_only",
                   help="no action that changes anything is offered")


SETTINGS_FLAGS = {"config", "profile", "alertmanager_urls", "prometheus_url", "mlflow_uri", "kube_context", "namespace",
                  "runbook_dirs", "user", "audit_log", "refresh", "theme", "read_only"}


def settings_from(args: argparse.Namespace, names=None) -> Settings:
    """Settings from the flags of add_settings_flags; a subcommand's own flags are left out."""
    flags = {k: v for k, v in vars(args).items() if k in SETTINGS_FLAGS}
    if flags.get("alertmanager_urls"):
        flags["alertmanager_urls"] = [u for item in flags["alertmanager_urls"] for u in item.split(",") if u]
    return load(flags)
