"""R2 at the byte level for the log tail: an OSC 52 clipboard write (and a screen clear) inside a pod's log
never reaches the engineer's terminal. The real `mlcall-tui` runs in a pseudo-terminal against a real
Alertmanager and kmock; every byte it writes is read. (SVG snapshots cannot show escape bytes.)"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.integration.test_cluster import NS, alert, new_name, seed
from tests.support.ui import post_alerts

pytestmark = pytest.mark.integration


def drive(argv: list[str], env: dict[str, str], steps: list[tuple[bytes, bytes]], timeout: float = 60.0) -> bytes:
    """Run `argv` in a 120x40 pty; for each (wait for, then send) step wait until the output holds the first
    and type the second. Returns every byte written (the process is killed at the end)."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.environ.update(env)
        os.execv(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    output = b""

    def read_until(marker: bytes, deadline: float) -> None:
        nonlocal output
        while time.monotonic() < deadline and marker not in output:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    output += os.read(fd, 65536)
                except OSError:
                    return

    try:
        for marker, keys in steps:
            read_until(marker, time.monotonic() + timeout)
            assert marker in output, f"never drawn: {marker!r}"
            os.write(fd, keys)
        read_until(b"\x00never\x00", time.monotonic() + 2)  # whatever else it draws meanwhile
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    return output


def test_osc52_in_a_pod_log_never_reaches_the_terminal(bare_am, kube, tmp_path):
    name = new_name()
    seeded = seed(kube, name)
    kube.api.logs[(NS, seeded["crashing"])] += "wipe\x1b[2Jscreen \x1b]52;c;cHduZWQ=\x1b\\ tail-marker-end\n"
    post_alerts(bare_am, [alert(name)])
    exe = str(Path(sys.executable).with_name("mlcall-tui"))
    env = {"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", "KUBECONFIG": str(kube.kubeconfig(tmp_path)),
           "MLCALL_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_STATE_HOME": str(tmp_path / "state")}
    out = drive([exe, "--alertmanager", bare_am, "--kube-context", "kmock", "--namespace", NS], env, [
        (b"ModelInferenceLatenessHigh", f"/model={name}\r".encode()),
        (b"OOMKilled", b"d"),  # the panel drew the pods: diagnose
        (b"tail-marker-end", b""),
    ])
    assert b"\x1b]52" not in out
    assert b"clipboard-payload-end" in out and b"tail-marker-end" in out, "the log tail was never drawn"
    assert b"ZXZpbC1jbGlwYm9hcmQ=" not in out and b"cHduZWQ=" not in out
    assert b"\x1b[2J" not in out
    assert b"wipescreen" in out  # the text around the sequences is kept
