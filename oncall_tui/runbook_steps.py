"""Runnable runbook steps: placeholder values, the allow-list, argv building and execution (DESIGN §7, R4).

A step is one command from a ```` ```sh run ```` block. It is split with `shlex` *before* any alert value
is substituted, so a value can never add, remove or re-quote an argument; every substituted value must
also pass an allow-list (Kubernetes label value / DNS-1123 style), so it cannot smuggle in an option
(`--kubeconfig=/x`), a selector (`app,tier!=x`) or anything a shell would interpret. The argv then runs
with `shell=False` semantics (`asyncio.create_subprocess_exec`). No textual import here.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .models import Alert
from .safe_text import sanitize

# `{{ labels.model }}`, `{{annotations.summary}}`, `{{ config.prometheus_url }}`
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ANY_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
NAMESPACES = ("labels", "annotations", "config")
# Trusted settings a runbook may use (from flags/env/config file, never from the alert): see `config_values`.
CONFIG_KEYS = ("prometheus_url", "alertmanager_url", "mlflow_uri", "namespace", "kube_context", "serving_alias")
URL_KEYS = ("prometheus_url", "alertmanager_url", "mlflow_uri")
# Where each value comes from, said when a step is blocked because it has none.
CONFIG_SOURCES = {
    "prometheus_url": "--prometheus, MLCALL_PROMETHEUS_URL or `prometheus` in the config file",
    "alertmanager_url": "--alertmanager, MLCALL_ALERTMANAGER_URL or `alertmanager` in the config file",
    "mlflow_uri": "--mlflow, MLFLOW_TRACKING_URI or `mlflow` in the config file",
    "namespace": "--namespace or `namespace` in the config file",
    "kube_context": "--kube-context or the kubeconfig's current-context",
    "serving_alias": "`serving_alias` in the config file",
}

# A Kubernetes label value is at most 63 characters; DNS-1123 subdomains allow 253. Alphanumeric at both
# ends, only `.`, `_`, `-` inside: no leading `-`, no `,=!()`, no whitespace, quotes, `$`, `;`, `/`.
SAFE_VALUE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")
# Config URLs: scheme, host, port and path only (no userinfo, query, fragment or spaces).
SAFE_URL = re.compile(r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?$")

_REASONS = (
    (re.compile(r"[\r\n]"), "newline"),
    (re.compile(r"\s"), "whitespace"),
    (re.compile(r"[;&|<>`$]"), "shell metacharacter"),
    (re.compile(r"[,=!()]"), "label-selector character"),
    (re.compile(r"[\"'\\]"), "quote"),
    (re.compile(r"/"), "path separator"),
)

SHELL_OPERATORS = ("|", "||", "&", "&&", ";", ";;", "<", ">", ">>", "<<", "<<<", "2>", "2>&1", "&>", "(", ")")
_EXPANSION = re.compile(r"\$[({A-Za-z_]|`")


class UnsafeValue(ValueError):
    """A value substituted into a runnable step failed the allow-list (or is missing)."""

    def __init__(self, label: str, value: str, why: str) -> None:
        self.label, self.value, self.why = label, value, why
        super().__init__(f"{label}={sanitize(value, single_line=True, max_len=80)!r}: {why}")


class MissingValue(UnsafeValue):
    """A placeholder with no value (or an empty one): the step is blocked, never run with a blank."""

    def __init__(self, label: str, why: str = "") -> None:
        super().__init__(label, "", why or missing_why(label))


def missing_why(label: str) -> str:
    namespace, _, key = label.partition(".")
    if namespace == "config":
        source = CONFIG_SOURCES.get(key)
        return f"no value: set it with {source}" if source else "no value"
    if namespace == "labels":
        return f"the alert has no `{key}` label"
    if namespace == "annotations":
        return f"the alert has no `{key}` annotation"
    return "missing"


@dataclass(frozen=True)
class Step:
    """A runnable block of a runbook: one command template, split into argv only when it runs."""

    index: int  # 1-based, in document order
    section: str  # the `## ` heading it sits under
    command: str  # the template, e.g. `kubectl -n {{ labels.namespace }} get pods`
    mutating: bool
    line: int  # 1-based line of the opening fence in the runbook file


@dataclass(frozen=True)
class StepResult:
    argv: tuple[str, ...]
    exit_code: int | None  # None: never started or killed before exiting
    output: str
    timed_out: bool = False
    truncated: bool = False
    duration: float = 0.0
    error: str = ""  # why it did not start (missing executable, permission)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def default_config(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`config.*` values from the documented environment (DESIGN §5); flags override them in the app."""
    env = os.environ if env is None else env
    out = {
        "prometheus_url": env.get("MLCALL_PROMETHEUS_URL", ""),
        "alertmanager_url": env.get("MLCALL_ALERTMANAGER_URL", "").split(",")[0].strip(),
        "mlflow_uri": env.get("MLFLOW_TRACKING_URI", ""),
    }
    return {k: v.rstrip("/") for k, v in out.items() if v}


