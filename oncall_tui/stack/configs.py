"""Generate the local stack's Prometheus and Alertmanager configuration.

- Prometheus: one scrape job ``model-service`` (static label ``namespace: ml-prod``), a COPY of the
  bundled rules (``deploy/prometheus/*.rules.yml``) with, in fast mode, every ``for:`` shortened and
  group ``interval: 1s``, and every Alertmanager peer as an alerting target.
- Alertmanager: the bundled ``deploy/alertmanager/alertmanager.yml`` when it exists, keeping its
  ``route`` tree, ``inhibit_rules`` and time intervals, but REPLACING every receiver by a webhook of
  the same name pointing at the local sink, and dropping ``global`` secrets and ``templates``: nothing
  can reach Slack or PagerDuty. Without that file, a minimal route.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

MODEL_SERVICE_JOB = "model-service"
MODEL_SERVICE_NAMESPACE = "ml-prod"
FAST_FOR_DEFAULT = "5s"
# A slightly longer `for` keeps a visible *pending* phase for the latency alert (demo and tests).
FAST_FOR = {"ModelInferenceLatenessHigh": "15s"}
FAST_RULE_INTERVAL = "1s"
FAST_ROUTE_TIMINGS = {"group_wait": "1s", "group_interval": "5s", "repeat_interval": "1m"}
KEEP_AM_KEYS = ("route", "inhibit_rules", "time_intervals", "mute_time_intervals")

FALLBACK_ALERTMANAGER: dict[str, Any] = {
    "route": {
        "receiver": "ml-on-call",
        "group_by": ["alertname", "model"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
        "routes": [{"matchers": ['severity="critical"'], "receiver": "ml-critical"}],
    },
    "inhibit_rules": [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["model"],
        }
    ],
}

_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def duration_seconds(text: str) -> float:
    """Seconds in a Prometheus duration such as ``1h30m`` or ``500ms``."""
    text = str(text).strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Prometheus duration: {text!r}")
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)


# -- Prometheus ------------------------------------------------------------------------------
def rewrite_rules(doc: dict[str, Any], *, fast: bool) -> dict[str, Any]:
    """A copy of a rule file; in fast mode every ``for`` is shortened and groups evaluate every 1 s."""
    doc = copy.deepcopy(doc)
    if not fast:
        return doc
    for group in doc.get("groups") or []:
        group["interval"] = FAST_RULE_INTERVAL
        for rule in group.get("rules") or []:
            if "for" not in rule:
                continue
            short = FAST_FOR.get(rule.get("alert", ""), FAST_FOR_DEFAULT)
            if duration_seconds(rule["for"]) > duration_seconds(short):
                rule["for"] = short
    return doc


def rule_sources(deploy_dir: Path) -> list[Path]:
    prom = deploy_dir / "prometheus"
    return sorted({*prom.glob("*.rules.yml"), *prom.glob("*.rules.yaml")})


def write_rules(deploy_dir: Path, dest: Path, *, fast: bool) -> list[Path]:
    """Copy (and in fast mode rewrite) the bundled rule files into ``dest``; returns the copies."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for src in rule_sources(deploy_dir):
        doc = yaml.safe_load(src.read_text()) or {}
        out = dest / src.name
        out.write_text(yaml.safe_dump(rewrite_rules(doc, fast=fast), sort_keys=False, allow_unicode=True))
        written.append(out)
    return written


def prometheus_config(
    *,
    model_target: str | None,
    alertmanager_targets: list[str],
    rule_files: list[Path],
    fast: bool,
    extra_scrape_configs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    interval = "1s" if fast else "5s"
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [],
    }
    if model_target:
        config["scrape_configs"].append(
            {
                "job_name": MODEL_SERVICE_JOB,
                "static_configs": [
                    {"targets": [model_target], "labels": {"namespace": MODEL_SERVICE_NAMESPACE}}
                ],
            }
        )
    config["scrape_configs"].extend(copy.deepcopy(extra_scrape_configs or []))
    if alertmanager_targets:
        config["alerting"] = {
            "alertmanagers": [
                {"api_version": "v2", "static_configs": [{"targets": list(alertmanager_targets)}]}
            ]
        }
    return config


# -- Alertmanager ----------------------------------------------------------------------------
def _routes(route: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield route
    for child in route.get("routes") or []:
        yield from _routes(child)


def alertmanager_config(
    source: Path | None, webhook_url: Callable[[str], str], *, fast: bool
) -> dict[str, Any]:
    """The stack's Alertmanager config: the bundled routing with every receiver a local webhook."""
    if source is not None and source.is_file():
        original = yaml.safe_load(source.read_text()) or {}
    else:
        original = FALLBACK_ALERTMANAGER
    config: dict[str, Any] = {}
    resolve_timeout = (original.get("global") or {}).get("resolve_timeout")
    if resolve_timeout:  # the only global kept: the rest are chat/pager URLs and secret files
        config["global"] = {"resolve_timeout": resolve_timeout}
    config.update({k: copy.deepcopy(original[k]) for k in KEEP_AM_KEYS if k in original})
    if "route" not in config:
        config["route"] = copy.deepcopy(FALLBACK_ALERTMANAGER["route"])

    names = [r["name"] for r in original.get("receivers") or [] if isinstance(r, dict) and r.get("name")]
    for route in _routes(config["route"]):
        if route.get("receiver") and route["receiver"] not in names:
            names.append(route["receiver"])
        if fast:
            for key, value in FAST_ROUTE_TIMINGS.items():
                if key in route or route is config["route"]:
                    route[key] = value
    config["receivers"] = [
        {"name": name, "webhook_configs": [{"url": webhook_url(name), "send_resolved": True}]}
        for name in names
    ]
    return config


def receiver_names(config: dict[str, Any]) -> list[str]:
    return [r["name"] for r in config.get("receivers", [])]


def dump(config: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return path
