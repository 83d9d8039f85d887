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


def test_the_lock_pins_every_dependency_of_this_pyproject():
    """`make` installs exactly requirements.lock: a dependency added to pyproject.toml without `make lock`
    would silently not be installed, and one whose range moved past its pin would install a wrong version."""
    import re
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [Requirement(r) for extra in project.get("optional-dependencies", {}).values() for r in extra]
    text = (ROOT / "requirements.lock").read_text()
    pinned = {canonicalize_name(name): version for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", text, re.M)}
    missing = [str(r) for r in wanted if canonicalize_name(r.name) not in pinned]
    wrong = [f"{r} (locked {pinned[canonicalize_name(r.name)]})" for r in wanted
             if canonicalize_name(r.name) in pinned and not r.specifier.contains(pinned[canonicalize_name(r.name)], prereleases=True)]
    assert not missing and not wrong, ("requirements.lock is out of date with pyproject.toml: run `make lock` and commit it\n"
                                       f"not locked: {missing}\nlocked outside the range: {wrong}")
    assert "--hash=sha256:" in text and "://" not in text  # hashes pinned; no index address written down
