"""`mlcall-tui demo`: the real local stack with synthetic ML incidents, and the TUI on top of it."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path

from .config import Settings, load


def _parser() -> argparse.ArgumentParser:
    from .stack.scenarios import SCENARIOS

    p = argparse.ArgumentParser(prog="mlcall-tui demo",
                                description="Start Prometheus, Alertmanager and MLflow on loopback with a "
                                            "synthetic model service, trigger incidents, and open the TUI.")
    p.add_argument("--scenario", default="default", choices=sorted(SCENARIOS),
                   help="; ".join(f"{s.name}: {s.description}" for s in SCENARIOS.values()))
    p.add_argument("--no-tui", action="store_true", help="print the URLs and keep the stack running until Ctrl-C")
    p.add_argument("--no-mlflow", action="store_true", help="skip the MLflow server (it takes ~6 s to start)")
    p.add_argument("--no-kube", action="store_true", help="skip the emulated Kubernetes API (kmock)")
    p.add_argument("--history", type=float, default=6.0, metavar="HOURS",
                   help="hours of metric history written into Prometheus before it starts (0: none; default 6)")
    return p


def _mlflow_available() -> bool:
    from .stack import binaries

    try:
        binaries.find_mlflow()
        return True
    except Exception:
        return False


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    _stop_on_hangup()
    from .stack import LocalStack
    from .stack.binaries import BinaryNotFound

    with_mlflow = not args.no_mlflow and _mlflow_available()
    stack = LocalStack(mlflow=with_mlflow, progress=lambda line: print(f"  {line}", flush=True),
                       scenario=args.scenario, history_hours=max(0.0, args.history), kube=not args.no_kube)
    print("Starting the local stack (real servers on 127.0.0.1)…", flush=True)
    try:
        stack.start()
    except BinaryNotFound as exc:
        print(f"mlcall-tui demo: {exc}", file=sys.stderr)
        return 1
    try:
        from .stack.scenarios import get_scenario

        scenario = get_scenario(args.scenario)  # applied by the stack before Prometheus started
        if stack.mlflow_uri:
            _seed_registry(stack.mlflow_uri)
        print(f"Scenario {scenario.name!r}: {scenario.description}")
        print(f"  expected to fire within about a minute: {', '.join(scenario.alerts)}")
        settings = demo_settings(stack)
        if args.no_tui:
            _print_urls(stack)
            _wait_for_ctrl_c()
            return 0
        from .ui.app import MlcallApp

        MlcallApp(settings).run()
        return 0
    finally:
        print("Stopping the local stack…", flush=True)
        stack.stop()


def _stop_on_hangup() -> None:
    """Closing the terminal (SIGHUP: a closed tmux window or SSH session) or a kill (SIGTERM) stops the
    servers too, like `q` and Ctrl-C: they run in sessions of their own and would outlive the demo."""
    def leave(signum, _frame) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, leave)


def demo_settings(stack) -> Settings:
    """Settings pointing at the stack; the audit log and user are the demo's own."""
    base = load({}, env={})
    workdir = Path(stack.workdir)
    kube = {"kubeconfig": str(stack.kubeconfig), "kube_context": stack.kube.kube_context} if stack.kube else {}
    return replace(base, alertmanager_urls=tuple(stack.alertmanager_urls), prometheus_url=stack.prometheus_url or "",
                   mlflow_uri=stack.mlflow_uri or "", refresh=2.0, timeout=1.5, namespace="ml-prod",
                   audit_log=str(workdir / "audit.jsonl"), profile="demo", **kube)


def _seed_registry(uri: str) -> None:
    try:
        from .stack.registry_seed import seed
    except ImportError:  # the registry seed ships with the model-registry feature
        return
    seed(uri)


def _print_urls(stack) -> None:
    print("\nThe stack is running:")
    print(f"  Prometheus     {stack.prometheus_url}")
    for url in stack.alertmanager_urls:
        print(f"  Alertmanager   {url}")
    if stack.mlflow_uri:
        print(f"  MLflow         {stack.mlflow_uri}")
    if stack.model_service is not None:
        print(f"  model service  {stack.model_service.metrics_url}")
    if stack.kube is not None:
        print(f"  Kubernetes     {stack.kube.url} (emulated by kmock; KUBECONFIG={stack.kubeconfig})")
    exe = shutil.which("mlcall-tui") or "mlcall-tui"
    urls = " ".join(f"--alertmanager {u}" for u in stack.alertmanager_urls)
    kube_env = f"KUBECONFIG={stack.kubeconfig} " if stack.kube is not None else ""
    print(f"\nIn another terminal:\n  {kube_env}{exe} {urls} --prometheus {stack.prometheus_url}"
          + (f" --mlflow {stack.mlflow_uri}" if stack.mlflow_uri else "")
          + (f" --kube-context {stack.kube.kube_context} --namespace ml-prod" if stack.kube else ""))
    print("\nCtrl-C stops everything.", flush=True)


def _wait_for_ctrl_c() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
