"""One Alertmanager peer of the local stack: start, stop (SIGTERM), kill (SIGKILL), restart.

A restarted peer keeps its web port, cluster port and storage directory, so HA and
silence-durability tests can crash a node and bring it back as the same node.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from oncall_tui.stack.processes import ManagedProcess, StackError, wait_until

# Fast-mode gossip: a shorter settle (Alertmanager holds notifications until the cluster settles)
# and a shorter peer timeout (peer N waits N × peer-timeout before notifying, for de-duplication).
FAST_CLUSTER_FLAGS = (
    "--cluster.gossip-interval=100ms",  # settle polls every 10 × gossip interval
    "--cluster.settle-timeout=15s",
    "--cluster.peer-timeout=5s",
)


def child_env() -> dict[str, str]:
    """The environment for server processes: ours, minus proxy settings (everything is loopback)."""
    return {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}


class AlertmanagerPeer:
    """A real Alertmanager process on 127.0.0.1. ``cluster_port`` is None when clustering is off."""

    def __init__(
        self,
        index: int,
        *,
        binary: str,
        config_file: Path,
        workdir: Path,
        port: int,
        cluster_port: int | None,
        cluster_peers: list[str],
        fast: bool,
    ) -> None:
        self.index = index
        self.port = port
        self.cluster_port = cluster_port
        self.storage = workdir / f"peer-{index}"
        self.storage.mkdir(parents=True, exist_ok=True)
        argv = [
            binary,
            f"--config.file={config_file}",
            f"--storage.path={self.storage}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url={self.url}",
        ]
        if cluster_port is None:
            argv.append("--cluster.listen-address=")
        else:
            argv += [
                f"--cluster.listen-address=127.0.0.1:{cluster_port}",
                f"--cluster.advertise-address=127.0.0.1:{cluster_port}",
                *(f"--cluster.peer={p}" for p in cluster_peers),
            ]
            if fast:
                argv += list(FAST_CLUSTER_FLAGS)
        self.process = ManagedProcess(
            f"Alertmanager peer {index}", argv, workdir / f"peer-{index}.log", env=child_env()
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cluster_address(self) -> str | None:
        return f"127.0.0.1:{self.cluster_port}" if self.cluster_port is not None else None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.running

    def start(self, *, wait: bool = True, timeout: float = 60.0) -> AlertmanagerPeer:
        """(Re)start on the same port and storage; with ``wait``, until ``/-/ready`` answers."""
        self.process.start()
        if wait:
            self.wait_ready(timeout=timeout)
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        self.process.wait_http(f"{self.url}/-/ready", timeout=timeout)

    def stop(self, grace: float = 10.0) -> None:
        """Clean shutdown (SIGTERM: Alertmanager writes its silences and notification log)."""
        self.process.stop(grace=grace)

    def kill(self) -> None:
        """Crash (SIGKILL): whatever was not yet persisted is lost, as in production."""
        self.process.kill()

    def status(self) -> dict[str, Any]:
        r = httpx.get(f"{self.url}/api/v2/status", timeout=5.0, trust_env=False)
        r.raise_for_status()
        return r.json()

    def wait_cluster_ready(self, peers: int, timeout: float = 60.0) -> dict[str, Any]:
        """Until ``/api/v2/status`` says the gossip cluster is ``ready`` with ``peers`` members."""

        def ready() -> dict[str, Any] | None:
            cluster = self.status().get("cluster") or {}
            ok = cluster.get("status") == "ready" and len(cluster.get("peers") or []) == peers
            return cluster if ok else None

        try:
            return wait_until(  # type: ignore[return-value]
                ready,
                timeout=timeout,
                what=f"peer {self.index} cluster ready with {peers} peers",
                alive=self.process.check_alive,
            )
        except TimeoutError as exc:
            raise StackError(
                f"{exc}; last lines of {self.process.log_path}:\n{self.process.log_tail()}"
            ) from None
