"""Generate the Kubernetes ConfigMaps of the monitoring pack from the files they embed.

The Prometheus rules (deploy/prometheus/ml-alerts.rules.yml, mlcall-exporter.rules.yml) and the Alertmanager config
(deploy/alertmanager/alertmanager.yml) are the sources of truth: promtool and amtool test those.
The ConfigMaps in deploy/kubernetes/ are derived from them, so they can never drift apart:

    python -m oncall_tui.deploy_pack            # rewrite deploy/kubernetes/*-ml-*.yaml
    python -m oncall_tui.deploy_pack --check    # exit 1 if a committed ConfigMap is stale
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from oncall_tui.resources import bundled

NAMESPACE = "monitoring"
PART_OF = "mlcall-tui"


@dataclass(frozen=True)
class ConfigMapSpec:
    filename: str  # written to <deploy>/kubernetes/<filename>
    name: str  # metadata.name
    key: str  # data key holding the file
    source: str  # embedded file, relative to <deploy>
    component: str  # app.kubernetes.io/component


CONFIGMAPS: tuple[ConfigMapSpec, ...] = (
    ConfigMapSpec(
        filename="prometheus-ml-rules.yaml",
        name="prometheus-ml-rules",
        key="ml-alerts.yaml",
        source="prometheus/ml-alerts.rules.yml",
        component="alert-rules",
    ),
    ConfigMapSpec(
        filename="prometheus-mlcall-exporter-rules.yaml",
        name="prometheus-mlcall-exporter-rules",
        key="mlcall-exporter.yaml",
        source="prometheus/mlcall-exporter.rules.yml",
        component="alert-rules",
    ),
    ConfigMapSpec(
        filename="alertmanager-ml-config.yaml",
        name="alertmanager-ml-config",
        key="alertmanager.yml",
        source="alertmanager/alertmanager.yml",
        component="alertmanager-config",
    ),
)


class _LiteralDumper(yaml.SafeDumper):
    """Writes multi-line strings as literal blocks (`key: |`) so the embedded file reads as itself."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _represent_str)


def _check_embeddable(source: Path, content: str) -> None:
    # PyYAML silently falls back to a quoted one-line string when a literal block can't represent
    # the text exactly; say why instead of committing an unreadable ConfigMap.
    for number, line in enumerate(content.splitlines(), start=1):
        if line != line.rstrip():
            raise ValueError(
                f"{source}:{number}: trailing whitespace; remove it so it embeds as a YAML block"
            )
        if "\t" in line:
            raise ValueError(f"{source}:{number}: tab character; use spaces so it embeds as a YAML block")


def render_configmap(spec: ConfigMapSpec, deploy_dir: Path) -> str:
    source = deploy_dir / spec.source
    content = source.read_text(encoding="utf-8")
    _check_embeddable(source, content)
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": spec.name,
            "namespace": NAMESPACE,
            "labels": {
                "app.kubernetes.io/name": spec.name,
                "app.kubernetes.io/component": spec.component,
                "app.kubernetes.io/part-of": PART_OF,
            },
        },
        "data": {spec.key: content},
    }
    body = yaml.dump(manifest, Dumper=_LiteralDumper, sort_keys=False, allow_unicode=True, width=4096)
    if f"\n  {spec.key}: |" not in body:
        raise ValueError(f"{source}: could not be embedded as a YAML literal block")
    if yaml.safe_load(body)["data"][spec.key] != content:
        raise ValueError(f"{source}: embedded text does not round-trip exactly")
    header = (
        f"# GENERATED from deploy/{spec.source} by `python -m oncall_tui.deploy_pack`: do not edit.\n"
        f"# Edit the source file, regenerate, and commit both.\n"
    )
    return header + body


def render_configmaps(deploy_dir: Path | str) -> dict[str, str]:
    """{filename in deploy/kubernetes: manifest text} for every generated ConfigMap."""
    deploy_dir = Path(deploy_dir)
    return {spec.filename: render_configmap(spec, deploy_dir) for spec in CONFIGMAPS}


def stale_files(deploy_dir: Path | str) -> list[Path]:
    """Generated files under deploy/kubernetes that are missing or differ from a fresh render."""
    out_dir = Path(deploy_dir) / "kubernetes"
    stale = []
    for filename, text in render_configmaps(deploy_dir).items():
        path = out_dir / filename
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
    return stale


def write_configmaps(deploy_dir: Path | str) -> list[Path]:
    """Write the ConfigMaps that changed; return their paths."""
    out_dir = Path(deploy_dir) / "kubernetes"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in render_configmaps(deploy_dir).items():
        path = out_dir / filename
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m oncall_tui.deploy_pack",
        description="Generate deploy/kubernetes ConfigMaps from the Prometheus rules and Alertmanager config.",
    )
    parser.add_argument(
        "--deploy-dir",
        type=Path,
        default=None,
        help="the monitoring pack directory (default: the bundled one, i.e. deploy/ in a checkout)",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a generated file is out of date"
    )
    args = parser.parse_args(argv)
    deploy_dir = (args.deploy_dir if args.deploy_dir is not None else bundled("deploy")).resolve()
    try:
        if args.check:
            stale = stale_files(deploy_dir)
            for path in stale:
                print(f"out of date: {path} (run: python -m oncall_tui.deploy_pack)", file=sys.stderr)
            return 1 if stale else 0
        written = write_configmaps(deploy_dir)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("ConfigMaps already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