def config_values(settings: Any, env: Mapping[str, str] | None = None, *, kube_context: str = "") -> dict[str, str]:
    """Every `config.*` value the app knows, from its Settings (flags > env > config file), the
    documented environment as a fallback, and the Kubernetes context in use. Empty ones are left out,
    so a step that needs one is blocked and names it."""
    out = default_config(env)
    urls = {"prometheus_url": settings.prometheus_url, "mlflow_uri": settings.mlflow_uri,
            "alertmanager_url": settings.alertmanager_urls[0] if settings.alertmanager_urls else ""}
    for key, value in urls.items():
        if value and value.strip():
            out[key] = value.strip().rstrip("/")
    names = {"namespace": settings.namespace, "kube_context": (settings.kube_context or "").strip() or kube_context,
             "serving_alias": settings.serving_alias}
    out.update({key: value.strip() for key, value in names.items() if value and value.strip()})
    return out


def lookup(alert: Alert, namespace: str, key: str, config: Mapping[str, str] | None = None) -> str | None:
    """The raw value of `namespace.key` for this alert, or None when it has none.

    `labels.deployment` defaults to the `model` label and `labels.namespace` to `config.namespace`
    (DESIGN §5: the alert → model mapping).
    """
    config = config or {}
    if namespace == "labels":
        value = alert.labels.get(key)
        if not value and key == "deployment":
            value = alert.labels.get("model")
        if not value and key == "namespace":
            value = config.get("namespace")
        return value or None
    if namespace == "annotations":
        return alert.annotations.get(key) or None
    if namespace == "config" and key in CONFIG_KEYS:
        return (config.get(key) or "").strip() or None
    return None


def check_value(label: str, value: str) -> str:
    """Return `value` if it may go into an argv token, else raise `UnsafeValue` saying why."""
    if label.startswith("config.") and label.partition(".")[2] in URL_KEYS:
        if not SAFE_URL.match(value):
            why = "contains user:password@" if "@" in value else "not a plain http(s) URL (no query, no userinfo)"
            raise UnsafeValue(label, value, why)
        return value
    if value == "":
        raise UnsafeValue(label, value, "empty")
    if value.startswith("-"):
        raise UnsafeValue(label, value, "starts with '-' (option injection)")
    for pattern, what in _REASONS:
        if found := pattern.search(value):
            raise UnsafeValue(label, value, f"contains {found[0]!r} ({what})")
    if len(value) > 253:
        raise UnsafeValue(label, value, "longer than 253 characters")
    if not SAFE_VALUE.match(value):
        raise UnsafeValue(label, value, "not a Kubernetes label value or DNS-1123 name")
    return value


def split_template(command: str) -> list[str]:
    """`shlex.split` a command template; placeholders are first tightened so they stay inside one token."""
    return shlex.split(PLACEHOLDER.sub(lambda m: "{{" + m[1] + "." + m[2] + "}}", command), comments=False)


def build_argv(step: Step | str, alert: Alert, config: Mapping[str, str] | None = None) -> list[str]:
    """The argv the step would run for this alert. Raises `UnsafeValue`/`MissingValue`, `ValueError`."""
    command = step.command if isinstance(step, Step) else step
    tokens = split_template(command_line(command))
    if not tokens:
        raise ValueError("empty command")
    if PLACEHOLDER.search(tokens[0]):
        raise ValueError("the program name must not be a placeholder")

    def fill(match: re.Match[str]) -> str:
        namespace, key = match[1], match[2]
        label = f"{namespace}.{key}"
        value = lookup(alert, namespace, key, config)
        if value is None:
            raise MissingValue(label)
        return check_value(label, value)

    return [PLACEHOLDER.sub(fill, token) for token in tokens]


