"""Command line: arguments → Settings → the app or a subcommand. Nothing else lives here."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .args import add_settings_flags, settings_from
from .config import ConfigError, Settings, cluster_configs


def _main_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlcall-tui",
        description="Terminal UI for on-call engineers of production ML systems.",
        epilog="Subcommands: `mlcall-tui demo`, `mlcall-tui check`, `mlcall-tui exporter`, `mlcall-tui report`, "
               "`mlcall-tui drill`, `mlcall-tui runbooks lint [DIR]`.",
    )
    p.add_argument("--version", action="version", version=f"mlcall-tui {__version__}")
    add_settings_flags(p)
    return p


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
        if argv and argv[0] in ("report", "drill"):
            from .incidents import drill, report

            return (report if argv[0] == "report" else drill).main(argv[1:])
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
    if not any(c.alertmanager_urls or c.prometheus_url for c in cluster_configs(settings)):
        print("mlcall-tui: no Alertmanager or Prometheus configured.\n"
              "Give --alertmanager URL / --prometheus URL, set MLCALL_ALERTMANAGER_URL / MLCALL_PROMETHEUS_URL,\n"
              "write them in ~/.config/mlcall-tui/config.toml, or try the local stack: mlcall-tui demo",
              file=sys.stderr)
        return 2
    return run_tui(settings)


if __name__ == "__main__":
    raise SystemExit(main())
