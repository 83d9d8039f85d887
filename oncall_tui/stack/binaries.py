"""Find the server binaries the local stack runs: Prometheus, Alertmanager, Pushgateway and MLflow.

Lookup order: an explicit environment variable (``MLCALL_PROMETHEUS_BIN``, ``MLCALL_ALERTMANAGER_BIN``,
``MLCALL_PUSHGATEWAY_BIN``, ``MLCALL_MLFLOW_BIN``), then ``PATH`` (and, for MLflow, the directory of the running interpreter, i.e.
the virtualenv). A missing binary raises :class:`BinaryNotFound` whose message says how to install it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

APT_HINT = "sudo apt-get install --no-install-recommends prometheus prometheus-alertmanager"
MLFLOW_HINT = (
    "pip install 'mlcall-tui[demo]'  (the full `mlflow` package provides the `mlflow server` command)"
)


class BinaryNotFound(RuntimeError):
    """A server binary the local stack needs is not installed."""


def _executable(path: str | os.PathLike[str]) -> bool:
    p = Path(path)
    return p.is_file() and os.access(p, os.X_OK)


def _from_env(var: str, hint: str) -> str | None:
    value = os.environ.get(var, "").strip()
    if not value:
        return None
    if _executable(value):
        return str(Path(value))
    found = shutil.which(value)
    if found:
        return found
    raise BinaryNotFound(f"{var}={value!r} is not an executable file.\nInstall it with:\n    {hint}")


def _find(env_var: str, names: tuple[str, ...], what: str, hint: str) -> str:
    explicit = _from_env(env_var, hint)
    if explicit:
        return explicit
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    tried = " or ".join(f"`{n}`" for n in names)
    raise BinaryNotFound(
        f"{what} not found: no {tried} on PATH and {env_var} is not set.\n"
        f"Install it with:\n    {hint}\n"
        f"or point {env_var} at the binary."
    )


def find_prometheus() -> str:
    """Path of the ``prometheus`` server binary."""
    return _find("MLCALL_PROMETHEUS_BIN", ("prometheus",), "Prometheus", APT_HINT)


def find_alertmanager() -> str:
    """Path of the Alertmanager binary (upstream ``alertmanager``, Debian ``prometheus-alertmanager``)."""
    return _find(
        "MLCALL_ALERTMANAGER_BIN", ("alertmanager", "prometheus-alertmanager"), "Alertmanager", APT_HINT
    )


def find_promtool() -> str:
    """Path of ``promtool`` (shipped with Prometheus): next to the ``prometheus`` binary first, then PATH."""
    explicit = _from_env("MLCALL_PROMTOOL_BIN", APT_HINT)
    if explicit:
        return explicit
    try:
        beside = Path(find_prometheus()).resolve().parent / "promtool"
        if _executable(beside):
            return str(beside)
    except BinaryNotFound:
        pass
    return _find("MLCALL_PROMTOOL_BIN", ("promtool",), "promtool", APT_HINT)


PUSHGATEWAY_HINT = "sudo apt-get install --no-install-recommends prometheus-pushgateway"


def find_pushgateway() -> str:
    """Path of the Pushgateway (upstream ``pushgateway``, Debian ``prometheus-pushgateway``)."""
    return _find(
        "MLCALL_PUSHGATEWAY_BIN", ("pushgateway", "prometheus-pushgateway"), "Pushgateway", PUSHGATEWAY_HINT
    )


def find_amtool() -> str:
    """Path of ``amtool`` (shipped with Alertmanager)."""
    return _find("MLCALL_AMTOOL_BIN", ("amtool",), "amtool", APT_HINT)


def find_mlflow() -> str:
    """Path of the ``mlflow`` command: next to the running interpreter (the venv) first, then PATH."""
    explicit = _from_env("MLCALL_MLFLOW_BIN", MLFLOW_HINT)
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "mlflow"
    if _executable(beside):
        return str(beside)
    found = shutil.which("mlflow")
    if found:
        return found
    raise BinaryNotFound(
        "MLflow not found: no `mlflow` next to "
        f"{sys.executable} nor on PATH, and MLCALL_MLFLOW_BIN is not set.\n"
        f"Install it with:\n    {MLFLOW_HINT}"
    )