def shell_problems(command: str) -> list[str]:
    """Why this template is not a single plain command (empty list when it is)."""
    lines = [ln for ln in command.replace("\\\n", " ").splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) != 1:
        return [f"a runnable block holds exactly one command (found {len(lines)})"]
    try:
        tokens = split_template(lines[0])
    except ValueError as exc:
        return [f"does not split as a command line: {exc}"]
    problems = []
    lex = shlex.shlex(PLACEHOLDER.sub("x", lines[0]), posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    try:
        ops = [t for t in lex if t and set(t) <= set("();<>|&")]
    except ValueError:
        ops = []
    if ops:
        problems.append(f"shell operator {ops[0]!r}: steps run without a shell")
    if any(_EXPANSION.search(t) for t in tokens):
        problems.append("shell expansion ($VAR, $(...) or backquotes) is not performed: steps run without a shell")
    if tokens and PLACEHOLDER.search(tokens[0]):
        problems.append("the program name must not be a placeholder")
    if any(t.startswith("#") for t in tokens):
        problems.append("a '#' comment after the command would be passed as an argument")
    return problems


def command_line(command: str) -> str:
    """The single command of a block: comments dropped, backslash-newline continuations joined."""
    lines = [ln.strip() for ln in command.replace("\\\n", " ").splitlines()]
    return " ".join(ln for ln in lines if ln and not ln.startswith("#"))


def display_argv(argv: list[str] | tuple[str, ...]) -> str:
    """The argv as one line a human can read (and paste): quoted where needed, controls removed."""
    return sanitize(shlex.join(argv), single_line=True)


TRUNCATED = "… [output truncated at {n} bytes]"
_MAX_LINE = 4096


async def run_step(
    argv: list[str] | tuple[str, ...],
    *,
    timeout: float = 60.0,
    max_output_bytes: int = 256 * 1024,
    on_output: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> StepResult:
    """Run argv without a shell, stream sanitized output lines to `on_output`, bound size and time."""
    argv = tuple(argv)
    started = time.monotonic()
    lines: list[str] = []

    def emit(line: str) -> None:
        line = sanitize(line)
        lines.append(line)
        if on_output is not None:
            on_output(line)

    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # so a timeout kills the whole process group
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        why = "command not found" if isinstance(exc, FileNotFoundError) else "cannot execute"
        message = f"{why}: {sanitize(argv[0] if argv else '', single_line=True)}"
        emit(message)
        code = 127 if isinstance(exc, FileNotFoundError) else 126
        return StepResult(argv, code, "\n".join(lines), duration=time.monotonic() - started, error=message)

    seen = 0
    truncated = False
    pending = b""

    async def pump() -> None:
        nonlocal seen, truncated, pending
        assert proc.stdout is not None
        while chunk := await proc.stdout.read(65536):
            if truncated:
                continue  # keep draining so the process is not blocked on a full pipe
            room = max_output_bytes - seen
            seen += len(chunk)
            if len(chunk) > room:
                chunk, truncated = chunk[:room], True
            pending += chunk
            *complete, pending = pending.split(b"\n")
            if len(pending) > _MAX_LINE:
                complete.append(pending)
                pending = b""
            for raw in complete:
                emit(raw.decode("utf-8", "replace"))
            if truncated:
                if pending:
                    emit(pending.decode("utf-8", "replace"))
                    pending = b""
                emit(TRUNCATED.format(n=max_output_bytes))
        if pending:
            emit(pending.decode("utf-8", "replace"))
            pending = b""
        await proc.wait()

    timed_out = False
    try:
        await asyncio.wait_for(pump(), timeout)
    except asyncio.TimeoutError:
        timed_out = True
        _kill(proc)
        await proc.wait()
        emit(f"… killed after {timeout:g} s timeout")
    except BaseException:
        _kill(proc)
        raise
    return StepResult(
        argv,
        None if timed_out else proc.returncode,
        "\n".join(lines),
        timed_out=timed_out,
        truncated=truncated,
        duration=time.monotonic() - started,
    )


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass
