"""A managed server subprocess and a free-port helper.

Each server runs in its own process group (so a server's children, e.g. MLflow's uvicorn, go with
it), writes stdout/stderr to a log file, is waited on by polling a real HTTP readiness URL, and is
stopped with SIGTERM then SIGKILL after a grace period. Signals only ever go to the process group
led by the PID this object started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx


class StackError(RuntimeError):
    """A local server failed to start or become ready."""


def free_port(host: str = "127.0.0.1", *, udp: bool = False) -> int:
    """A TCP port on ``host`` that is free right now (and also free for UDP when ``udp``)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if not udp:
            return port
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((host, port))
        except OSError:
            continue
        return port
    raise StackError(f"no free port found on {host}")


def wait_until(
    predicate: Callable[[], object],
    *,
    timeout: float,
    interval: float = 0.2,
    what: str = "condition",
    alive: Callable[[], None] | None = None,
) -> object:
    """Poll ``predicate`` until it returns something truthy; exceptions count as "not yet".

    ``alive`` is called each round and may raise (e.g. when the server process died).
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        if alive is not None:
            alive()
        try:
            result = predicate()
        except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            last_error = exc
            result = None
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)


class ManagedProcess:
    """One server process: start, wait for readiness, stop (SIGTERM, then SIGKILL), restart."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = Path(log_path)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None

    # -- state -------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    @property
    def running(self) -> bool:
        return self._popen is not None and not self._exited()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> ManagedProcess:
        if self.running:
            return self
        if self._popen is not None:
            self._finish(signal.SIGKILL, 10)  # reap a previous, exited run (and any leftovers)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== {time.strftime('%H:%M:%S')} starting: {' '.join(self.argv)}\n".encode())
            log.flush()
            self._popen = subprocess.Popen(  # noqa: S603 - fixed argv list, no shell
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,  # own process group, led by this PID
                close_fds=True,
            )
        return self

    def check_alive(self) -> None:
        """Raise :class:`StackError` (with the log tail) if the process has exited."""
        if self._popen is None:
            raise StackError(f"{self.name} was never started")
        if self._exited():
            if self._popen.returncode is None:
                self._signal_group(signal.SIGKILL)  # leftover children; the leader is still unreaped
            code = self._popen.wait(timeout=10)
            raise StackError(
                f"{self.name} exited with status {code} during start-up; last lines of {self.log_path}:\n"
                f"{self.log_tail()}"
            )

    def wait_http(
        self, url: str, *, timeout: float = 60.0, expect: Callable[[httpx.Response], bool] | None = None
    ) -> None:
        """Poll ``url`` until it answers 200 (and ``expect(response)`` holds), or fail with the log tail."""

        def ready() -> bool:
            r = httpx.get(url, timeout=2.0, trust_env=False)
            return r.status_code == 200 and (expect is None or bool(expect(r)))

        try:
            wait_until(ready, timeout=timeout, what=f"{self.name} at {url}", alive=self.check_alive)
        except TimeoutError as exc:
            raise StackError(f"{exc}; last lines of {self.log_path}:\n{self.log_tail()}") from None

    def _signal_group(self, sig: int) -> None:
        assert self._popen is not None
        pid = self._popen.pid
        try:
            os.killpg(pid, sig)  # group id == our child's PID (start_new_session)
        except ProcessLookupError:
            pass

    def _exited(self) -> bool:
        """Has the leader exited? Does NOT reap it, so its PID (= the group id) stays reserved."""
        assert self._popen is not None
        if self._popen.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self._popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _wait_exited(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._exited():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _finish(self, sig: int, grace: float) -> None:
        assert self._popen is not None
        if self._popen.returncode is not None:  # already reaped: the group id is no longer ours
            return
        if not self._exited():
            self._signal_group(sig)
            if not self._wait_exited(grace):
                self._signal_group(signal.SIGKILL)
                self._wait_exited(10)
        # The leader is a zombie now (not reaped), so the group id is still reserved for us:
        # kill whatever children are left in the group (e.g. MLflow's uvicorn), then reap.
        self._signal_group(signal.SIGKILL)
        self._popen.wait(timeout=10)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace`` seconds. Idempotent."""
        if self._popen is not None:
            self._finish(signal.SIGTERM, grace)

    def kill(self) -> None:
        """SIGKILL the process group at once (a crash, for durability tests). Idempotent."""
        if self._popen is not None:
            self._finish(signal.SIGKILL, 10)
