"""5,000 active alerts against DESIGN §8: poll → screen, filter keystroke → frame, memory, idle CPU.

In-process figures use the real app driven by Pilot (headless) fed by a real Alertmanager; memory and
idle CPU are read from /proc for the real `mlcall-tui` command running in tmux.
Run: .venv/bin/python benchmarks/bench_scale.py [--alerts N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oncall_tui.config import Settings  # noqa: E402
from oncall_tui.models import SourceHealth, SourceStatus, utcnow  # noqa: E402
from oncall_tui.stack import LocalStack  # noqa: E402

NAMES = ["ModelInferenceLatenessHigh", "DataDriftDetected", "ModelStalenessHigh", "TrainingJobFailed",
         "ModelRegistryPushFailed"]
SESSION = "mlcall-bench-scale"


def make_alerts(count: int, generation: int = 0) -> list[dict]:
    now = datetime.now(timezone.utc)
    return [{"labels": {"alertname": NAMES[i % 5], "severity": ("critical", "warning")[i % 2], "component": "bench",
                        "model": f"model-{i % 100}", "instance": f"i{i}", "gen": str(generation)},
             "annotations": {"summary": f"benchmark alert {i}"},
             "startsAt": (now - timedelta(seconds=i)).isoformat()} for i in range(count)]


async def in_process(url: str, count: int) -> dict[str, float]:
    """Through the real source and the real app: fetch, decode, group, update the table, draw."""
    from oncall_tui.ui.app import MlcallApp

    app = MlcallApp(Settings(alertmanager_urls=(url,), refresh=3600, timeout=30))
    figures: dict[str, list[float]] = {"poll": [], "unchanged": [], "filter": []}
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 60
        while sum(g.count for g in app.alerts_screen.all_groups) < count and time.monotonic() < deadline:
            await pilot.pause(0.1)
        source = app.fleet.clusters[0].alertmanager

        async def poll() -> float:
            """Time from the answer's bytes to the frame: decode, compare, group, table, draw."""
            fetch = source._client.get  # the server's own time to answer is not ours: take it out

            async def timed_get(*args, **kwargs):
                response = await fetch(*args, **kwargs)
                await response.aread()
                marks.append(time.perf_counter())
                return response

            marks: list[float] = []
            source._client.get = timed_get
            try:
                alerts = await source.alerts()
            finally:
                source._client.get = fetch
            app.deliver(app.fleet.clusters[0], "am", SourceStatus("Alertmanager", SourceHealth.OK,
                                                                  last_success=utcnow()), alerts)
            await pilot.pause()
            return time.perf_counter() - marks[-1]

        for i in range(5):
            # a changed poll: one more alert in Alertmanager, so all 5,000+ are decoded and regrouped
            extra = make_alerts(1, generation=i + 1)
            extra[0]["labels"]["instance"] = f"extra-{i}"
            httpx.post(f"{url}/api/v2/alerts", json=extra, timeout=30).raise_for_status()
            figures["poll"].append(await poll())
            figures["unchanged"].append(await poll())
        screen = app.alerts_screen
        rows = screen.table.row_count  # before the filter narrows them
        text = ""
        for key in "model-42":  # what a keystroke in the filter box does, then the frame
            text += key
            start = time.perf_counter()
            screen._set_filter(text)
            await pilot.pause()
            figures["filter"].append(time.perf_counter() - start)
    medians = {k: statistics.median(v) * 1000 for k, v in figures.items()}
    medians["filter_max"] = max(figures["filter"]) * 1000
    medians["rows"] = rows
    return medians


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tmux_start(session: str, flags: str) -> int:
    """The real `mlcall-tui FLAGS` in a fresh 120×40 tmux session; its PID."""
    exe = str(Path(sys.executable).with_name("mlcall-tui"))
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    subprocess.run(["tmux", "new-session", "-d", "-x", "120", "-y", "40", "-s", session, f"exec {exe} {flags}"],
                   check=True)
    return int(subprocess.run(["tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"],
                              capture_output=True, text=True, check=True).stdout.split()[0])


def in_tmux(url: str, count: int, idle_seconds: float) -> dict[str, float]:
    pid = tmux_start(SESSION, f"--alertmanager {url} --refresh 5")
    try:
        deadline = time.monotonic() + 60
        while f"{count} alerts" not in subprocess.run(["tmux", "capture-pane", "-p", "-t", SESSION],
                                                      capture_output=True, text=True).stdout:
            if time.monotonic() > deadline:
                raise RuntimeError("alerts never appeared:\n" + subprocess.run(["tmux", "capture-pane", "-p", "-t", SESSION], capture_output=True, text=True).stdout)
            time.sleep(0.1)
        time.sleep(2)
        rss = proc_rss_mb(pid)
        cpu0, t0 = proc_cpu_seconds(pid), time.monotonic()
        time.sleep(idle_seconds)
        cpu = (proc_cpu_seconds(pid) - cpu0) / (time.monotonic() - t0) * 100
        return {"rss": rss, "idle_cpu": cpu}
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--idle-seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with LocalStack(Path(tmp) / "stack", prometheus=False, model_service=False) as stack:
            url = stack.alertmanager_urls[0]
            httpx.post(f"{url}/api/v2/alerts", json=make_alerts(args.alerts), timeout=60).raise_for_status()
            fig = asyncio.run(in_process(url, args.alerts))
            real = in_tmux(url, args.alerts + 5, args.idle_seconds)  # the 5 extras of the changed polls
    rows = [
        (f"{args.alerts} alerts: poll → screen updated (ms)", fig["poll"], "≤ 300"),
        ("unchanged poll → nothing rebuilt (ms)", fig["unchanged"], "(rebuilds nothing)"),
        ("filter keystroke → frame, median (ms)", fig["filter"], "≤ 100"),
        ("filter keystroke → frame, worst (ms)", fig["filter_max"], "≤ 100"),
        (f"memory at {args.alerts} alerts, real process (MB RSS)", real["rss"], "≤ 150"),
        (f"idle CPU, refresh 5 s, nothing changing (% of a core, {args.idle_seconds:.0f} s)", real["idle_cpu"], "≤ 2"),
    ]
    print(f"{args.alerts} alerts in {int(fig['rows'])} table rows (groups), Python {sys.version.split()[0]}")
    for name, value, budget in rows:
        print(f"{name:<66} {value:>8.1f}  {budget}")


if __name__ == "__main__":
    main()
