"""Features that follow the highlighted alert's cluster: with `[[clusters]]`, the signal panel asks that
cluster's Prometheus, the model panel and registry rollback use its MLflow, the deployment panel, diagnosis
and Deployment rollback use its kube context. Each feature keeps one set of state per cluster (sources,
caches, settings) and the app swaps the set in as the highlight moves to another cluster (`use_cluster`).

Workers that were fetching for the previous cluster hold on to that cluster's dicts (they capture them
before they await), so a late answer lands in the cache it belongs to, never in another cluster's.
"""

from __future__ import annotations

from typing import Any

from ..config import Settings


class FollowsCluster:
    CLUSTER_STATE: tuple[str, ...] = ()  # the attributes that belong to one cluster
    cluster_tag: str | None = None  # None: never switched (one cluster, or the first one)

    def fresh_cluster_state(self, settings: Settings) -> None:  # pragma: no cover - each feature has one
        raise NotImplementedError

    def use_cluster(self, tag: str, settings: Settings) -> bool:
        """Swap in the state of cluster `tag` (made from `settings` the first time); True if it changed."""
        if self.cluster_tag == tag:
            return False
        states: dict[str, dict[str, Any]] = self.__dict__.setdefault("_cluster_states", {})
        if self.cluster_tag is not None:
            states[self.cluster_tag] = {name: getattr(self, name) for name in self.CLUSTER_STATE}
        saved = states.get(tag)
        if saved is None:
            self.fresh_cluster_state(settings)
        else:
            for name, value in saved.items():
                setattr(self, name, value)
        self.cluster_tag = tag
        return True

    def cluster_sources(self) -> list[Any]:
        """Every cluster's value of the first CLUSTER_STATE attribute (sources to close at the end)."""
        first = self.CLUSTER_STATE[0]
        states = self.__dict__.get("_cluster_states", {})
        return [getattr(self, first), *(s[first] for t, s in states.items() if t != self.cluster_tag)]
