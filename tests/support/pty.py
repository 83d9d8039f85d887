"""Run the real command in a pseudo-terminal and read every byte it writes (SVG snapshots cannot show
escape sequences). Used by the byte-level safety tests and the terminal-type tests."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

Marker = bytes | Callable[[bytes], bool]


def _seen(marker: Marker, output: bytes) -> bool:
    return marker(output) if callable(marker) else marker in output


def drive(argv: Sequence[str], steps: Sequence[tuple[Marker, bytes]], *, env: Mapping[str, str] | None = None,
          drop_env: Sequence[str] = (), cwd: str | Path | None = None, size: tuple[int, int] = (120, 40),
          timeout: float = 90.0, linger: float = 20.0) -> bytes:
    """Start `argv` in a `size` (columns, rows) pty. For each (marker, keys) step wait until the output
    shows the marker (bytes, or a predicate on all output so far), then type the keys. After the last step,
    read until the program exits (or `linger` seconds pass); the process is killed at the end."""
    columns, rows = size
    child_env = {k: v for k, v in os.environ.items() if k not in drop_env}
    child_env.update(COLUMNS=str(columns), LINES=str(rows), **(env or {}))
    pid, fd = pty.fork()
    if pid == 0:  # child
        if cwd is not None:
            os.chdir(cwd)
        os.execve(argv[0], list(argv), child_env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    output = b""

    def read(until: Callable[[], bool], deadline: float) -> bool:
        nonlocal output
        while time.monotonic() < deadline and not until():
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the program exited
                    return False
                if not chunk:
                    return False
                output += chunk
        return True

    try:
        for marker, keys in steps:
            read(lambda m=marker: _seen(m, output), time.monotonic() + timeout)
            assert _seen(marker, output), f"never drawn: {marker!r}"
            if keys:
                os.write(fd, keys)
        read(lambda: False, time.monotonic() + linger)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    return output
