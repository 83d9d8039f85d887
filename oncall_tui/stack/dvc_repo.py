"""Make a real DVC repository on disk (git init, dvc init, a committed metrics file) for tests,
benchmarks and demos of `mlcall-tui exporter`. Runs `git` and the `dvc` of this interpreter as argv
lists (no shell); the commits are authored by a fixed test identity."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "mlcall test", "GIT_AUTHOR_EMAIL": "test@mlcall.invalid",
    "GIT_COMMITTER_NAME": "mlcall test", "GIT_COMMITTER_EMAIL": "test@mlcall.invalid",
}


def _run(argv: list[str], cwd: Path) -> None:
    env = {**os.environ, **GIT_IDENTITY, "DVC_NO_ANALYTICS": "1", "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")


def make_dvc_repo(path: Path, metrics: dict[str, Any], *, metrics_file: str = "metrics/drift.json") -> Path:
    """A Git + DVC repository at `path` whose dvc.yaml lists `metrics_file` (holding `metrics`), committed."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    _run(["git", "init", "-q", "-b", "main"], path)
    _run([sys.executable, "-m", "dvc", "init", "-q"], path)
    write_metrics(path, metrics, metrics_file=metrics_file, message="metrics")
    return path


def write_metrics(path: Path, metrics: dict[str, Any], *, metrics_file: str = "metrics/drift.json",
                  message: str = "update metrics") -> None:
    """Write and commit new metrics (what a drift-monitoring pipeline's `dvc repro` + commit does)."""
    target = Path(path) / metrics_file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(metrics, indent=2) + "\n")
    (Path(path) / "dvc.yaml").write_text(f"metrics:\n  - {metrics_file}\n")
    _run(["git", "add", "-A"], Path(path))
    _run(["git", "commit", "-q", "-m", message], Path(path))
