"""The fleet at scale: 50,000 alerts over 10 real Alertmanager processes (`[[clusters]]`), side by side with
`amtool alert query` summed over the same clusters.

- poll → screen: in-process (Pilot, headless) through the real sources and app: one cluster's changed
  poll (decode its 5,000 alerts, regroup the 50,000, update the table, draw), and a whole fleet round
  (every cluster polled at once, fetch included, until the frame shows them);
- filter keystroke → frame over the 50,000;
- RSS and idle CPU of the real `mlcall-tui --config fleet.toml` running in tmux;
- `amtool alert query` (-o json, every state) run once per cluster, one after the other, wall time summed.

Run: .venv/bin/python benchmarks/bench_fleet.py [--clusters 10] [--per-cluster 5000]
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
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_scale import make_alerts as _make_alerts  # noqa: E402
from benchmarks.bench_scale import proc_cpu_seconds, proc_rss_mb, tmux_start  # noqa: E402
from oncall_tui import config  # noqa: E402
from oncall_tui.models import SourceHealth, SourceStatus, utcnow  # noqa: E402
from oncall_tui.stack import LocalStack  # noqa: E402
from oncall_tui.stack.binaries import find_amtool  # noqa: E402

SESSION = "mlcall-bench-fleet"


def make_alerts(count: int, generation: int = 0) -> list[dict]:
    """bench_scale's alerts, firing for 3 hours: a long run must not see them resolve (resolve_timeout)."""
    ends = (datetime.now(timezone.utc) + timedelta(hours=3)).isoformat()
    return [{**a, "endsAt": ends} for a in _make_alerts(count, generation)]


def write_config(path: Path, urls: list[str], refresh: float) -> Path:
    # Alertmanager 0.25 takes 1.4 s (idle machine) to 10+ s (loaded) to serialise 5,000 alerts: generous timeouts
    lines = [f"refresh = {refresh}", f"timeout = {min(300.0, refresh * 0.9)}"]
    for i, url in enumerate(urls):
        lines += ["[[clusters]]", f'name = "c{i:02d}"', f'alertmanager = ["{url}"]']
    path.write_text("\n".join(lines) + "\n")
    return path


def total(app) -> int:
    return sum(g.count for g in app.alerts_screen.all_groups)


