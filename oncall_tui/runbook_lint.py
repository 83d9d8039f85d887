"""`mlcall-tui runbooks lint [DIR]...` (also `python -m oncall_tui.runbook_lint [DIR]...`).

Checks that every runbook parses, has its front matter and the five sections, that runnable blocks are
single shell-free commands with known placeholders (and that read-only blocks do not change anything),
and that every alert in the Prometheus rules has a runbook. Exit status 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import yaml

from .resources import bundled
from .runbook_steps import (
    ANY_PLACEHOLDER,
    CONFIG_KEYS,
    NAMESPACES,
    PLACEHOLDER,
    command_line,
    shell_problems,
    split_template,
)
from .runbooks import (
    REQUIRED_KEYS,
    REQUIRED_SECTIONS,
    Runbook,
    RunbookError,
    fences,
    load_runbook,
    step_kind,
    url_file_name,
)
from .safe_text import sanitize

SEVERITIES = ("critical", "warning", "info", "any")
_KUBECTL_WRITES = {"apply", "create", "delete", "edit", "patch", "replace", "scale", "set", "annotate", "label",
                   "taint", "cordon", "uncordon", "drain", "autoscale", "expose", "run", "cp", "exec"}
_GLOBAL_VALUE_FLAGS = {"-n", "--namespace", "--context", "--cluster", "--user", "--kubeconfig", "-s", "--server"}


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return sanitize(f"{self.path}:{self.line}: {self.message}", single_line=True)


def default_rules_files() -> list[Path]:
    return sorted((bundled("deploy") / "prometheus").glob("*.rules.yml"))


def rule_alerts(rules_files: Iterable[Path]) -> tuple[list[tuple[Path, int, str, str]], list[Problem]]:
    """(file, line, alert name, runbook url) of every alerting rule, and problems reading the files."""
    found, problems = [], []
    for path in rules_files:
        try:
            text = Path(path).read_text(encoding="utf-8")
            doc = yaml.safe_load(text) or {}
        except (OSError, yaml.YAMLError) as exc:
            problems.append(Problem(Path(path), 0, f"cannot read rules: {exc}"))
            continue
        lines = text.splitlines()
        for group in doc.get("groups") or []:
            for rule in group.get("rules") or []:
                if "alert" not in rule:
                    continue
                name = str(rule["alert"])
                line = next((i + 1 for i, ln in enumerate(lines) if ln.strip() == f"- alert: {name}"), 0)
                ann = rule.get("annotations") or {}
                found.append((Path(path), line, name, str(ann.get("runbook_url") or ann.get("runbook") or "")))
    return found, problems


def _positionals(tokens: Sequence[str]) -> list[str]:
    out, skip = [], False
    for token in tokens[1:]:
        if skip:
            skip = False
        elif token in _GLOBAL_VALUE_FLAGS:
            skip = True
        elif not token.startswith("-"):
            out.append(token)
    return out


def looks_mutating(tokens: Sequence[str]) -> bool:
    """Whether a command obviously changes something (a read-only `sh run` block must not)."""
    if not tokens:
        return False
    prog, args = Path(tokens[0]).name, _positionals(tokens)
    if prog == "kubectl" and args:
        return args[0] in _KUBECTL_WRITES or (args[0] == "rollout" and args[1:2] in (["undo"], ["restart"], ["pause"], ["resume"]))
    if prog == "curl":
        methods = {tokens[i + 1].upper() for i, t in enumerate(tokens[:-1]) if t in ("-X", "--request")}
        data = any(t in ("-d", "--data", "--data-raw", "--data-binary", "-F", "--form", "-T") for t in tokens)
        return bool(methods - {"GET", "HEAD"}) or (data and "-G" not in tokens and "--get" not in tokens)
    if prog == "dvc":
        return bool(args) and args[0] in ("push", "gc", "remove", "commit", "add", "repro", "checkout", "destroy")
    return False


def lint_file(path: Path) -> tuple[Runbook | None, list[Problem]]:
    problems: list[Problem] = []

    def problem(line: int, message: str) -> None:
        problems.append(Problem(path, line, message))

    try:
        runbook = load_runbook(path)
    except RunbookError as exc:
        return None, [Problem(path, exc.line, exc.message)]
    except OSError as exc:
        return None, [Problem(path, 0, f"cannot read: {exc}")]
    front = runbook.front_matter
    if not front:
        problem(1, "no YAML front matter (--- alerts/severity/owner/last_reviewed ---)")
    else:
        for key in REQUIRED_KEYS:
            if key not in front:
                problem(1, f"front matter lacks '{key}'")
        if "alerts" in front and not (isinstance(front["alerts"], list) and all(isinstance(a, str) for a in front["alerts"])):
            problem(1, "'alerts' must be a list of alert names")
        if "severity" in front and str(front["severity"]) not in SEVERITIES:
            problem(1, f"'severity' must be one of {', '.join(SEVERITIES)}")
        if "owner" in front and not str(front["owner"] or "").strip():
            problem(1, "'owner' is empty")
        reviewed = front.get("last_reviewed")
        if "last_reviewed" in front and not isinstance(reviewed, dt.date):
            try:
                dt.date.fromisoformat(str(reviewed))
            except ValueError:
                problem(1, "'last_reviewed' must be a date (YYYY-MM-DD)")
    for section in REQUIRED_SECTIONS:
        if section not in runbook.sections:
            problem(runbook.body_line, f"missing section '## {section}'")

    base = runbook.body_line
    for info, content, line in fences(runbook.body):
        kind = step_kind(info)
        if kind is None:
            continue
        if kind == "invalid":
            problem(base + line, f"unknown block info {info!r}: use 'sh run' or 'sh run mutating'")
            continue
        for why in shell_problems(content):
            problem(base + line, why)
        try:
            tokens = split_template(command_line(content))
        except ValueError:
            continue
        if kind == "read-only" and looks_mutating(tokens):
            problem(base + line, "this command changes something: mark the block 'sh run mutating'")
    for match in ANY_PLACEHOLDER.finditer(runbook.body):
        line = base + runbook.body.count("\n", 0, match.start())
        known = PLACEHOLDER.fullmatch(match[0])
        if not known or known[1] not in NAMESPACES:
            problem(line, f"unknown placeholder {match[0]!r}: use labels.X, annotations.X or config.X")
        elif known[1] == "config" and known[2] not in CONFIG_KEYS:
            problem(line, f"unknown config key {known[2]!r}: one of {', '.join(CONFIG_KEYS)}")
    return runbook, problems


def lint(dirs: Sequence[str | Path] | str | Path | None = None,
         rules_file: Sequence[str | Path] | str | Path | None = None,
         *, coverage_dirs: Sequence[str | Path] = ()) -> list[Problem]:
    """Problems in the runbooks of `dirs` (default: the bundled ones) and alerts of `rules_file`
    (default: the bundled `deploy/prometheus/*.rules.yml`) without a runbook. `coverage_dirs` are also
    searched for runbooks when checking coverage (e.g. the bundled dir when linting an override dir)."""
    dirs = [bundled("runbooks")] if dirs is None else [Path(dirs)] if isinstance(dirs, (str, Path)) else [Path(d) for d in dirs]
    if rules_file is None:
        rules = default_rules_files()
    else:
        rules = [Path(rules_file)] if isinstance(rules_file, (str, Path)) else [Path(r) for r in rules_file]
    problems: list[Problem] = []
    names: set[str] = set()
    covered: set[str] = set()
    for d in dirs:
        if not d.is_dir():
            problems.append(Problem(d, 0, "not a directory"))
            continue
        files = sorted(d.glob("*.md"))
        if not files:
            problems.append(Problem(d, 0, "no runbooks (*.md) here"))
        for path in files:
            runbook, found = lint_file(path)
            problems += found
            names.add(path.name)
            if runbook:
                covered.update(runbook.alerts)
    for d in map(Path, coverage_dirs):
        for path in sorted(d.glob("*.md")) if d.is_dir() else []:
            names.add(path.name)
            try:
                covered.update(load_runbook(path).alerts)
            except (RunbookError, OSError):
                pass
    alerts, rule_problems = rule_alerts(rules)
    problems += rule_problems
    for path, line, alert, url in alerts:
        by_url = url_file_name(url)
        if alert in covered or f"{alert}.md" in names or (by_url and by_url in names):
            continue
        wanted = by_url or f"{alert}.md"
        problems.append(Problem(path, line, f"alert {alert} has no runbook (add {wanted} or list it in a front matter)"))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlcall-tui runbooks lint", description=__doc__.split("\n\n")[1])
    parser.add_argument("dirs", nargs="*", metavar="DIR", help="runbook directories (default: the bundled ones)")
    parser.add_argument("--rules", action="append", metavar="FILE",
                        help="Prometheus rules file whose alerts need runbooks (default: the bundled rules)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    dirs = [Path(d) for d in args.dirs] or [bundled("runbooks")]
    problems = lint(dirs, args.rules, coverage_dirs=[bundled("runbooks")] if args.dirs else ())
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    count = sum(len(list(d.glob("*.md"))) for d in dirs)
    print(f"ok: {count} runbook(s) in {', '.join(sanitize(str(d)) for d in dirs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
