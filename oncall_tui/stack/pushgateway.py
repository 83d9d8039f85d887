"""A real Prometheus Pushgateway on 127.0.0.1 (for `mlcall-tui exporter --push` in tests and demos)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

from oncall_tui.stack import binaries
from oncall_tui.stack.alertmanager import child_env
from oncall_tui.stack.processes import ManagedProcess, free_port


class Pushgateway:
    """``with Pushgateway(workdir) as pgw: pgw.url``; ``metrics()`` reads what it holds now."""

    def __init__(self, workdir: Path | None = None, *, startup_timeout: float = 60.0) -> None:
        self.workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="mlcall-pgw-"))
        self.startup_timeout = startup_timeout
        self.port = 0
        self.url = ""
        self.process: ManagedProcess | None = None

    def start(self) -> Pushgateway:
        binary = binaries.find_pushgateway()  # fails with the install hint before anything runs
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [binary, f"--web.listen-address=127.0.0.1:{self.port}"]  # in memory: no persistence file
        self.process = ManagedProcess("Pushgateway", argv, self.workdir / "pushgateway.log", env=child_env())
        self.process.start()
        try:
            self.process.wait_http(f"{self.url}/-/ready", timeout=self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def metrics(self) -> str:
        """The exposition text the Pushgateway serves on /metrics (what Prometheus would scrape)."""
        response = httpx.get(f"{self.url}/metrics", timeout=10, trust_env=False)
        response.raise_for_status()
        return response.text

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def __enter__(self) -> Pushgateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
