"""`mlcall-tui check`: non-interactive health of every configured backend of every cluster; exit 1 if one
fails, naming the broken clusters."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import httpx

from .args import add_settings_flags, settings_from
from .config import ConfigError, Settings, cluster_configs, for_cluster
from .models import BackendCheck
from .safe_text import redact_url, sanitize
from .sources.alertmanager import AlertmanagerSource
from .sources.prometheus import PrometheusSource


async def _timed(coro):
    start = time.perf_counter()
    result = await coro
    return result, (time.perf_counter() - start) * 1000


async def check_alertmanager(settings: Settings) -> list[BackendCheck]:
    if not settings.alertmanager_urls:
        return [BackendCheck("Alertmanager", "", None)]
    source = AlertmanagerSource(settings.alertmanager_urls, timeout=settings.timeout)
    try:
        peers, ms = await _timed(source.status())
    finally:
        await source.aclose()
    out = []
    for peer in peers:
        detail = f"{peer.version} cluster {peer.cluster or 'n/a'} ({peer.peers} peers)" if peer.ok else ""
        out.append(BackendCheck("Alertmanager", redact_url(peer.url), peer.ok, detail, ms, peer.error))
    return out


async def check_prometheus(settings: Settings) -> BackendCheck:
    if not settings.prometheus_url:
        return BackendCheck("Prometheus", "", None)
    from .sources.http_config import for_settings

    url = redact_url(settings.prometheus_url)
    try:  # the cluster's (or [prometheus]) headers, e.g. the Mimir tenant, auth and TLS
        client = for_settings(settings).client(settings.timeout)
    except (ConfigError, OSError) as exc:
        return BackendCheck("Prometheus", url, False, error=f"configuration: {exc}")
    source = PrometheusSource(settings.prometheus_url, timeout=settings.timeout, client=client)
    try:
        version, ms = await _timed(source.build_info())
        return BackendCheck("Prometheus", url, True, version, ms)
    except Exception as exc:
        return BackendCheck("Prometheus", url, False, error=str(exc))
    finally:
        await source.aclose()


async def check_mlflow(settings: Settings) -> BackendCheck:
    uri = settings.mlflow_uri
    if not uri:
        return BackendCheck("MLflow", "", None)
    if not uri.startswith(("http://", "https://")):
        ok = Path(uri.removeprefix("file://")).exists() if "://" not in uri or uri.startswith("file://") else True
        return BackendCheck("MLflow", redact_url(uri), ok, "local store", error="" if ok else "path not found")
    try:
        async with httpx.AsyncClient(timeout=settings.timeout) as client:
            response, ms = await _timed(client.get(uri.rstrip("/") + "/health"))
            response.raise_for_status()
            version = await client.get(uri.rstrip("/") + "/version")
            return BackendCheck("MLflow", redact_url(uri), True, sanitize(version.text[:20]), ms)
    except httpx.HTTPError as exc:
        return BackendCheck("MLflow", redact_url(uri), False, error=f"{type(exc).__name__}: {exc}")


def check_kubernetes(settings: Settings) -> BackendCheck:
    kubeconfig = settings.kubeconfig or os.path.expanduser("~/.kube/config")
    in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    if not in_cluster and not Path(kubeconfig.split(os.pathsep)[0]).is_file():
        return BackendCheck("Kubernetes", "", None)
    try:
        from kubernetes import client, config  # imported lazily: 0.3 s

        if in_cluster and not settings.kubeconfig:
            config.load_incluster_config()
        else:
            config.load_kube_config(config_file=kubeconfig, context=settings.kube_context or None)
        api = client.VersionApi()
        start = time.perf_counter()
        info = api.get_code(_request_timeout=settings.timeout)
        ms = (time.perf_counter() - start) * 1000
        host = client.Configuration.get_default_copy().host
        return BackendCheck("Kubernetes", redact_url(host), True, info.git_version, ms)
    except Exception as exc:
        return BackendCheck("Kubernetes", settings.kube_context or kubeconfig, False,
                            error=sanitize(f"{type(exc).__name__}: {exc}", max_len=200, single_line=True))


async def run_checks(settings: Settings) -> list[BackendCheck]:
    am, prom, mlflow = await asyncio.gather(check_alertmanager(settings), check_prometheus(settings),
                                            check_mlflow(settings))
    kube = await asyncio.to_thread(check_kubernetes, settings)
    return [*am, prom, mlflow, kube]


def format_check(check: BackendCheck) -> str:
    if check.ok is None:
        return f"  -   {check.name:<13} not configured"
    mark = " ok " if check.ok else "FAIL"
    latency = f"{check.latency_ms:6.0f} ms" if check.latency_ms is not None else "      -  "
    tail = check.version if check.ok else check.error
    return f"{mark}  {check.name:<13} {latency}  {check.url}  {sanitize(tail, single_line=True)}"


async def check_fleet(settings: Settings) -> list[tuple[str, list[BackendCheck]]]:
    """(cluster name, its checks) for every cluster of `[[clusters]]`, checked at once."""
    names = [c.name for c in settings.clusters]
    results = await asyncio.gather(*(run_checks(for_cluster(settings, c)) for c in settings.clusters))
    return list(zip(names, results, strict=True))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mlcall-tui check", description="Check every configured backend.")
    add_settings_flags(parser)
    try:
        settings = settings_from(parser.parse_args(argv))
    except ConfigError as exc:
        print(f"mlcall-tui: {exc}", file=sys.stderr)
        return 2
    if len(cluster_configs(settings)) < 2:
        checks = asyncio.run(run_checks(settings))
        for check in checks:
            print(format_check(check))
        return 1 if any(c.ok is False for c in checks) else 0
    broken = []
    for name, checks in asyncio.run(check_fleet(settings)):
        print(f"cluster {sanitize(name, single_line=True)}")
        for check in checks:
            print(format_check(check))
        if any(c.ok is False for c in checks):
            broken.append(name)
    if broken:
        print(f"{len(broken)}/{len(settings.clusters)} clusters broken: {', '.join(broken)}")
        return 1
    print(f"{len(settings.clusters)}/{len(settings.clusters)} clusters ok")
    return 0
