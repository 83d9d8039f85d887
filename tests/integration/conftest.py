"""Integration fixtures: one real local stack (Prometheus + Alertmanager + synthetic model service)
shared by the whole test session, running the ``default`` incident scenario."""

from __future__ import annotations

import pytest

from oncall_tui.stack import LocalStack
from oncall_tui.stack.processes import wait_until


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    """A started ``LocalStack(fast=True)`` with the ``default`` scenario applied; stopped at the end.

    Yielded once Prometheus holds three scrapes of every model, so `rate()` answers (it needs two samples
    in its window; `start()` returns after the first) whichever test happens to use the stack first.
    Alerts need ~10–30 s after start-up to fire: poll with ``stack.wait_for_alert`` (never sleep).
    The work dir (configs and server logs) is kept under pytest's basetemp for post-mortems.
    """
    local = LocalStack(tmp_path_factory.mktemp("stack"), fast=True)
    try:
        local.start()
        local.apply_scenario("default")
        models = len(local.model_service.models)
        wait_until(lambda: len(local.query("count_over_time(model_requests_total[5m]) >= 3")) == models,
                   timeout=60, what="three scrapes of every model (rate() needs two samples)")
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def bare_am(tmp_path_factory: pytest.TempPathFactory):
    """One real Alertmanager with nothing feeding it: tests post exactly the alerts they need.

    Tests share it, so each one tags its alerts with a unique value and looks only at those.
    """
    local = LocalStack(tmp_path_factory.mktemp("bare-am"), prometheus=False, model_service=False)
    try:
        local.start()
        yield local.alertmanager_urls[0]
    finally:
        local.stop()


@pytest.fixture(scope="session")
def mlflow_stack(tmp_path_factory: pytest.TempPathFactory):
    """A real `mlflow server` (sqlite, --workers 1) seeded with the demo's models; `.mlflow_uri`.

    Tests that change aliases seed their own uniquely named models (`registry_seed.seed_model`).
    """
    from oncall_tui.stack.registry_seed import seed

    local = LocalStack(tmp_path_factory.mktemp("mlflow"), prometheus=False, alertmanager_peers=0,
                       model_service=False, mlflow=True)
    try:
        local.start()
        seed(local.mlflow_uri)
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def ha_am(tmp_path_factory: pytest.TempPathFactory):
    """A real 2-peer Alertmanager cluster gossiping on loopback (no Prometheus, no model service).

    The ``LocalStack`` itself is yielded: HA tests stop and restart peers (and restart what they stop).
    """
    local = LocalStack(tmp_path_factory.mktemp("ha-am"), prometheus=False, model_service=False,
                       alertmanager_peers=2)
    try:
        local.start()
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def crash_am(tmp_path_factory: pytest.TempPathFactory):
    """One real Alertmanager that tests may ``kill -9`` and restart (``bare_am`` must stay up)."""
    local = LocalStack(tmp_path_factory.mktemp("crash-am"), prometheus=False, model_service=False)
    try:
        local.start()
        yield local
    finally:
        local.stop()


@pytest.fixture()
def kube():
    """A Kubernetes API for one test: kmock over real HTTP on 127.0.0.1 (tests/support/kube.py)."""
    from tests.support.kube import KubeFake

    with KubeFake() as fake:
        yield fake
