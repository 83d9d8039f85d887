"""The real command in a real terminal emulator (tmux), read back as the screen a person sees.

`tmux send-keys -l TEXT` hands the whole text to the program in one write: the burst a paste, a fast
typist or a laggy SSH link produces (and what reproduced the `/fraud` → runbook bug).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence


class TmuxApp:
    """`with TmuxApp(argv) as term:` starts `argv` in a detached tmux session of `size`; killed on exit."""

    def __init__(self, argv: Sequence[str], *, size: tuple[int, int] = (120, 40),
                 env: Mapping[str, str] | None = None, prefix: str = "mlcall-test") -> None:
        assert shutil.which("tmux"), "tmux is missing: scripts/ensure-binaries.sh installs it"
        self.name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.argv, self.size, self.env = list(argv), size, dict(env or {})
        # a server of our own: never touches a person's tmux sessions, killed with the test
        self.socket = f"{self.name}.sock"

    def _tmux(self, *args: str, check: bool = True) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=check, capture_output=True,
                              text=True, timeout=30).stdout

    def __enter__(self) -> TmuxApp:
        columns, rows = self.size
        env = {"COLUMNS": str(columns), "LINES": str(rows), **self.env}  # else an inherited COLUMNS wins
        env_args = [arg for k, v in env.items() for arg in ("-e", f"{k}={v}")]
        self._tmux("-f", os.devnull, "new-session", "-d", "-s", self.name, "-x", str(columns), "-y", str(rows),
                   *env_args, *self.argv)
        self._tmux("set-option", "-t", self.name, "remain-on-exit", "on", check=False)
        return self

    def __exit__(self, *exc) -> None:
        self._tmux("kill-server", check=False)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def type(self, text: str) -> None:
        """Type `text` literally, in one burst ("\\r" is Enter, "\\x1b" Escape)."""
        self._tmux("send-keys", "-t", self.name, "-l", text)

    def keys(self, *names: str) -> None:
        """Named keys, one `send-keys` (Enter, Escape, C-c …)."""
        self._tmux("send-keys", "-t", self.name, *names)

    def wait(self, condition: Callable[[str], object], what: str, timeout: float = 60.0) -> str:
        """Poll the screen until `condition(screen)` holds; generous timeout, no fixed sleep."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; screen:\n{screen}")


def line_after(screen: str, marker: str, within: int = 3) -> list[str]:
    """The `within` lines below the first line that contains `marker`."""
    lines = screen.splitlines()
    for i, line in enumerate(lines):
        if marker in line:
            return lines[i + 1:i + 1 + within]
    return []