async def in_process(cfg: Path, urls: list[str], expected: int) -> dict[str, list[float]]:
    from oncall_tui.ui.app import MlcallApp

    app = MlcallApp(config.load({"config": str(cfg)}, env={}))
    figures: dict[str, list[float]] = {"poll": [], "unchanged": [], "round": [], "filter": [], "cluster_filter": [],
                                       "poll_cpu": [], "round_cpu": [], "filter_cpu": []}
    async with app.run_test(size=(120, 40)) as pilot:
        start = time.perf_counter()
        while total(app) < expected:
            if time.perf_counter() - start > 300:
                raise RuntimeError(f"only {total(app)} of {expected} alerts arrived")
            await pilot.pause(0.1)
        figures["first"] = [time.perf_counter() - start]

        async def poll(index: int) -> float:
            """One cluster's poll, from its answer's bytes to the frame: decode, compare, regroup, table, draw."""
            cluster = app.fleet.clusters[index]
            source = cluster.alertmanager
            fetch = source._client.get  # the server's own time to answer is not ours: take it out
            marks: list[float] = []

            async def timed_get(*args, **kwargs):
                response = await fetch(*args, **kwargs)
                await response.aread()
                marks.append(time.perf_counter())
                return response

            source._client.get = timed_get
            cpu = time.process_time()
            try:
                alerts = await source.alerts()
            finally:
                source._client.get = fetch
            app.deliver(cluster, "am", SourceStatus("Alertmanager", SourceHealth.OK, last_success=utcnow()), alerts)
            await pilot.pause()
            figures["poll_cpu"].append(time.process_time() - cpu)
            return time.perf_counter() - marks[-1]

        profile = None
        if os.environ.get("BENCH_PROFILE"):
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        for i in range(5):
            url = urls[i % len(urls)]
            extra = make_alerts(1, generation=100 + i)
            extra[0]["labels"]["instance"] = f"extra-{i}"
            httpx.post(f"{url}/api/v2/alerts", json=extra, timeout=30).raise_for_status()
            figures["poll"].append(await poll(i % len(urls)))
            figures["unchanged"].append(await poll(i % len(urls)))

        if profile is not None:
            import pstats

            profile.disable()
            pstats.Stats(profile).sort_stats(os.environ["BENCH_PROFILE"]).print_stats(30)
        # a whole round: every cluster changed, every poll loop woken at once, until the screen shows all
        for r in range(3):
            for i, url in enumerate(urls):
                extra = make_alerts(1, generation=200 + r)
                extra[0]["labels"]["instance"] = f"round-{r}-{i}"
                httpx.post(f"{url}/api/v2/alerts", json=extra, timeout=30).raise_for_status()
            want = total(app) + len(urls)
            start, cpu = time.perf_counter(), time.process_time()
            app._refresh_pollers()
            while total(app) < want:
                await pilot.pause(0.01)
            await pilot.pause()
            figures["round"].append(time.perf_counter() - start)
            figures["round_cpu"].append(time.process_time() - cpu)

        screen = app.alerts_screen
        screen.action_filter()  # the filter box open and focused, as when typing into it
        await pilot.pause()
        for word, key in (("model-42", "filter"), ("@cluster=c03", "cluster_filter")):
            text = ""
            for char in word:  # what a keystroke in the filter box does, then the frame
                text += char
                start, cpu = time.perf_counter(), time.process_time()
                screen._set_filter(text)
                await pilot.pause()
                figures[key].append(time.perf_counter() - start)
                figures["filter_cpu"].append(time.process_time() - cpu)
                await pilot.pause(0.2)  # typing at 5 keys/s: the panels catch up in the pause
            screen._set_filter("")
            await pilot.pause()
    return figures


def in_tmux(cfg: Path, expected: int, idle_seconds: float) -> dict[str, float]:
    pid = tmux_start(SESSION, f"--config {cfg}")
    try:
        start = time.monotonic()
        while f"{expected} alerts" not in (screen := subprocess.run(["tmux", "capture-pane", "-p", "-t", SESSION],
                                                                     capture_output=True, text=True).stdout):
            if time.monotonic() - start > 300:
                raise RuntimeError("alerts never appeared:\n" + screen)
            time.sleep(0.1)
        launch_to_alerts = time.monotonic() - start
        time.sleep(2)
        rss = proc_rss_mb(pid)
        cpu0, t0 = proc_cpu_seconds(pid), time.monotonic()
        time.sleep(idle_seconds)
        cpu = (proc_cpu_seconds(pid) - cpu0) / (time.monotonic() - t0) * 100
        rss = max(rss, proc_rss_mb(pid))
        return {"rss": rss, "idle_cpu": cpu, "launch": launch_to_alerts,
                "screen": subprocess.run(["tmux", "capture-pane", "-p", "-t", SESSION],
                                         capture_output=True, text=True).stdout}
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


def amtool_sum(urls: list[str], runs: int = 1) -> tuple[float, int]:
    """Wall time of `amtool alert query` (every state, JSON) over every cluster, one after the other."""
    amtool = find_amtool()
    times, count = [], 0
    for _ in range(runs):
        start, count = time.perf_counter(), 0
        for url in urls:
            done = subprocess.run([amtool, "alert", "query", "--alertmanager.url", url, "-o", "json", "--active",
                                   "--silenced", "--inhibited", "--unprocessed", "--timeout", "300s"],
                                  capture_output=True, text=True)
            if done.returncode:
                raise RuntimeError(f"amtool failed on {url}: {done.stderr[:300]}")
            count += done.stdout.count('"fingerprint"')
        times.append(time.perf_counter() - start)
    return statistics.median(times), count


