"""Pure registry logic: where a rollback goes, how errors read, MLflow's client settings, the panel text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncall_tui.models import ModelServing, ModelVersion, RegisteredModel
from oncall_tui.safe_text import sanitize
from oncall_tui.sources.registry import (
    INVALID,
    NOT_FOUND,
    PERMISSION_DENIED,
    TIMEOUT,
    UNREACHABLE,
    RegistryError,
    choose_previous,
    classify,
    configure_mlflow_env,
    security_warnings,
    undo_target,
    validate_alias,
)
from oncall_tui.ui.widgets.model_panel import describe_serving, key_metrics

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)


def v(number: int, status: str = "READY", **tags: str) -> ModelVersion:
    return ModelVersion("m", str(number), status, tags=MappingProxyType(dict(tags)))


PREV = "mlcall.previous.champion"


def test_default_target_is_the_newest_older_ready_version():
    versions = [v(4), v(3), v(2, "FAILED_REGISTRATION"), v(1)]
    target, why = choose_previous(versions, "3", "champion")
    assert target.version == "1" and "newest READY version older than v3" in why


def test_recorded_history_wins_when_it_points_back():
    versions = [v(5, **{PREV: "2"}), v(4), v(3), v(2)]  # v5 replaced v2 (v3, v4 never served)
    target, why = choose_previous(versions, "5", "champion")
    assert target.version == "2" and PREV in why


def test_two_rollbacks_go_further_back_instead_of_flipping():
    # v3 → v2 by a rollback tagged v2 with previous=3: the next rollback goes to v1, v3 is the undo
    versions = [v(3), v(2, **{PREV: "3"}), v(1)]
    target, _ = choose_previous(versions, "2", "champion")
    assert target.version == "1"
    assert undo_target(versions, "2", "champion").version == "3"


def test_rollback_after_an_undo_returns_to_the_same_version():
    versions = [v(3, **{PREV: "2"}), v(2, **{PREV: "3"}), v(1)]  # rollback 3→2, then undo 2→3
    target, _ = choose_previous(versions, "3", "champion")
    assert target.version == "2"


def test_history_pointing_at_a_gone_or_unready_version_is_ignored():
    assert choose_previous([v(3, **{PREV: "9"}), v(2)], "3", "champion")[0].version == "2"
    assert choose_previous([v(3, **{PREV: "2"}), v(2, "PENDING_REGISTRATION"), v(1)], "3", "champion")[0].version == "1"
    assert undo_target([v(3), v(2)], "3", "champion") is None


def test_nothing_older_means_no_default():
    target, why = choose_previous([v(2), v(1)], "1", "champion")
    assert target is None and "no READY version older than v1" in why


@given(st.lists(st.tuples(st.integers(1, 30), st.sampled_from(["READY", "FAILED_REGISTRATION"])), min_size=1,
                unique_by=lambda t: t[0]), st.integers(1, 30))
def test_default_target_is_always_older_ready_and_not_current(spec, current):
    versions = [v(n, status) for n, status in spec]
    target, _ = choose_previous(versions, str(current), "champion")
    if target is not None:
        assert target.ready and target.number < current


class FakeMlflowError(Exception):
    def __init__(self, error_code: str, message: str):
        super().__init__(message)
        self.error_code, self.message = error_code, message


@pytest.mark.parametrize("exc, kind", [
    (FakeMlflowError("RESOURCE_DOES_NOT_EXIST", "Registered Model with name=x not found"), NOT_FOUND),
    (FakeMlflowError("PERMISSION_DENIED", "Permission denied"), PERMISSION_DENIED),
    (FakeMlflowError("INVALID_PARAMETER_VALUE", "Registered model alias champion not found."), NOT_FOUND),
    (FakeMlflowError("INVALID_PARAMETER_VALUE", "Version alias name 'v2' is reserved."), INVALID),
    (FakeMlflowError("INTERNAL_ERROR", "API request to http://u:p@h/x failed with exception "
                                       "Max retries exceeded (Connection refused)"), UNREACHABLE),
    (FakeMlflowError("INTERNAL_ERROR", "API request failed with timeout exception Read timed out"), TIMEOUT),
])
def test_errors_are_classified_without_credentials(exc, kind):
    error = classify(exc, "model x", "http://h")
    assert error.kind == kind
    assert "u:p@" not in str(error) and "p@h" not in str(error)


def test_reserved_and_invalid_aliases_are_refused_locally():
    for alias in ("v2", "V10", "latest", "a b", "", "x/y"):
        with pytest.raises(RegistryError):
            validate_alias(alias)
    validate_alias("champion")


def test_client_timeouts_are_ours_unless_the_user_set_them():
    env = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}
    done = configure_mlflow_env(2.5, env)
    assert env["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "60"  # the user's choice stays
    assert env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "0" and env["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert "MLFLOW_HTTP_REQUEST_TIMEOUT" not in done
    assert configure_mlflow_env(2.5, {})["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "3"


def test_the_latest_timeout_wins_for_what_we_set_never_for_what_the_user_set(monkeypatch):
    import oncall_tui.sources.registry as registry

    monkeypatch.setattr(registry, "_owned", set())
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_TIMEOUT", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "7")  # the user's
    configure_mlflow_env(2.0)
    configure_mlflow_env(9.5)
    import os

    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "10"
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "7"


def serving(**tags) -> ModelServing:
    current = ModelVersion("fraud", "3", "READY", ("champion",), NOW - timedelta(days=3), "abcdef1234567890",
                           tags=MappingProxyType(dict(tags)),
                           metrics=MappingProxyType({"loss": 0.2, "val_accuracy": 0.94123, "zeta": 1.0}),
                           trained_at=NOW - timedelta(days=12))
    previous = ModelVersion("fraud", "2", "READY", created_at=NOW - timedelta(days=20))
    return ModelServing(RegisteredModel("fraud", MappingProxyType({"champion": "3"})), "champion", current,
                        previous, "newest READY version older than v3")


def test_panel_text():
    text = describe_serving(serving(), NOW).plain
    assert "champion → v3  READY  trained 12 d ago" in text
    assert "run abcdef123456" in text and "val_accuracy 0.9412 · loss 0.2 · zeta 1" in text
    assert "previous v2" in text and "staleness 12 d" in text and "R roll back to v2" in text
    assert "roll back" not in describe_serving(serving(), NOW, can_roll_back=False).plain
    from dataclasses import replace

    unknown = serving()
    unknown = replace(unknown, serving=replace(unknown.serving, metrics=MappingProxyType({}), trained_at=None,
                                               run_error="timeout"))
    text = describe_serving(unknown, NOW).plain
    assert "source run unavailable (timeout): no metrics" in text and "staleness 3.0 d (since registration)" in text


def test_key_metrics_prefer_validation_metrics():
    assert [k for k, _ in key_metrics({"zeta": 1, "train_loss": 2, "val_auc": 3, "val_accuracy": 4})] == [
        "val_accuracy", "val_auc", "train_loss"]


@given(st.text())
def test_remote_strings_in_the_panel_are_literal(value):
    model = RegisteredModel(value, MappingProxyType({"champion": "1"}))
    current = ModelVersion(value, "1", value, metrics=MappingProxyType({value or "m": 1.0}))
    text = describe_serving(ModelServing(model, "champion", current, None, value), NOW).plain
    assert sanitize(value, single_line=True, max_len=60) in text
    assert "\x1b" not in text


def test_insecure_tls_and_old_default_admin_password_are_warned_without_the_secret():
    env = {"MLFLOW_TRACKING_INSECURE_TLS": "true", "MLFLOW_TRACKING_USERNAME": "admin",
           "MLFLOW_TRACKING_PASSWORD": "password1234"}
    warnings = security_warnings(env)
    assert len(warnings) == 2 and "TLS verification is OFF" in warnings[0]
    assert not any("password1234" in w for w in warnings)
    assert security_warnings({"MLFLOW_TRACKING_TOKEN": "x"}) == []
    text = describe_serving(serving(), NOW, warnings=warnings).plain
    assert text.startswith("⚠ TLS verification is OFF")
