import pytest

from oncall_tui.config import ConfigError, load, public_view

TOML = """
alertmanager = ["http://am-a:9093"]
prometheus = "http://prom:9090"
refresh = 10

[profiles.prod]
alertmanager = ["http://am-1:9093", "http://am-2:9093"]
danger = true
read_only = true

[profiles.staging]
prometheus = "http://user:pw@prom-staging:9090"
"""


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(TOML)
    return path


def test_precedence_defaults_file_env_flags(cfg):
    s = load({"config": str(cfg)}, env={})
    assert s.alertmanager_urls == ("http://am-a:9093",) and s.refresh == 10 and s.timeout == 4.0
    s = load({"config": str(cfg)}, env={"MLCALL_PROMETHEUS_URL": "http://env:9090"})
    assert s.prometheus_url == "http://env:9090"
    s = load({"config": str(cfg), "prometheus_url": "http://flag:9090"}, env={"MLCALL_PROMETHEUS_URL": "http://e"})
    assert s.prometheus_url == "http://flag:9090"


def test_profiles_override_the_top_level(cfg):
    s = load({"config": str(cfg), "profile": "prod"}, env={})
    assert s.alertmanager_urls == ("http://am-1:9093", "http://am-2:9093")
    assert s.danger and s.read_only and s.profile == "prod" and s.refresh == 10


def test_env_lists_and_flags(cfg):
    s = load({"config": str(cfg)}, env={"MLCALL_ALERTMANAGER_URL": "http://a:1,http://b:2", "MLCALL_READ_ONLY": "1"})
    assert s.alertmanager_urls == ("http://a:1", "http://b:2") and s.read_only


def test_the_config_file_comes_from_xdg(tmp_path, cfg, monkeypatch):
    (tmp_path / "mlcall-tui").mkdir()
    (tmp_path / "mlcall-tui" / "config.toml").write_text(cfg.read_text())
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    s = load({}, env={})
    assert s.prometheus_url == "http://prom:9090"


def test_errors_say_what_is_wrong(cfg, tmp_path):
    with pytest.raises(ConfigError, match="no profile 'nope'"):
        load({"config": str(cfg), "profile": "nope"}, env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("refresh = 'soon'\n")
    with pytest.raises(ConfigError, match="refresh must be a number"):
        load({"config": str(bad)}, env={})
    bad.write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load({"config": str(bad)}, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load({"config": str(tmp_path / "missing.toml")}, env={})


def test_public_view_has_no_credentials(cfg):
    s = load({"config": str(cfg), "profile": "staging"}, env={})
    assert "pw" not in str(public_view(s))