def start_clusters(n: int, workdir: Path) -> list[LocalStack]:
    # production route timings (group_interval 5m): the demo's 5 s ones make 10 Alertmanagers holding 5,000
    # alerts each send webhooks non-stop and take both cores, which would be measuring them, not us
    stacks = [LocalStack(workdir / f"am-{i}", prometheus=False, model_service=False, fast=False) for i in range(n)]
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda s: s.start(), stacks))
    return stacks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--per-cluster", type=int, default=5000)
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--refresh", type=float, default=30, help="refresh of the real process (s)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        stacks = start_clusters(args.clusters, Path(tmp))
        am_rss = 0.0
        try:
            urls = [s.alertmanager_urls[0] for s in stacks]
            alerts = make_alerts(args.per_cluster)  # the same rules fire in every cluster: groups span them
            for url in urls:
                httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=120).raise_for_status()
            expected = args.clusters * args.per_cluster
            am_time, am_count = amtool_sum(urls)
            am_rss = sum(proc_rss_mb(s.alertmanager_peer(0).pid) for s in stacks)
            fig = asyncio.run(in_process(write_config(Path(tmp) / "bench.toml", urls, 3600), urls, expected))
            print("in-process (ms, median):", {k: round(statistics.median(v) * 1000, 1) for k, v in fig.items()},
                  f"amtool summed {am_time * 1000:.0f} ms for {am_count} alerts", flush=True)
            expected_now = expected + 5 + 3 * args.clusters  # the extras of the changed polls and rounds
            real = in_tmux(write_config(Path(tmp) / "fleet.toml", urls, args.refresh), expected_now, args.idle_seconds)
        finally:
            for s in stacks:
                s.stop()
    load_after = os.getloadavg()
    ms = {k: statistics.median(v) * 1000 for k, v in fig.items()}
    n = f"{expected:,}"
    rows = [
        (f"first poll of {args.clusters} clusters → {n} alerts on screen (ms)", ms["first"], "-"),
        (f"one cluster's changed poll → screen, {n} shown (ms)", ms["poll"], "≤ 1000"),
        ("  CPU time of ours in it, all threads (ms)", ms["poll_cpu"], "-"),
        ("unchanged poll → nothing rebuilt (ms)", ms["unchanged"], "-"),
        (f"all {args.clusters} clusters changed: one round, fetch included → screen (ms)", ms["round"], "-"),
        (f"`amtool alert query` × {args.clusters} clusters, summed ({am_count:,} alerts) (ms)", am_time * 1000, "-"),
        ("  CPU time of ours in it, all threads (ms)", ms["round_cpu"], "-"),
        ("round ÷ amtool (lower is better for us)", ms["round"] / (am_time * 1000), "-"),
        ("filter keystroke `model-42` → frame, median (ms)", ms["filter"], "≤ 100"),
        ("filter keystroke → frame, worst (ms)", max(fig["filter"]) * 1000, "≤ 100"),
        ("filter keystroke `@cluster=c03` → frame, median (ms)", ms["cluster_filter"], "≤ 100"),
        ("  CPU time of ours per keystroke, median (ms)", ms["filter_cpu"], "-"),
        ("launch → all alerts on screen, real process in tmux (s)", real["launch"], "-"),
        (f"memory at {n} alerts, real process (MB RSS)", real["rss"], "≤ 300"),
        (f"idle CPU, refresh {args.refresh:g} s, nothing changing (% of a core, {args.idle_seconds:.0f} s)",
         real["idle_cpu"], "≤ 3"),
    ]
    print(f"\n{args.clusters} Alertmanager processes hold {am_rss:.0f} MB RSS together")
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (2 cores, shared)")
    print(f"{'what':<78} {'figure':>10}  budget")
    for what, value, budget in rows:
        print(f"{what:<78} {value:>10.2f}  {budget}")
    print("\nthe real process's screen:\n" + real["screen"])


if __name__ == "__main__":
    main()
