"""Runbooks: resolution order, templating, the argv allow-list (R4), running steps, and the lint."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from oncall_tui import runbook_lint
from oncall_tui.models import Alert
from oncall_tui.resources import bundled
from oncall_tui.runbook_steps import SAFE_VALUE, check_value, shell_problems
from oncall_tui.runbooks import (
    REQUIRED_SECTIONS,
    MissingValue,
    Step,
    UnsafeValue,
    build_argv,
    load_runbook,
    render,
    render_body,
    resolve,
    run_step,
    runbook_dirs,
)

ALERTS = {
    "ModelInferenceLatenessHigh": "inference-latency.md",
    "DataDriftDetected": "data-drift.md",
    "ModelStalenessHigh": "model-staleness.md",
    "TrainingJobFailed": "training-failure.md",
    "ModelRegistryPushFailed": "registry-push.md",
}
INJECTIONS = ["a;id", "$(id)", "`id`", "a\nid", "--kubeconfig=/x", "app,tier!=x"]
FORBIDDEN = set(",=!() \t\r\n;$`'\"\\/|&<>")


def alert(name: str = "DataDriftDetected", url: str = "", **labels: str) -> Alert:
    annotations = {"summary": "drift!", **({"runbook_url": url} if url else {})}
    return Alert("fp", {"alertname": name, **labels}, annotations)


def write(dir_: Path, name: str, alerts: str = "[]", body: str = "") -> Path:
    dir_.mkdir(parents=True, exist_ok=True)
    sections = "".join(f"## {s}\n\ntext\n\n" for s in REQUIRED_SECTIONS)
    path = dir_ / name
    path.write_text(
        f"---\nalerts: {alerts}\nseverity: warning\nowner: team\nlast_reviewed: 2026-11-27\n---\n"
        f"# {name}\n\n{sections}{body}",
        encoding="utf-8",
    )
    return path


# ---- loading and resolution ---------------------------------------------------------------------


def test_bundled_runbooks_load_with_front_matter_sections_and_steps():
    for name in [*ALERTS.values(), "generic.md"]:
        rb = load_runbook(bundled("runbooks") / name)
        assert rb.owner and rb.severity and rb.last_reviewed == "2026-11-27"
        assert set(REQUIRED_SECTIONS) <= set(rb.sections)
        assert rb.steps, name
        assert any(s.mutating for s in rb.steps) and any(not s.mutating for s in rb.steps)
        lines = (bundled("runbooks") / name).read_text().splitlines()
        for step in rb.steps:  # Step.line points at the opening fence in the file
            assert lines[step.line - 1].startswith("```sh run")
    drift = load_runbook(bundled("runbooks") / "data-drift.md")
    assert drift.alerts == ("DataDriftDetected",)
    assert drift.steps[0].section == "Diagnosis" and not drift.steps[0].mutating


def test_every_bundled_alert_resolves_to_its_runbook_by_annotation():
    dirs = runbook_dirs(env={})
    for name, file in ALERTS.items():
        res = resolve(alert(name, url=f"https://runbooks.mlcall.invalid/{file}"), dirs)
        assert res.runbook and res.runbook.path.name == file and res.reason == "annotation"
        assert res.url.endswith(file)


def test_resolution_order(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    write(second, "data-drift.md")
    write(first, "by-front-matter.md", alerts="[DataDriftDetected]")
    write(first, "OtherAlert.md")
    write(second, "generic.md")
    dirs = [first, second]
    # 1. the annotation's file name, in any directory
    res = resolve(alert(url="https://wiki/x/data-drift.md"), dirs)
    assert (res.reason, res.runbook.path) == ("annotation", second / "data-drift.md")
    # 2. front matter `alerts:`
    res = resolve(alert(url="https://wiki/x/unknown.md"), dirs)
    assert (res.reason, res.runbook.path.name) == ("front matter", "by-front-matter.md")
    assert res.url == "https://wiki/x/unknown.md"  # kept for the UI
    # 3. <alertname>.md
    res = resolve(alert("OtherAlert"), dirs)
    assert (res.reason, res.runbook.path.name) == ("alert name", "OtherAlert.md")
    # 4. generic.md
    res = resolve(alert("Nothing", url="https://wiki/nothing.md"), dirs)
    assert (res.reason, res.runbook.path.name, res.url) == ("generic", "generic.md", "https://wiki/nothing.md")
    assert resolve(alert("Nothing"), [first]).runbook is None


def test_first_directory_wins_and_bundled_comes_last(tmp_path):
    override = tmp_path / "mine"
    write(override, "data-drift.md")
    dirs = runbook_dirs([override], env={"MLCALL_RUNBOOKS": os.pathsep.join([str(tmp_path / "env1"), str(tmp_path / "env2")])},
                        config_dirs=[tmp_path / "cfg"])
    assert dirs == [override, tmp_path / "env1", tmp_path / "env2", tmp_path / "cfg", bundled("runbooks")]
    res = resolve(alert(url="https://x/data-drift.md"), dirs)
    assert res.runbook.path == override / "data-drift.md"


def test_annotation_cannot_traverse_out_of_the_runbook_dirs(tmp_path):
    (tmp_path / "secret.md").write_text("---\nalerts: []\n---\n# secret\n")
    inner = tmp_path / "rb"
    write(inner, "generic.md")
    for url in ["../secret.md", "https://x/..%2fsecret.md", "file:///etc/passwd", "https://x/.hidden.md"]:
        res = resolve(alert("Nope", url=url), [inner])
        assert res.reason == "generic", url


def test_a_broken_runbook_falls_back_with_a_warning(tmp_path):
    (tmp_path / "data-drift.md").write_text("---\nalerts: [\n---\n# broken\n")
    write(tmp_path, "generic.md")
    res = resolve(alert(url="https://x/data-drift.md"), [tmp_path])
    assert res.reason == "generic" and res.warnings and "YAML" in res.warnings[0]


# ---- templating ---------------------------------------------------------------------------------


def test_render_fills_labels_and_marks_missing_ones():
    a = alert(model="churn-predictor", feature="account_age_days")
    out = render("Model {{ labels.model }} ({{labels.feature}}) in {{ labels.namespace }}", a)
    assert "churn\\-predictor" in out and "account\\_age\\_days" in out
    assert "\\<missing labels\\.namespace\\>" in out
    assert render("`{{ labels.model }}` `{{ labels.nope }}`", a) == "`churn-predictor` `<missing labels.nope>`"
    assert "deployment/churn-predictor" in render("```sh\nkubectl deployment/{{ labels.deployment }}\n```\n", a)
    assert render("{{ annotations.summary }} {{ config.namespace }}", a, {"namespace": "ml-prod"}) == "drift\\! ml\\-prod"


def test_unsafe_values_never_reach_code_that_might_be_pasted_into_a_shell():
    a = alert(model="x; rm -rf ~", feature="`id`")
    out = render("```sh\nkubectl logs {{ labels.model }}\n```\n\nrun `{{ labels.feature }}`\n", a)
    assert "rm -rf" not in out and "`id`" not in out
    assert "<unsafe labels.model>" in out and "<unsafe labels.feature>" in out


def _inline_text(markdown: str) -> str:
    tokens = MarkdownIt("gfm-like", {"html": True, "linkify": True}).parse(markdown)
    kinds = [t.type for t in tokens]
    assert kinds == ["paragraph_open", "inline", "paragraph_close"], kinds
    children = tokens[1].children or []
    assert all(c.type in ("text", "softbreak") for c in children), [c.type for c in children]
    return "".join(c.content for c in children)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_a_value_in_prose_stays_text(value):
    """Whatever a label holds, in prose it renders as its (sanitized) text: no emphasis, link, HTML,
    code, heading, list or table is created by it."""
    from oncall_tui.safe_text import sanitize

    out = render("Model {{ labels.model }} here", alert(model=value))
    expected = re.sub(r"\s+", " ", sanitize(value, single_line=True, max_len=300)).strip()
    if not value or not expected:
        return
    assert _inline_text(out) == f"Model {expected} here"


def test_render_body_labels_each_runnable_block_with_its_step():
    rb = load_runbook(bundled("runbooks") / "data-drift.md")
    a = alert(model="churn-predictor", feature="f", namespace="ml-prod")
    body = render_body(rb, a, {"prometheus_url": "http://prom:9090"})
    assert "# step 1 · read-only" in body and "```sh run" not in body
    assert "http://prom:9090" in body
    ro = render_body(rb, a, {}, read_only=True)
    mutating = next(s for s in rb.steps if s.mutating)
    assert f"# step {mutating.index} · mutating: not available in read-only mode" in ro


# ---- argv and the allow-list (R4) -------------------------------------------------------------------


def test_build_argv_splits_first_then_substitutes():
    a = alert(model="churn-predictor", namespace="ml-prod")
    step = Step(1, "Diagnosis", "kubectl -n {{ labels.namespace }} logs deployment/{{ labels.deployment }} --tail=200", False, 1)
    assert build_argv(step, a) == ["kubectl", "-n", "ml-prod", "logs", "deployment/churn-predictor", "--tail=200"]
    promql = "promtool query instant {{ config.prometheus_url }} 'up{model=\"{{ labels.model }}\"} > 0'"
    assert build_argv(promql, a, {"prometheus_url": "http://prom:9090"}) == [
        "promtool", "query", "instant", "http://prom:9090", 'up{model="churn-predictor"} > 0']
    assert build_argv("kubectl -n {{ labels.namespace }} get pods", alert(), {"namespace": "fallback"})[2] == "fallback"


@pytest.mark.parametrize("value", INJECTIONS)
async def test_injections_are_refused_before_any_process_starts(value, monkeypatch):
    started = []

    async def spy(*args, **kwargs):
        started.append(args)
        raise AssertionError("a process was started")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    monkeypatch.setattr(asyncio, "create_subprocess_shell", spy)
    monkeypatch.setattr(subprocess, "Popen", spy)
    step = Step(1, "Diagnosis", "kubectl -n ml get pods -l app={{ labels.model }}", False, 1)
    with pytest.raises(UnsafeValue) as err:
        await run_step(build_argv(step, alert(model=value)))
    assert err.value.label == "labels.model" and err.value.value == value and err.value.why
    assert "labels.model" in str(err.value)
    assert started == []


def test_missing_and_bad_config_values_are_errors_too():
    with pytest.raises(MissingValue) as err:
        build_argv("kubectl -n {{ labels.namespace }} get pods", alert())
    assert err.value.label == "labels.namespace" and err.value.why == "the alert has no `namespace` label"
    with pytest.raises(UnsafeValue, match="user:password"):
        build_argv("curl {{ config.mlflow_uri }}/health", alert(), {"mlflow_uri": "http://u:p@mlflow:5000"})
    with pytest.raises(UnsafeValue):
        build_argv("curl {{ config.mlflow_uri }}/health", alert(), {"mlflow_uri": "--config=/etc/x"})
    with pytest.raises(ValueError, match="program name"):
        build_argv("{{ labels.model }} --help", alert(model="ls"))


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=80), st.from_regex(SAFE_VALUE, fullmatch=True)))
def test_accepted_values_match_the_allow_list(value):
    try:
        check_value("labels.x", value)
    except UnsafeValue as exc:
        assert exc.why and exc.label == "labels.x"
        return
    assert SAFE_VALUE.fullmatch(value)
    assert not (set(value) & FORBIDDEN)
    assert not value.startswith("-") and len(value) <= 253
    argv = build_argv("kubectl get pods {{ labels.x }} -l app={{ labels.x }}", Alert("f", {"x": value}))
    assert argv == ["kubectl", "get", "pods", value, "-l", f"app={value}"]  # one token each, nothing more


def test_shell_syntax_in_a_runnable_block_is_reported():
    assert shell_problems("kubectl get pods") == []
    assert shell_problems("promtool query instant http://p 'a > 1 and b | c'") == []
    assert shell_problems("kubectl get pods | grep x")
    assert shell_problems("kubectl get pods > out.txt")
    assert shell_problems("echo $(id)")
    assert shell_problems("echo a\necho b")
    assert shell_problems("kubectl get pods && kubectl get svc")


# ---- running --------------------------------------------------------------------------------------


async def test_run_step_runs_argv_and_streams_sanitized_output():
    lines: list[str] = []
    code = "print('x'); print('\\x1b]52;c;ZWNobyBoaQ==\\x07osc \\x1b[2Jcleared')"
    result = await run_step([sys.executable, "-c", code], timeout=20, on_output=lines.append)
    assert result.exit_code == 0 and result.ok and not result.timed_out and not result.truncated
    assert lines == ["x", "osc cleared"] and result.output == "x\nosc cleared"
    assert "\x1b" not in result.output and result.argv[0] == sys.executable


async def test_run_step_passes_argv_without_a_shell(monkeypatch):
    seen = {}
    real = asyncio.create_subprocess_exec

    async def spy(*args, **kwargs):
        seen["args"], seen["kwargs"] = args, kwargs
        return await real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    argv = [sys.executable, "-c", "import sys; print(sys.argv[1:])", "a;id", "$(id)"]
    result = await run_step(argv, timeout=20)
    assert seen["args"] == tuple(argv) and "shell" not in seen["kwargs"]
    assert result.output == "['a;id', '$(id)']"


async def test_run_step_reports_exit_code_and_missing_program():
    result = await run_step([sys.executable, "-c", "import sys; sys.exit(3)"], timeout=20)
    assert result.exit_code == 3 and not result.ok
    missing = await run_step(["definitely-not-a-program-mlcall"], timeout=5)
    assert missing.exit_code == 127 and "command not found" in missing.error and not missing.ok


async def test_run_step_kills_on_timeout():
    result = await run_step([sys.executable, "-c", "import time; print('start', flush=True); time.sleep(30)"], timeout=1.0)
    assert result.timed_out and result.exit_code is None and result.duration < 10
    assert "start" in result.output and "timeout" in result.output


async def test_run_step_bounds_output():
    result = await run_step([sys.executable, "-c", "print('y' * 200000); print('after')"], timeout=20,
                            max_output_bytes=1000)
    assert result.truncated and result.exit_code == 0
    assert len(result.output) < 1200 and "truncated" in result.output and "after" not in result.output


# ---- lint -----------------------------------------------------------------------------------------


def test_lint_passes_on_the_bundled_runbooks():
    assert runbook_lint.lint() == []
    assert runbook_lint.main([]) == 0


def test_lint_fails_on_a_broken_runbook(tmp_path, capsys):
    write(tmp_path, "bad.md", alerts="[DataDriftDetected]", body=(
        "```sh run\nkubectl get pods | grep churn\n```\n\n"
        "```sh run\nkubectl -n x delete pod y\n```\n\n"
        "{{ labels.model }} {{ secrets.token }}\n"))
    (tmp_path / "nofront.md").write_text("# no front matter\n\n## Symptom\n")
    problems = [str(p) for p in runbook_lint.lint([tmp_path])]
    text = "\n".join(problems)
    assert "shell operator '|'" in text
    assert "mark the block 'sh run mutating'" in text
    assert "unknown placeholder '{{ secrets.token }}'" in text
    assert "nofront.md:1: no YAML front matter" in text and "missing section '## Fix'" in text
    assert "alert ModelInferenceLatenessHigh has no runbook (add inference-latency.md" in text
    assert runbook_lint.main([str(tmp_path)]) == 1
    assert "shell operator" in capsys.readouterr().out


def test_lint_cli_runs_as_a_module(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "oncall_tui.runbook_lint"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    write(tmp_path, "x.md", body="```sh run\necho $(id)\n```\n")
    bad = subprocess.run([sys.executable, "-m", "oncall_tui.runbook_lint", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "shell expansion" in bad.stdout


def test_runbook_modules_do_not_import_textual():
    code = ("import sys, oncall_tui.runbooks, oncall_tui.runbook_steps, oncall_tui.runbook_lint; "
            "print([m for m in sys.modules if m.split('.')[0] == 'textual'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_bundled_runnable_steps_split_into_argv():
    a = alert(model="churn-predictor", feature="account_age_days", namespace="ml-prod")
    config = {"prometheus_url": "http://prom:9090", "mlflow_uri": "http://mlflow:5000"}
    for path in sorted(bundled("runbooks").glob("*.md")):
        for step in load_runbook(path).steps:
            argv = build_argv(step, a, config)
            assert argv[0] in {"kubectl", "promtool", "curl"}, (path.name, step.index)
            assert shlex.join(argv)


async def test_remote_runbook_is_sanitized_bounded_and_never_runnable():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from oncall_tui.runbooks import fetch_remote, remote_runbook

    body = ("---\nalerts: [X]\n---\n# Remote \x1b]52;c;aGk=\x07runbook\n\n## Diagnosis\n\n"
            "```sh run mutating\nkubectl delete ns prod\n```\n" + "z" * 5000).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/markdown")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/runbooks/remote.md"
        text = await fetch_remote(url, timeout=5, max_bytes=1000)
    finally:
        server.shutdown()
    assert "\x1b" not in text and "\x07" not in text and text.endswith("[truncated]")
    assert len(text) < 1100
    rb = remote_runbook(url, text)
    assert rb.remote and rb.steps == () and rb.title == "Remote runbook"
    with pytest.raises(ValueError):
        await fetch_remote("file:///etc/passwd")
