"""House rules that keep the app small and fast to start (DESIGN §3, §4)."""

import pkgutil
import subprocess
import sys

import oncall_tui


def modules_outside_ui():
    for info in pkgutil.walk_packages(oncall_tui.__path__, "oncall_tui."):
        if not info.name.startswith("oncall_tui.ui"):
            yield info.name


def run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_nothing_outside_ui_imports_textual():
    names = sorted(modules_outside_ui())
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as exc:\n"
        "        if 'textual' in str(exc): raise\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_first_frame_path_does_not_import_mlflow_kubernetes_or_pandas():
    result = run("import sys, oncall_tui.cli, oncall_tui.ui.app\n"
                 "print(sorted({m.split('.')[0] for m in sys.modules} & {'mlflow', 'kubernetes', 'pandas'}))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
