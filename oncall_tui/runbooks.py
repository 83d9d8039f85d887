"""Runbooks: load them, resolve an alert to one, and render them with the alert's values filled in.

A runbook is Markdown with YAML front matter (`alerts`, `severity`, `owner`, `last_reviewed`) and the
sections Symptom / Diagnosis / Fix / Rollback / Escalation. Fenced blocks with the info string
`sh run` (read-only) or `sh run mutating` are runnable steps (see `runbook_steps`). No textual import.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping
from urllib.parse import urlparse

import yaml
from markdown_it import MarkdownIt

from .models import Alert
from .resources import bundled
from .runbook_steps import (
    PLACEHOLDER,
    MissingValue,
    Step,
    StepResult,
    UnsafeValue,
    build_argv,
    check_value,
    default_config,
    display_argv,
    lookup,
    run_step,
)
from .safe_text import TRUNCATION_MARKER, sanitize

__all__ = [
    "Runbook", "Step", "Resolution", "StepResult", "UnsafeValue", "MissingValue", "RunbookError",
    "load_runbook", "parse_runbook", "runbook_dirs", "resolve", "render", "render_body", "build_argv",
    "run_step", "default_config", "display_argv", "fetch_remote", "remote_runbook", "iter_runbooks",
]

REQUIRED_KEYS = ("alerts", "severity", "owner", "last_reviewed")
REQUIRED_SECTIONS = ("Symptom", "Diagnosis", "Fix", "Rollback", "Escalation")
MAX_RUNBOOK_BYTES = 512 * 1024
_FRONT = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>.*?)^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_FENCE_OPEN = re.compile(r"^(?P<prefix>(?:[ \t]*>)*[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.md$")
_BACKTICKS = re.compile(r"`+")
_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


class RunbookError(ValueError):
    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path, self.line, self.message = Path(path), line, message
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True)
class Runbook:
    path: Path
    name: str  # file stem, e.g. "data-drift"
    title: str
    alerts: tuple[str, ...]
    severity: str
    owner: str
    last_reviewed: str
    front_matter: Mapping[str, object]
    body: str  # Markdown after the front matter
    body_line: int  # file line on which the body starts (1-based)
    sections: Mapping[str, str]  # `## ` heading → its Markdown
    steps: tuple[Step, ...]
    remote: bool = False  # fetched from the annotation URL: shown, never runnable


@dataclass(frozen=True)
class Resolution:
    runbook: Runbook | None
    reason: str  # "annotation" | "front matter" | "alert name" | "generic" | "none"
    url: str = ""  # the alert's runbook/runbook_url annotation, kept so the UI can show it
    warnings: tuple[str, ...] = field(default=())


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def fences(body: str) -> list[tuple[str, str, int]]:
    """(info string, content, 0-based body line of the opening fence) of every fenced block."""
    return [(t.info.strip(), t.content, t.map[0]) for t in _parser().parse(body) if t.type == "fence" and t.map]


def step_kind(info: str) -> str | None:
    """'read-only' / 'mutating' for `sh run` / `sh run mutating`, None for a block that is not runnable."""
    words = info.split()
    if words[:2] != ["sh", "run"]:
        return None
    return "mutating" if words[2:] == ["mutating"] else "read-only" if not words[2:] else "invalid"


def parse_runbook(text: str, path: Path | str) -> Runbook:
    path = Path(path)
    front: dict[str, object] = {}
    body, body_line = text, 1
    match = _FRONT.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match["yaml"]) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise RunbookError(path, (mark.line + 2) if mark else 1, f"front matter is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise RunbookError(path, 2, "front matter must be a mapping")
        front = {str(k): v for k, v in loaded.items()}
        body = text[match.end():]
        body_line = text[: match.end()].count("\n") + 1
    elif text.startswith("---"):
        raise RunbookError(path, 1, "front matter is not closed by a '---' line")

    tokens = _parser().parse(body)
    lines = body.splitlines()
    title, heads, steps = "", [], []
    section = ""
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            text_of = tokens[i + 1].content.strip()
            if tok.tag == "h1" and not title:
                title = text_of
            elif tok.tag == "h2":
                section = text_of
                heads.append((text_of, tok.map[0], tok.map[1]))
        elif tok.type == "fence" and tok.map and step_kind(tok.info) in ("read-only", "mutating"):
            steps.append(Step(len(steps) + 1, section, tok.content.rstrip("\n"),
                              step_kind(tok.info) == "mutating", body_line + tok.map[0]))
    sections = {}
    for n, (name, _start, content_start) in enumerate(heads):
        end = heads[n + 1][1] if n + 1 < len(heads) else len(lines)
        sections[name] = "\n".join(lines[content_start:end]).strip("\n")
    alerts = front.get("alerts") or ()
    alerts = tuple(str(a) for a in alerts) if isinstance(alerts, (list, tuple)) else (str(alerts),)
    return Runbook(
        path=path, name=path.stem, title=title or str(front.get("title") or path.stem), alerts=alerts,
        severity=str(front.get("severity", "")), owner=str(front.get("owner", "")),
        last_reviewed=str(front.get("last_reviewed", "")), front_matter=front, body=body,
        body_line=body_line, sections=sections, steps=tuple(steps),
    )


_CACHE: dict[Path, tuple[tuple[int, int], Runbook]] = {}


def load_runbook(path: Path | str) -> Runbook:
    """Parse one runbook file (cached by mtime and size). Raises `RunbookError` or `OSError`."""
    path = Path(path)
    st = path.stat()
    key = (st.st_mtime_ns, st.st_size)
    cached = _CACHE.get(path)
    if cached and cached[0] == key:
        return cached[1]
    if st.st_size > MAX_RUNBOOK_BYTES:
        raise RunbookError(path, 1, f"larger than {MAX_RUNBOOK_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RunbookError(path, 1, f"not UTF-8: {exc}") from None
    runbook = parse_runbook(text, path)
    _CACHE[path] = (key, runbook)
    return runbook


def runbook_dirs(
    extra_dirs: Iterable[str | Path] = (),
    env: Mapping[str, str] | None = None,
    config_dirs: Iterable[str | Path] = (),
) -> list[Path]:
    """Where runbooks are looked up, first match wins: `--runbooks` dirs, `MLCALL_RUNBOOKS`
    (os.pathsep-separated), the config file's dirs, and last the bundled runbooks."""
    env = os.environ if env is None else env
    from_env = [p for p in env.get("MLCALL_RUNBOOKS", "").split(os.pathsep) if p.strip()]
    out: list[Path] = []
    for entry in [*extra_dirs, *from_env, *config_dirs, bundled("runbooks")]:
        path = Path(entry).expanduser()
        if path not in out:
            out.append(path)
    return out


