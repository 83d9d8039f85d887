"""`mlcall-tui exporter` scrape time: 200 registered models × 5 versions in a real MLflow server and 20
real DVC repositories, cold (every source read) and cached (within the TTL), over real HTTP.

Budget (issue 12): a cached scrape ≤ 50 ms; a cold one within the scrape timeout (10 s by default, the
exporter's own per-source timeout is 8 s). Seeding 1,000 versions into `mlflow server --workers 1`
takes a few minutes: it is done once per run.
Run: .venv/bin/python benchmarks/bench_exporter.py [--models 200] [--versions 5] [--repos 20] [--rounds 50]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from oncall_tui.exporter.collector import ExporterCollector  # noqa: E402
from oncall_tui.exporter.config import DvcRepo  # noqa: E402
from oncall_tui.exporter.dvc_source import DvcSource  # noqa: E402
from oncall_tui.exporter.http import start_server  # noqa: E402
from oncall_tui.exporter.mlflow_source import MlflowSource  # noqa: E402
from oncall_tui.stack import LocalStack  # noqa: E402
from oncall_tui.stack.dvc_repo import make_dvc_repo, write_metrics  # noqa: E402
from oncall_tui.stack.processes import free_port  # noqa: E402
from oncall_tui.stack.registry_seed import SeedModel, SeedVersion, seed_model  # noqa: E402


def seed_registry(uri: str, models: int, versions: int) -> float:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    specs = [SeedModel(f"bench-model-{i:03d}",
                       tuple(SeedVersion(40 - 5 * v, {"val_auc": 0.9}) for v in range(versions)),
                       {"champion": versions, "challenger": max(1, versions - 1)})
             for i in range(models)]
    start = time.perf_counter()
    with cf.ThreadPoolExecutor(4) as pool:  # the server has one worker; this only overlaps client work
        list(pool.map(lambda spec: seed_model(client, spec), specs))
    return time.perf_counter() - start


def make_repos(base: Path, count: int) -> list[DvcRepo]:
    first = make_dvc_repo(base / "repo-00", {"data_drift": {"kolmogorov_smirnov": {"amount": 0.1}}})
    repos = [DvcRepo(str(first), "main", "bench-model-000")]
    for i in range(1, count):
        path = base / f"repo-{i:02d}"
        shutil.copytree(first, path)  # an independent Git + DVC repository
        write_metrics(path, {"data_drift": {"kolmogorov_smirnov": {f"f{j}": 0.01 * j for j in range(10)}},
                             "accuracy": 0.9})
        repos.append(DvcRepo(str(path), "main", f"bench-model-{i:03d}"))
    return repos


def serve(collector: ExporterCollector) -> tuple[str, object]:
    port = free_port()
    server, _ = start_server(collector, "127.0.0.1", port)  # what `mlcall-tui exporter` serves with
    return f"http://127.0.0.1:{port}/metrics", server


def scrape(client: httpx.Client, url: str) -> tuple[float, str]:
    start = time.perf_counter()
    response = client.get(url)
    response.raise_for_status()
    return (time.perf_counter() - start) * 1000, response.text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlcall-bench-exporter-"))
    with LocalStack(work / "stack", prometheus=False, alertmanager_peers=0, model_service=False,
                    mlflow=True) as stack:
        seeded = seed_registry(stack.mlflow_uri, args.models, args.versions)
        print(f"seeded {args.models} models × {args.versions} versions in {seeded:.0f} s", flush=True)
        repos = make_repos(work / "dvc", args.repos)

        def sources():
            return [MlflowSource(stack.mlflow_uri, timeout=8.0), *(DvcSource(r) for r in repos)]

        rows = []
        with httpx.Client(timeout=30, trust_env=False) as client:
            cached = ExporterCollector(sources(), timeout=8.0, ttl=3600)
            start = time.perf_counter()
            cached.prepare()
            imports = (time.perf_counter() - start) * 1000
            url, server = serve(cached)
            cold, text = scrape(client, url)
            assert text.count("mlflow_model_versions{") == args.models, "every model exported"
            assert text.count("dvc_metrics_commit_timestamp{") == args.repos, "every repository exported"
            assert 'mlcall_exporter_source_up{source="mlflow"} 1.0' in text
            hits = sorted(scrape(client, url)[0] for _ in range(args.rounds))
            durations = {s.name: s.duration for s in cached.refresh()}
            server.shutdown()
            cached.close()

            rereads = ExporterCollector(sources(), timeout=8.0, ttl=0.001)
            rereads.prepare()
            url, server = serve(rereads)
            scrape(client, url)
            warm = sorted(scrape(client, url)[0] for _ in range(max(3, args.rounds // 10)))
            server.shutdown()
            rereads.close()

        lines = len([ln for ln in text.splitlines() if ln and not ln.startswith("#")])
        slowest_dvc = max(v for k, v in durations.items() if k.startswith("dvc:"))
        rows = [
            ("start-up: imports (mlflow, dvc) and a warm-up read of each DVC repo, once", f"{imports:.0f} ms", "—"),
            ("cold scrape: every source read (concurrently)", f"{cold:.0f} ms", "≤ scrape timeout (10 s)"),
            (f"  of which MLflow read ({args.models} models × {args.versions} versions)", f"{durations['mlflow'] * 1000:.0f} ms", "—"),
            ("  of which slowest DVC repo read", f"{slowest_dvc * 1000:.0f} ms", "—"),
            ("scrape after the TTL (clients warm, every source re-read), median",
             f"{statistics.median(warm):.0f} ms", "≤ scrape timeout"),
            ("cached scrape (within the TTL), median / p95",
             f"{statistics.median(hits):.1f} / {hits[int(len(hits) * 0.95) - 1]:.1f} ms", "≤ 50 ms"),
            ("series in one scrape", f"{lines}", "—"),
        ]
    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  {'figure':>14}  budget")
    for name, figure, budget in rows:
        print(f"{name.ljust(width)}  {figure:>14}  {budget}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
