"""Runbooks, themes and the monitoring pack ship inside the wheel, not only in a checkout."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_carries_runbooks_themes_and_deploy(tmp_path):
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    cmd = [uv, "build", "--wheel", "-q", "-o", str(tmp_path), str(ROOT)] if uv else [
        sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)]
    subprocess.run(cmd, check=True, timeout=300, capture_output=True)
    wheel = next(tmp_path.glob("mlcall_tui-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind in ("runbooks", "deploy", "themes"):
        in_tree = {p.relative_to(ROOT / kind).as_posix() for p in (ROOT / kind).rglob("*") if p.is_file()}
        in_wheel = {n.split(f"oncall_tui/data/{kind}/", 1)[1] for n in names if n.startswith(f"oncall_tui/data/{kind}/")}
        assert in_tree <= in_wheel, f"{kind}: missing from the wheel: {sorted(in_tree - in_wheel)}"
    assert "oncall_tui/ui/app.tcss" in names
    assert "oncall_tui/data/deploy/prometheus/ml-alerts.rules.yml" in names


def test_uv_lock_was_made_from_this_pyproject():
    """`make` installs from uv.lock (--frozen, which does not check it): a dependency added to
    pyproject.toml without `make lock` would silently not be installed."""
    import re
    import tomllib

    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name

    def key(group: str, name: str, specifier: str) -> tuple[str, str, str]:
        return group, canonicalize_name(name), str(SpecifierSet(specifier))

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {key("", r.name, str(r.specifier)) for r in map(Requirement, project["dependencies"])}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        wanted |= {key(extra, r.name, str(r.specifier)) for r in map(Requirement, requirements)}
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    entry = next(p for p in lock["package"] if p["name"] == project["name"])
    locked = set()
    for dep in entry["metadata"]["requires-dist"]:
        extra = re.search(r"extra == '([^']+)'", dep.get("marker", ""))
        locked.add(key(extra.group(1) if extra else "", dep["name"], dep.get("specifier", "")))
    assert wanted == locked, ("uv.lock is out of date with pyproject.toml: run `make lock` and commit uv.lock\n"
                              f"only in pyproject.toml: {sorted(wanted - locked)}\nonly in uv.lock: {sorted(locked - wanted)}")
