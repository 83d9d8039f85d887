"""The fleet: every configured cluster (`[[clusters]]`, or the one the flags describe) with the sources it owns.

A `Cluster` owns its Alertmanager peers, its Prometheus (or Mimir tenant, with its own headers/auth/TLS), and
the Settings its MLflow registry and kube context are reached with. Every action is given the alert's own
cluster (`Fleet.of(alert)`): there is no app-global source. UI-free; httpx comes with the sources, which are
made after the first frame (`make_sources`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from .config import ClusterConfig, Settings, cluster_configs, for_cluster
from .models import Alert, SourceStatus

if TYPE_CHECKING:
    from .sources.alertmanager import AlertmanagerSource
    from .sources.prometheus import PrometheusSource


@dataclass
class Cluster:
    config: ClusterConfig
    settings: Settings  # the session's settings with this cluster's backends (config.for_cluster)
    tag: str = ""  # stamped on its alerts ("" when it is the only cluster: nothing to tell apart)
    alertmanager: AlertmanagerSource | None = None
    prometheus: PrometheusSource | None = None
    statuses: dict[str, SourceStatus] = field(default_factory=dict)  # "Alertmanager"/"Prometheus" → last status

    @property
    def name(self) -> str:
        return self.config.name

    def make_sources(self) -> None:
        timeout = self.settings.timeout
        if self.alertmanager is None and self.settings.alertmanager_urls:
            from .sources.alertmanager import AlertmanagerSource

            self.alertmanager = AlertmanagerSource(self.settings.alertmanager_urls, timeout=timeout, cluster=self.tag,
                                                   alert_filter=self.settings.alert_filter)
        if self.prometheus is None and self.settings.prometheus_url:
            from .sources.http_config import prometheus_client
            from .sources.prometheus import PrometheusSource

            self.prometheus = PrometheusSource(self.settings.prometheus_url, timeout=timeout, cluster=self.tag,
                                               client=prometheus_client(self.settings, timeout))

    async def aclose(self) -> None:
        for source in (self.alertmanager, self.prometheus):
            if source is not None:
                await source.aclose()


class Fleet:
    """The clusters of this session, in the order of the config file."""

    def __init__(self, settings: Settings, *, alertmanager: AlertmanagerSource | None = None,
                 prometheus: PrometheusSource | None = None) -> None:
        configs = cluster_configs(settings)
        multi = len(configs) > 1
        self.clusters = [Cluster(c, for_cluster(settings, c), tag=c.name if multi else "") for c in configs]
        # sources handed in (tests, the demo) belong to the first cluster
        self.clusters[0].alertmanager = alertmanager or self.clusters[0].alertmanager
        self.clusters[0].prometheus = prometheus or self.clusters[0].prometheus
        self._by_tag = {c.tag: c for c in self.clusters}

    @property
    def multi(self) -> bool:
        return len(self.clusters) > 1

    def __iter__(self) -> Iterator[Cluster]:
        return iter(self.clusters)

    def named(self, tag: str) -> Cluster:
        """The cluster an alert or silence says it came from (`alert.cluster`); the first for ""."""
        return self._by_tag.get(tag) or self.clusters[0]

    def of(self, alert: Alert | None) -> Cluster:
        return self.named(alert.cluster if alert is not None else "")

    def make_sources(self) -> None:
        for cluster in self.clusters:
            cluster.make_sources()

    async def aclose(self) -> None:
        for cluster in self.clusters:
            await cluster.aclose()
