"""Command line: arguments → Settings → the app or a subcommand. Nothing else lives here."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .config import ConfigError, Settings, load


def _main_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlcall-tui",
        description="Terminal UI for on-call engineers of production ML systems.",
        epilog="Subcommands: `mlcall-tui demo`, `mlcall-tui check`, `mlcall-tui exporter`, "
               "`mlcall-tui runbooks lint [DIR]`.",
    )
    p.add_argument("--version", action="version", version=f"mlcall-tui {__version__}")
    add_settings_flags(p)
    return p


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


def settings_from(args: argparse.Namespace, names=None) -> Settings:
    flags = {k: v for k, v in vars(args).items() if k not in {"command", "scenario", "no_tui", "dirs"}}
    if flags.get("alertmanager_urls"):
        flags["alertmanager_urls"] = [u for item in flags["alertmanager_urls"] for u in item.split(",") if u]
    return load(flags)


def run_tui(settings: Settings) -> int:
    from .ui.app import MlcallApp

    MlcallApp(settings).run()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "demo":
            from .demo import main as demo_main

            return demo_main(argv[1:])
        if argv and argv[0] == "check":
            from .check import main as check_main

            return check_main(argv[1:])
        if argv and argv[0] == "exporter":
            from .exporter.main import main as exporter_main

            return exporter_main(argv[1:])
        if argv and argv[0] == "runbooks":
            if argv[1:2] != ["lint"]:
                print("usage: mlcall-tui runbooks lint [DIR]...", file=sys.stderr)
                return 2
            from .runbook_lint import main as lint_main

            return lint_main(argv[2:])
        args = _main_parser().parse_args(argv)
        settings = settings_from(args)
    except ConfigError as exc:
        print(f"mlcall-tui: {exc}", file=sys.stderr)
        return 2
    if not settings.alertmanager_urls and not settings.prometheus_url:
        print("mlcall-tui: no Alertmanager or Prometheus configured.\n"
              "Give --alertmanager URL / --prometheus URL, set MLCALL_ALERTMANAGER_URL / MLCALL_PROMETHEUS_URL,\n"
              "write them in ~/.config/mlcall-tui/config.toml, or try the local stack: mlcall-tui demo",
              file=sys.stderr)
        return 2
    return run_tui(settings)


if __name__ == "__main__":
    raise SystemExit(main())
