"""Launch → first frame and launch → alerts visible, in a real terminal (tmux), against DESIGN §8.

Prints a table. The bare Textual app (a Static and a Footer) is measured the same way, as the yardstick.
Run: .venv/bin/python benchmarks/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
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

from oncall_tui.stack import LocalStack  # noqa: E402

BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Static
class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Static("bare textual app")
        yield Footer()
Bare().run()
"""
SESSION = "mlcall-bench"


def capture() -> str:
    result = subprocess.run(["tmux", "capture-pane", "-p", "-t", SESSION], capture_output=True, text=True)
    return result.stdout


def time_until(command: str, marker: str, timeout: float = 30.0) -> float:
    """Seconds from starting `command` in a fresh 120×40 tmux session until `marker` is on screen."""
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    start = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-x", "120", "-y", "40", "-s", SESSION, command], check=True)
    try:
        while time.perf_counter() - start < timeout:
            if marker in capture():
                return time.perf_counter() - start
            time.sleep(0.005)
        raise RuntimeError(f"{marker!r} did not appear within {timeout} s:\n{capture()}")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


def post_alerts(url: str, count: int) -> None:
    now = datetime.now(timezone.utc)
    alerts = []
    names = ["ModelInferenceLatenessHigh", "DataDriftDetected", "ModelStalenessHigh", "TrainingJobFailed",
             "ModelRegistryPushFailed"]
    for i in range(count):
        alerts.append({"labels": {"alertname": names[i % 5], "severity": ("critical", "warning")[i % 2],
                                  "component": "bench", "model": f"model-{i % 40}", "instance": f"i{i}"},
                       "annotations": {"summary": f"benchmark alert {i}"},
                       "startsAt": (now - timedelta(seconds=i)).isoformat()})
    httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=30).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    exe = str(Path(python).with_name("mlcall-tui"))
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_APP)
        with LocalStack(Path(tmp) / "stack", prometheus=False, model_service=False) as stack:
            url = stack.alertmanager_urls[0]
            post_alerts(url, 200)
            rows = []
            bare_runs = [time_until(f"{python} {bare}", "bare textual app") for _ in range(args.runs)]
            # the first frame: the title bar and the alerts table's header are drawn
            frame_runs = [time_until(f"{exe} --alertmanager http://127.0.0.1:9", "Sev")
                          for _ in range(args.runs)]
            footer_runs = [time_until(f"{exe} --alertmanager http://127.0.0.1:9", "Filter")
                           for _ in range(args.runs)]
            alert_runs = [time_until(f"{exe} --alertmanager {url}", "200 alerts") for _ in range(args.runs)]
    bare_s, frame_s, footer_s, alerts_s = (statistics.median(r)
                                           for r in (bare_runs, frame_runs, footer_runs, alert_runs))
    rows = [
        ("bare Textual app: launch → first frame", bare_s, "(yardstick)"),
        ("launch → first frame", frame_s, f"≤ 0.8 s and ≤ 1.5× bare ({1.5 * bare_s:.2f} s)"),
        ("launch → footer keys drawn", footer_s, "(no budget)"),
        ("launch → 200 alerts visible (real Alertmanager)", alerts_s, "≤ 1.5 s"),
    ]
    print(f"median of {args.runs} runs, tmux 120×40, {sys.platform}, Python {sys.version.split()[0]}")
    print(f"{'measure':<50} {'seconds':>8}  budget")
    for name, value, budget in rows:
        print(f"{name:<50} {value:>8.3f}  {budget}")
    ok = frame_s <= 0.8 and frame_s <= 1.5 * bare_s and alerts_s <= 1.5
    print("within budget" if ok else "OVER BUDGET")


if __name__ == "__main__":
    main()
