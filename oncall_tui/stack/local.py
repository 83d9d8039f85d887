"""LocalStack: real Prometheus, Alertmanager (one or an HA cluster) and MLflow on 127.0.0.1, and optionally
an emulated Kubernetes API (kmock, stack/demo_cluster.py) and hours of metric history (stack/history.py).

Used by ``mlcall-tui demo`` and by the integration tests (same code). Everything listens on loopback
on free ports, lives in one work directory, and is stopped in reverse order by :meth:`stop`
(idempotent, also run at interpreter exit).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oncall_tui.resources import bundled
from oncall_tui.stack import binaries, configs
from oncall_tui.stack.alertmanager import AlertmanagerPeer, child_env
from oncall_tui.stack.processes import ManagedProcess, StackError, free_port, wait_until
from oncall_tui.stack.queries import StackQueries
from oncall_tui.stack.scenarios import Scenario, apply_scenario
from oncall_tui.stack.webhook_sink import WebhookSink


class LocalStack(StackQueries):
    def __init__(
        self,
        workdir: Path | None = None,
        *,
        prometheus: bool = True,
        alertmanager_peers: int = 1,
        mlflow: bool = False,
        model_service: bool = True,
        fast: bool = True,
        progress: Callable[[str], None] | None = None,
        startup_timeout: float = 120.0,
        scenario: str | None = None,
        history_hours: float = 0.0,
        kube: bool = False,
        scrape_configs: list[dict[str, Any]] | None = None,
    ) -> None:
        """`scenario` is applied before Prometheus starts (so the history shows it); `history_hours` of
        the model service's past are written into Prometheus' TSDB first; `kube` starts the emulated
        Kubernetes API with the demo's Deployments (`kubeconfig` then points at it)."""
        if alertmanager_peers < 0:
            raise ValueError("alertmanager_peers must be >= 0")
        self._want_prometheus = prometheus
        self._n_peers = alertmanager_peers
        self._want_mlflow = mlflow
        self._want_model_service = model_service
        self._scenario = scenario
        self.history_hours = history_hours
        self._want_kube = kube
        self.kube: Any = None  # DemoCluster (kmock is imported only when used)
        self.kubeconfig: Path | None = None
        self.history_timings: dict[str, float] = {}
        self.fast = fast
        self._progress = progress or (lambda _line: None)
        self.startup_timeout = startup_timeout
        self._scrape_configs = list(scrape_configs or [])  # more Prometheus jobs (e.g. an exporter)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir is not None else None
        self.model_service: Any = None  # ModelService (prometheus_client is imported only when used)
        self.webhook_sink: WebhookSink | None = None
        self.prometheus_url: str | None = None
        self.mlflow_uri: str | None = None
        self.alertmanager_config: dict[str, Any] | None = None
        self._peers: list[AlertmanagerPeer] = []
        self._prometheus: ManagedProcess | None = None
        self._mlflow: ManagedProcess | None = None
        self._started = False
        self._stopped = False

    # -- public state --------------------------------------------------------------------------
    @property
    def alertmanager_urls(self) -> list[str]:
        return [p.url for p in self._peers]

    @property
    def alertmanager_peers(self) -> list[AlertmanagerPeer]:
        return list(self._peers)

    def alertmanager_peer(self, index: int) -> AlertmanagerPeer:
        return self._peers[index]

    def processes(self) -> dict[str, ManagedProcess]:
        procs = {p.process.name: p.process for p in self._peers}
        if self._prometheus is not None:
            procs["Prometheus"] = self._prometheus
        if self._mlflow is not None:
            procs["MLflow"] = self._mlflow
        return procs

    def pids(self) -> dict[str, int]:
        """PIDs of the server processes that are running now."""
        return {name: p.pid for name, p in self.processes().items() if p.running and p.pid is not None}

    def _say(self, line: str) -> None:
        self._progress(line)

    # -- start ---------------------------------------------------------------------------------
    def start(self) -> LocalStack:
        if self._stopped:
            raise StackError("a LocalStack cannot be restarted after stop(): create a new one")
        if self._started:
            return self
        self._started = True
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        t0 = time.monotonic()
        # Resolve every binary first: a missing one fails before anything runs.
        prom_bin = binaries.find_prometheus() if self._want_prometheus else None
        am_bin = binaries.find_alertmanager() if self._n_peers else None
        mlflow_bin = binaries.find_mlflow() if self._want_mlflow else None
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="mlcall-stack-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        deploy = bundled("deploy")

        # Launch every process first (they start in parallel), then wait for each in order.
        if mlflow_bin:
            self._launch_mlflow(mlflow_bin)
        if self._want_model_service:
            from oncall_tui.stack.model_service import ModelService

            self.model_service = ModelService().start()
            self._say(f"synthetic model service on {self.model_service.metrics_url}")
            if self._scenario:
                apply_scenario(self.model_service, self._scenario)
        if am_bin:
            self._launch_alertmanagers(am_bin, deploy)
        if prom_bin:
            self._launch_prometheus(prom_bin, deploy)
        if self._want_kube:  # in-process; importing kmock takes a moment: overlap it with the servers' start
            self._start_kube()

        timeout = self.startup_timeout
        for peer in self._peers:
            peer.wait_ready(timeout=timeout)
        if len(self._peers) >= 2:
            self._say(f"waiting for the {len(self._peers)} Alertmanager peers to gossip…")
            for peer in self._peers:
                peer.wait_cluster_ready(len(self._peers), timeout=timeout)
        for peer in self._peers:
            self._say(f"Alertmanager peer {peer.index} ready on {peer.url}")
        if self._prometheus is not None:
            self._prometheus.wait_http(f"{self.prometheus_url}/-/ready", timeout=timeout)
            self._say(f"Prometheus ready on {self.prometheus_url}")
            if self.model_service is not None:
                self._say("waiting for Prometheus's first scrape of the model service…")
                wait_until(
                    lambda: self.query(f'up{{job="{configs.MODEL_SERVICE_JOB}"}} == 1'),
                    timeout=timeout,
                    what='up{job="model-service"} == 1',
                    alive=self._prometheus.check_alive,
                )
                self._say("Prometheus is scraping the model service (up == 1)")
        if self._mlflow is not None:
            self._say("waiting for MLflow…")
            self._mlflow.wait_http(f"{self.mlflow_uri}/health", timeout=timeout)
            self._say(f"MLflow ready on {self.mlflow_uri}")
        self._say(f"local stack ready in {time.monotonic() - t0:.1f} s (work dir {self.workdir})")

    def _launch_alertmanagers(self, binary: str, deploy: Path) -> None:
        assert self.workdir is not None
        self.webhook_sink = WebhookSink().start()
        self._say(f"webhook sink (stands in for every receiver) on {self.webhook_sink.url}")
        am_dir = self.workdir / "alertmanager"
        source = deploy / "alertmanager" / "alertmanager.yml"
        self.alertmanager_config = configs.alertmanager_config(
            source if source.is_file() else None, self.webhook_sink.url_for, fast=self.fast
        )
        config_file = configs.dump(self.alertmanager_config, am_dir / "alertmanager.yml")
        ports = [free_port() for _ in range(self._n_peers)]
        clustered = self._n_peers >= 2
        cluster_ports = (
            [free_port(udp=True) for _ in range(self._n_peers)] if clustered else [None] * self._n_peers
        )
        for i in range(self._n_peers):
            others = [f"127.0.0.1:{p}" for j, p in enumerate(cluster_ports) if j != i and p is not None]
            peer = AlertmanagerPeer(
                i,
                binary=binary,
                config_file=config_file,
                workdir=am_dir,
                port=ports[i],
                cluster_port=cluster_ports[i],
                cluster_peers=others,
                fast=self.fast,
            )
            self._peers.append(peer)
            self._say(f"starting Alertmanager peer {i}…")
            peer.start(wait=False)

    def _start_kube(self) -> None:
        from oncall_tui.stack.demo_cluster import DemoCluster
        from oncall_tui.stack.model_service import DEFAULT_MODELS

        assert self.workdir is not None
        models = self.model_service.models if self.model_service is not None else [m.name for m in DEFAULT_MODELS]
        self.kube = DemoCluster(models, self.workdir / "kube").start()
        self.kubeconfig = self.kube.kubeconfig
        if self.model_service is not None:
            self.kube.apply_scenario(self._incidents())
        self._say(f"emulated Kubernetes API (kmock) on {self.kube.url}, kubeconfig {self.kubeconfig}")

    def _incidents(self) -> list[tuple[str, str]]:
        return [(m, kind) for m, kinds in self.model_service.incidents().items() for kind in kinds]

    def _write_history(self, prom_dir: Path) -> None:
        from oncall_tui.stack.history import write_history

        labels = {"job": configs.MODEL_SERVICE_JOB, "instance": self.model_service.target,
                  "namespace": configs.MODEL_SERVICE_NAMESPACE}
        self._say(f"writing {self.history_hours:g} h of metric history into Prometheus' TSDB (promtool)…")
        try:
            self.history_timings = write_history(self.model_service, binaries.find_promtool(), prom_dir / "data",
                                                 hours=self.history_hours, target_labels=labels)
        except Exception as exc:  # the stack is still useful without its past: say so, go on
            self._say(f"no history: {exc}")
            return
        t = self.history_timings
        self._say(f"history written: {t['generate']:.1f} s to generate, {t['promtool']:.1f} s in promtool")

    def _launch_prometheus(self, binary: str, deploy: Path) -> None:
        assert self.workdir is not None
        prom_dir = self.workdir / "prometheus"
        if self.history_hours > 0 and self.model_service is not None:
            self._write_history(prom_dir)
        rules = configs.write_rules(deploy, prom_dir / "rules", fast=self.fast)
        config = configs.prometheus_config(
            model_target=self.model_service.target if self.model_service is not None else None,
            alertmanager_targets=[f"127.0.0.1:{p.port}" for p in self._peers],
            rule_files=rules,
            fast=self.fast,
            extra_scrape_configs=self._scrape_configs,
        )
        config_file = configs.dump(config, prom_dir / "prometheus.yml")
        port = free_port()
        self.prometheus_url = f"http://127.0.0.1:{port}"
        argv = [
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={prom_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url={self.prometheus_url}",
        ]
        self._prometheus = ManagedProcess("Prometheus", argv, prom_dir / "prometheus.log", env=child_env())
        self._say("starting Prometheus…")
        self._prometheus.start()

    def _launch_mlflow(self, binary: str) -> None:
        assert self.workdir is not None
        ml_dir = self.workdir / "mlflow"
        (ml_dir / "artifacts").mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.mlflow_uri = f"http://127.0.0.1:{port}"
        argv = [
            binary, "server",
            "--backend-store-uri", f"sqlite:///{ml_dir / 'mlflow.db'}",
            "--default-artifact-root", str(ml_dir / "artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ]  # fmt: skip
        env = child_env()
        env.update(
            MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true"
        )
        self._mlflow = ManagedProcess("MLflow", argv, ml_dir / "mlflow.log", env=env, cwd=ml_dir)
        self._say("starting MLflow…")
        self._mlflow.start()

    # -- stop ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop everything started, in reverse order. Idempotent."""
        self._stopped = self._started
        errors: list[BaseException] = []
        steps: list[Callable[[], None]] = []
        if self._mlflow is not None:
            steps.append(self._mlflow.stop)
        if self._prometheus is not None:
            steps.append(self._prometheus.stop)
        steps += [p.stop for p in reversed(self._peers)]
        if self.webhook_sink is not None:
            steps.append(self.webhook_sink.stop)
        if self.model_service is not None:
            steps.append(self.model_service.stop)
        if self.kube is not None:
            steps.append(self.kube.stop)
        for step in steps:
            try:
                step()
            except Exception as exc:  # keep stopping the rest
                errors.append(exc)
        atexit.unregister(self.stop)
        if self._own_workdir and self.workdir is not None and self._started and not errors:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if errors:
            raise StackError(f"errors while stopping the local stack: {errors!r}")

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scenarios and queries -----------------------------------------------------------------
    def apply_scenario(self, name: str) -> Scenario:
        if self.model_service is None:
            raise StackError("this stack runs no model service (model_service=False)")
        scenario = apply_scenario(self.model_service, name)
        if self.kube is not None:
            self.kube.apply_scenario(self._incidents())
        return scenario
