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