def iter_runbooks(dirs: Iterable[Path]) -> Iterable[Path]:
    for d in dirs:
        if d.is_dir():
            yield from sorted(p for p in d.glob("*.md") if p.is_file())


def url_file_name(url: str) -> str:
    """The runbook file name an annotation points at (`…/data-drift.md` → `data-drift.md`), if safe."""
    if not url:
        return ""
    name = PurePosixPath(urlparse(url.strip()).path).name
    return name if _SAFE_FILE.match(name) else ""


def resolve(alert: Alert, dirs: Iterable[Path]) -> Resolution:
    """Annotation file name → front matter `alerts:` → `<alertname>.md` → `generic.md`."""
    dirs = [Path(d) for d in dirs]
    url = alert.runbook_url
    warnings: list[str] = []

    def first(name: str) -> Runbook | None:
        for d in dirs:
            candidate = d / name
            if candidate.is_file():
                try:
                    return load_runbook(candidate)
                except (RunbookError, OSError) as exc:
                    warnings.append(sanitize(str(exc), single_line=True))
        return None

    name = url_file_name(url)
    if name and (found := first(name)):
        return Resolution(found, "annotation", url, tuple(warnings))
    for path in iter_runbooks(dirs):
        try:
            runbook = load_runbook(path)
        except (RunbookError, OSError):
            continue
        if alert.name and alert.name in runbook.alerts:
            return Resolution(runbook, "front matter", url, tuple(warnings))
    if _SAFE_FILE.match(f"{alert.name}.md") and (found := first(f"{alert.name}.md")):
        return Resolution(found, "alert name", url, tuple(warnings))
    if found := first("generic.md"):
        return Resolution(found, "generic", url, tuple(warnings))
    return Resolution(None, "none", url, tuple(warnings))


# ---- templating ------------------------------------------------------------------------------


def md_escape(text: str) -> str:
    """Make text literal in Markdown: every ASCII punctuation character backslash-escaped."""
    return _MD_PUNCT.sub(r"\\\1", text)


def _prose_value(alert: Alert, config: Mapping[str, str] | None, m: re.Match[str]) -> str:
    value = lookup(alert, m[1], m[2], config)
    if value is None:
        return md_escape(f"<missing {m[1]}.{m[2]}>")
    return md_escape(re.sub(r"\s+", " ", sanitize(value, single_line=True, max_len=300)).strip())


