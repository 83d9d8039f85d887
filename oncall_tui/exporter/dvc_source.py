"""DVC metrics of one repository (a path or a Git URL, at a revision), read with the real `dvc` package.

`dvc.api.metrics_show` merges all metrics files into one mapping and so loses which file a value came
from; this reads the same thing it does (`repo.metrics.show`) per file, so every gauge carries its `path`,
and takes the revision's commit time from the same open repository.

- `dvc_metric_<flattened key>{model,path}`: `data_drift.kolmogorov_smirnov` → `dvc_metric_data_drift_
  kolmogorov_smirnov`; numbers nested three or more levels deep are per-feature: the last key becomes the
  `feature` label (`{"data_drift": {"kolmogorov_smirnov": {"amount": 0.31}}}` → `…_smirnov{feature="amount"}`).
  Booleans, strings and lists are skipped.
- `dvc_metrics_commit_timestamp{model}`: commit time of the revision read (HEAD for a working tree).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from .config import DvcRepo
from .families import GAUGE, Family, FamilyBuilder, metric_name

PREFIX = "dvc_metric"
FEATURE_DEPTH = 3
# Reading a repository is mostly Python work (under the GIL): twenty at once only make all of them
# late together. A few at a time still overlap the I/O (clones of URL repositories).
_READERS = threading.BoundedSemaphore(4)


def flatten(data: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in data.items():
        here = (*path, str(key))
        if isinstance(value, Mapping):
            yield from flatten(value, here)
        else:
            yield here, value


def metric_samples(data: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(metric name, feature or "", value) of every leaf of one metrics file."""
    for keys, value in flatten(data):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if len(keys) >= FEATURE_DEPTH:
            yield metric_name(PREFIX, *keys[:-1]), keys[-1], value
        else:
            yield metric_name(PREFIX, *keys), "", value


class DvcSource:
    def __init__(self, repo: DvcRepo) -> None:
        self.repo = repo
        self.name = f"dvc:{repo.label}"

    def prepare(self) -> None:
        """Imports (0.7 s) and, for a local repository, one read thrown away (DVC initialises lazily:
        the first read of a process is many times slower than the next), not counted against the
        read's timeout. A URL is not fetched here: that is network work, bounded like any read."""
        import dvc.repo  # noqa: F401

        if not _is_url(self.repo.repo):
            self.read()

    def read(self) -> list[Family]:
        with _READERS:
            return self._read()

    def _read(self) -> list[Family]:
        from dvc.repo import Repo

        rev = self.repo.rev or None
        # A local repository is opened at the revision itself (its Git tree, not the working tree
        # plus the revision: 30 ms instead of 230 ms); a URL is cloned at it by Repo.open.
        opener = Repo.open if _is_url(self.repo.repo) else Repo
        with opener(self.repo.repo, rev=rev) as repo:
            shown = repo.metrics.show(targets=list(self.repo.targets) or None, on_error="raise")
            commit_time = _commit_time(repo, rev)
        if not shown:
            raise RuntimeError(f"no metrics at revision {rev or 'HEAD'}")
        files = (next(iter(shown.values())) or {}).get("data") or {}
        out = FamilyBuilder()
        model = self.repo.label
        for path, content in sorted(files.items()):
            if "error" in content:
                raise RuntimeError(f"{path}: cannot read metrics")
            for name, feature, value in metric_samples(content.get("data") or {}):
                labels = {"model": model, "path": str(path)}
                if feature:
                    labels["feature"] = feature
                out.add(name, GAUGE, "DVC metric (metrics file of the repository)", labels, value)
        if commit_time is not None:
            out.add("dvc_metrics_commit_timestamp", GAUGE, "Unix time of the commit the metrics were read at",
                    {"model": model}, commit_time)
        return out.build()


def _is_url(text: str) -> bool:
    return "://" in text or text.startswith("git@")


def _commit_time(repo: Any, rev: str | None) -> float | None:
    scm = getattr(repo, "scm", None)
    if scm is None or type(scm).__name__ == "NoSCM":
        return None
    try:
        return float(scm.resolve_commit(rev or "HEAD").commit_time)
    except Exception:  # a repository with no commit yet
        return None
