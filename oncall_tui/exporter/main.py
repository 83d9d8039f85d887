"""`mlcall-tui exporter [--listen ADDR] [--push URL] …`: serve /metrics, or push once to a Pushgateway.

Builds its own argument parser (the app's settings flags plus the exporter's), so cli.py only hands
over argv. Exit status: 0; 1 when `--push` could not read every source or could not push; 2 for a
configuration error.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence

from ..config import ConfigError, Settings
from .config import ExporterConfig, add_arguments

USAGE_EPILOG = (
    "Reads the `[exporter]` table of the config file (see README, \"Feeding the rules\"). "
    "MLflow: --mlflow / MLFLOW_TRACKING_URI and MLflow's own auth variables; Jobs: the kubeconfig "
    "or the in-cluster service account."
)


SETTINGS_DESTS = ("config", "profile", "mlflow_uri", "kube_context")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlcall-tui exporter", epilog=USAGE_EPILOG,
                                description="Prometheus metrics from the MLflow registry, DVC metrics and "
                                            "training Jobs: what the monitoring pack's rules alert on.")
    # the app's settings this command uses (its own copy: no import of cli.py, which imports us)
    p.add_argument("--config", metavar="FILE", help="config file (TOML); its [exporter] table")
    p.add_argument("--profile", metavar="NAME", help="profile from the config file")
    p.add_argument("--mlflow", metavar="URI", dest="mlflow_uri", help="MLflow tracking URI")
    p.add_argument("--kube-context", metavar="NAME", dest="kube_context")
    add_arguments(p)
    return p


def load_config(argv: Sequence[str]) -> ExporterConfig:
    from ..config import load as load_settings
    from .config import load

    args = parser().parse_args(list(argv))
    settings = load_settings({k: getattr(args, k) for k in SETTINGS_DESTS})
    return load(settings, args)


def build_sources(config: ExporterConfig) -> list:
    settings: Settings = config.settings
    sources: list = []
    if config.settings.mlflow_uri:
        from .mlflow_source import MlflowSource

        sources.append(MlflowSource(settings.mlflow_uri, models=config.models, model_filter=config.model_filter,
                                    serving_alias=settings.serving_alias, timeout=config.timeout))
    if config.dvc:
        from .dvc_source import DvcSource

        sources.extend(DvcSource(repo) for repo in config.dvc)
    if config.jobs:
        from ..sources.cluster import configuration_problem, in_cluster

        if not configuration_problem(settings) or in_cluster():
            from .jobs_source import JobsSource

            sources.append(JobsSource(settings, namespaces=config.job_namespaces, timeout=config.timeout))
    return sources


def collector_for(config: ExporterConfig):
    from .collector import ExporterCollector

    return ExporterCollector(build_sources(config), timeout=config.timeout, ttl=config.ttl)


def push(config: ExporterConfig) -> int:
    from prometheus_client import CollectorRegistry, push_to_gateway

    collector = collector_for(config)
    collector.prepare()
    states = collector.refresh()
    registry = CollectorRegistry()

    class Snapshot:  # what was read above, exported once (no second read during the push)
        def collect(self):
            from .collector import families_of, to_prometheus

            return to_prometheus(families_of(states))

    registry.register(Snapshot())
    instance = config.instance or socket.gethostname()
    failed = [s for s in states if not s.up]
    for state in states:
        print(f"{state.name}: {'ok' if state.up else 'FAILED ' + state.error} ({state.duration:.2f} s)",
              file=sys.stderr)
    try:
        push_to_gateway(config.push, job=config.job, registry=registry, grouping_key={"instance": instance},
                        timeout=config.timeout)
    except Exception as exc:
        from .collector import describe

        print(f"mlcall-tui exporter: push to the Pushgateway failed: {describe(exc)}", file=sys.stderr)
        return 1
    finally:
        collector.close()
    return 1 if failed else 0


def serve(config: ExporterConfig) -> int:
    from .http import start_server

    host, port = config.listen_address()
    collector = collector_for(config)
    try:
        server, _thread = start_server(collector, host, port)
    except OSError as exc:
        print(f"mlcall-tui exporter: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    # warm up (imports of mlflow/dvc/kubernetes, first reads) so the first scrape is not a cold one
    def warm_up() -> None:
        collector.prepare()
        collector.refresh()

    threading.Thread(target=warm_up, name="mlcall-exporter-warm-up", daemon=True).start()
    names = ", ".join(s.name for s in collector.sources) or "none (configure MLflow, DVC repos or a cluster)"
    print(f"mlcall-tui exporter: serving /metrics on {host}:{server.server_port}; sources: {names}",
          file=sys.stderr, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    collector.close()
    # a read stuck in a hung backend must not hold the exit (worker threads are joined at exit)
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(0)


def main(argv: Sequence[str]) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s mlcall-tui exporter: %(message)s")
    try:
        config = load_config(argv)
        if config.push:
            return push(config)
        config.listen_address()
    except ConfigError as exc:
        print(f"mlcall-tui exporter: {exc}", file=sys.stderr)
        return 2
    return serve(config)