def _code_value(alert: Alert, config: Mapping[str, str] | None, m: re.Match[str]) -> str:
    """In code (what an engineer may copy into a shell) only allow-listed values appear."""
    label = f"{m[1]}.{m[2]}"
    value = lookup(alert, m[1], m[2], config)
    if value is None:
        return f"<missing {label}>"
    try:
        return check_value(label, value)
    except UnsafeValue:
        return f"<unsafe {label}>"


def _render_line(line: str, prose, code) -> str:
    out, pos = [], 0
    while (opening := _BACKTICKS.search(line, pos)) is not None:
        closing = next((c for c in _BACKTICKS.finditer(line, opening.end()) if len(c[0]) == len(opening[0])), None)
        if closing is None:
            out.append(PLACEHOLDER.sub(prose, line[pos: opening.end()]))
            pos = opening.end()
            continue
        out.append(PLACEHOLDER.sub(prose, line[pos: opening.start()]))
        out.append(PLACEHOLDER.sub(code, line[opening.start(): closing.end()]))
        pos = closing.end()
    out.append(PLACEHOLDER.sub(prose, line[pos:]))
    return "".join(out)


def _render(text: str, alert: Alert, config: Mapping[str, str] | None, openers: Mapping[int, str]) -> str:
    config = default_config() if config is None else config

    def prose(m: re.Match[str]) -> str:
        return _prose_value(alert, config, m)

    def code(m: re.Match[str]) -> str:
        return _code_value(alert, config, m)

    code_lines: set[int] = set()
    for tok in _parser().parse(text):
        if tok.type in ("fence", "code_block") and tok.map:
            code_lines.update(range(*tok.map))
    out = []
    for i, line in enumerate(text.splitlines()):
        if i in openers and (m := _FENCE_OPEN.match(line)):
            out += [m["prefix"] + m["fence"] + "sh", m["prefix"] + openers[i]]
        elif i in code_lines:
            out.append(PLACEHOLDER.sub(code, line))
        else:
            out.append(_render_line(line, prose, code))
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def render(text: str, alert: Alert, config: Mapping[str, str] | None = None) -> str:
    """Fill `{{ labels.X }}` / `{{ annotations.X }}` / `{{ config.X }}` in Markdown.

    In prose a value is sanitized and Markdown-escaped (it stays text); in code spans and blocks only a
    value passing the allow-list appears, otherwise `<unsafe labels.X>`; absent ones read `<missing …>`.
    """
    return _render(text, alert, config, {})


def render_body(runbook: Runbook, alert: Alert, config: Mapping[str, str] | None = None,
                *, read_only: bool = False) -> str:
    """The runbook body for display: values filled in, each runnable block labelled with its step."""
    openers = {}
    for step in runbook.steps:
        if step.mutating and read_only:
            note = f"# step {step.index} · mutating: not available in read-only mode"
        else:
            note = f"# step {step.index} · {'MUTATING' if step.mutating else 'read-only'} · run it from the steps list"
        openers[step.line - runbook.body_line] = note
    return _render(runbook.body, alert, config, openers)


# ---- remote runbooks (optional) ------------------------------------------------------------------


async def fetch_remote(url: str, *, timeout: float = 3.0, max_bytes: int = 256 * 1024) -> str:
    """GET a runbook URL (http/https only); the text comes back sanitized and bounded."""
    import httpx

    if urlparse(url).scheme not in ("http", "https"):
        raise ValueError("only http(s) runbook URLs are fetched")
    buf = bytearray()
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True, max_redirects=3) as client:
        async with client.stream("GET", url, headers={"Accept": "text/markdown, text/plain"}) as resp:
            resp.raise_for_status()
            async for chunk in resp.aiter_bytes():
                buf += chunk
                if len(buf) > max_bytes:
                    break
    text = sanitize(bytes(buf[:max_bytes]).decode("utf-8", "replace"))
    return text + ("\n\n" + TRUNCATION_MARKER if len(buf) > max_bytes else "")


def remote_runbook(url: str, text: str) -> Runbook:
    """A fetched runbook: shown with values filled in, but none of its blocks are runnable."""
    name = url_file_name(url) or "remote.md"
    try:
        runbook = parse_runbook(text, Path(name))
    except RunbookError:
        runbook = parse_runbook("\n" + text, Path(name))  # shown as it is, front matter and all
    return replace(runbook, steps=(), remote=True)
