"""The runbook of one alert: its Markdown with the alert's values filled in, the runnable steps, and
their output. Every step shows its final argv in a confirm dialog before it runs (DESIGN §6–§7)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

from markdown_it import MarkdownIt
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Log, Markdown, OptionList, Static
from textual.widgets.markdown import MarkdownFence
from textual.widgets.option_list import Option

from ...models import Alert
from ...runbooks import (
    Resolution,
    Step,
    StepResult,
    UnsafeValue,
    build_argv,
    default_config,
    display_argv,
    render_body,
    run_step,
)
from ...safe_text import join, redact_url, safe, sanitize
from ..widgets.confirm import ConfirmModal

KEY_LABELS = ("model", "feature", "namespace", "deployment")


def _parser() -> MarkdownIt:
    # No raw HTML and no auto-linking: runbook prose is text and links, nothing more.
    return MarkdownIt("gfm-like", {"html": False, "linkify": False, "typographer": False})


def _gist(argv: tuple[str, ...]) -> list[str]:
    """argv without what every step shares (`-n <namespace>`, server URLs' scheme and host)."""
    out: list[str] = []
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in ("-n", "--namespace"):
            skip = True
        elif (m := re.match(r"^https?://[^/]+(.*)$", token)) is not None:
            if m[1]:
                out.append(m[1])
        else:
            out.append(token)
    return out


@dataclass(frozen=True)
class StepView:
    step: Step
    argv: tuple[str, ...] | None
    blocked: UnsafeValue | ValueError | None


class RunbookScreen(Screen):
    DEFAULT_CSS = """
    RunbookScreen #rb-header { height: auto; padding: 0 1; background: $panel; }
    RunbookScreen #rb-main { height: 1fr; }
    RunbookScreen #rb-doc-scroll { width: 1fr; }
    RunbookScreen MarkdownFence { overflow-x: hidden; }
    RunbookScreen MarkdownFence > Label { width: 1fr; text-wrap: wrap; }
    RunbookScreen #rb-side { width: 52; }
    RunbookScreen #rb-steps { height: 1fr; border: round $primary; }
    RunbookScreen #rb-steps:focus { border: round $accent; }
    RunbookScreen #rb-step-detail { height: auto; max-height: 12; padding: 0 1; }
    RunbookScreen #rb-status { height: auto; padding: 0 1; }
    RunbookScreen #rb-output { height: 10; border: round $secondary; }
    """

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("n", "next_step", "Next step"),
        Binding("p", "previous_step", "Prev step"),
        Binding("enter", "run_step", "Run step"),
        Binding("tab", "app.focus_next", "Focus", show=False),
    ]

    def __init__(
        self,
        alert: Alert,
        resolution: Resolution,
        *,
        read_only: bool,
        audit: Callable[[dict], None] | None = None,
        config: Mapping[str, str] | None = None,
        step_timeout: float = 60.0,
        max_output_bytes: int = 256 * 1024,
    ) -> None:
        super().__init__()
        self.alert = alert
        self.resolution = resolution
        self.read_only = read_only
        self.audit = audit
        self.config = dict(default_config() if config is None else config)
        self.step_timeout = step_timeout
        self.max_output_bytes = max_output_bytes
        self.running = False
        self._opening = False
        self.last_result: StepResult | None = None
        runbook = resolution.runbook
        steps = runbook.steps if runbook else ()
        self.views = [self._view(s) for s in steps if not (read_only and s.mutating)]

    def _view(self, step: Step) -> StepView:
        try:
            return StepView(step, tuple(build_argv(step, self.alert, self.config)), None)
        except (UnsafeValue, ValueError) as exc:
            return StepView(step, None, exc)

    # ---- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._header(), id="rb-header")
        with Horizontal(id="rb-main"):
            with VerticalScroll(id="rb-doc-scroll"):
                yield Markdown(self._markdown(), id="rb-doc", parser_factory=_parser, open_links=False)
            with Vertical(id="rb-side"):
                steps = OptionList(*[Option(self._prompt(v), id=f"step-{v.step.index}") for v in self.views], id="rb-steps")
                steps.border_title = "Steps (n/p, enter runs)"
                yield steps
                yield Static(self._detail(self.views[0] if self.views else None), id="rb-step-detail")
                yield Static(Text("No step run yet.", style="dim"), id="rb-status")
        output = Log(id="rb-output", max_lines=1000, auto_scroll=True)
        output.border_title = "Output"
        yield output
        yield Footer()

    def on_mount(self) -> None:
        steps = self.query_one("#rb-steps", OptionList)
        if self.views:
            self._opening = True
            steps.highlighted = 0
        steps.focus()

    def _header(self) -> Text:
        a, res = self.alert, self.resolution
        line = join(Text("Runbook · ", style="bold"), safe(a.name or "(unnamed alert)", "bold", single_line=True, max_len=80))
        for key in KEY_LABELS:
            if a.labels.get(key):
                line.append("  ")
                line.append(join(Text(f"{key}=", style="dim"), safe(a.labels[key], single_line=True, max_len=60)))
        if a.severity:
            line.append("  ")
            line.append(safe(a.severity, "bold red" if a.severity == "critical" else "yellow", single_line=True, max_len=20))
        if self.read_only:
            line.append("  READ-ONLY", style="bold reverse")
        second = Text("\n", style="dim")
        if res.runbook:
            rb = res.runbook
            second.append(join(safe(rb.path.name, single_line=True), Text(f" (by {res.reason})")))
            if rb.owner:
                second.append(join(Text(" · owner "), safe(rb.owner, single_line=True, max_len=40)))
            if rb.last_reviewed:
                second.append(join(Text(" · reviewed "), safe(rb.last_reviewed, single_line=True, max_len=20)))
        else:
            second.append("no runbook found", style="bold red")
        if res.url:
            second.append(join(Text(" · "), safe(redact_url(res.url), single_line=True, max_len=120)))
        for warning in res.warnings:
            second.append(join(Text("\n⚠ "), safe(warning, "yellow", single_line=True, max_len=160)))
        line.append_text(second)
        return line

    def _markdown(self) -> str:
        runbook = self.resolution.runbook
        if runbook is None:
            return "# No runbook\n\nNo runbook matches this alert and no `generic.md` was found.\n"
        text = render_body(runbook, self.alert, self.config, read_only=self.read_only)
        if runbook.remote:
            text = "> Fetched from the alert's runbook URL: shown only, no step is runnable.\n\n" + text
        return text

    def _prompt(self, view: StepView) -> Text:
        """One line per step: number, kind, and the gist of its command (or what blocks it)."""
        step = view.step
        line = Text(f"{step.index:>2} ", style="bold")
        if isinstance(view.blocked, UnsafeValue):
            line.append("✖ ", style="bold red")
            line.append_text(join(safe(view.blocked.label, "red"), Text(": ", style="red"), safe(view.blocked.why, "red")))
        elif view.blocked is not None:
            line.append_text(join(Text("✖ ", style="bold red"), safe(str(view.blocked), "red", single_line=True)))
        else:
            line.append("M " if step.mutating else "▸ ", style="bold red" if step.mutating else "green")
            line.append_text(safe(display_argv(_gist(view.argv or ())), single_line=True))
        line.truncate(48, overflow="ellipsis")
        return line

    def _detail(self, view: StepView | None) -> Text:
        """The highlighted step in full: section, kind, final argv, or the label and reason blocking it."""
        if view is None:
            return Text("No runnable steps." if not self.views else "", style="dim")
        step = view.step
        text = join(Text(f"Step {step.index} · ", style="bold"), safe(step.section, "bold", single_line=True, max_len=40),
                    Text(" · MUTATING" if step.mutating else " · read-only", style="bold red" if step.mutating else "green"))
        if isinstance(view.blocked, UnsafeValue):
            text.append_text(join(Text("\n✖ blocked: ", style="bold red"), safe(view.blocked.label, "red"),
                                  Text(": ", style="red"), safe(view.blocked.why, "red")))
        elif view.blocked is not None:
            text.append_text(join(Text("\n✖ blocked: ", style="bold red"), safe(str(view.blocked), "red")))
        if view.blocked is not None:
            text.append_text(join(Text("\ntemplate: ", style="dim"), safe(step.command, "dim", max_len=600)))
        else:
            text.append_text(join(Text("\n$ ", style="dim"), safe(display_argv(view.argv or ()), max_len=600)))
        return text

    # ---- navigation ----------------------------------------------------------------------------

    @property
    def current(self) -> StepView | None:
        index = self.query_one("#rb-steps", OptionList).highlighted
        return self.views[index] if index is not None and 0 <= index < len(self.views) else None

    def _move(self, delta: int) -> None:
        steps = self.query_one("#rb-steps", OptionList)
        if not self.views:
            self.notify("This runbook has no runnable steps.", severity="warning")
            return
        index = steps.highlighted
        steps.highlighted = 0 if index is None else max(0, min(len(self.views) - 1, index + delta))
        steps.focus()

    def action_next_step(self) -> None:
        self._move(+1)

    def action_previous_step(self) -> None:
        self._move(-1)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        view = self.views[event.option_index] if 0 <= event.option_index < len(self.views) else None
        if view is None:
            return
        self.query_one("#rb-step-detail", Static).update(self._detail(view))
        if self._opening:  # the initial highlight: keep the document at its top (Symptom first)
            self._opening = False
            return
        marker = f"# step {view.step.index} "
        for fence in self.query_one("#rb-doc", Markdown).query(MarkdownFence):
            if fence.code.startswith(marker):
                scroll = self.query_one("#rb-doc-scroll", VerticalScroll)
                scroll.scroll_to_widget(fence, top=True, animate=False, immediate=True)
                scroll.scroll_to(y=max(0, scroll.scroll_y - 3), animate=False, immediate=True)  # context above
                break

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_run_step()

    def action_close(self) -> None:
        self.dismiss(self.last_result)

    # ---- running -------------------------------------------------------------------------------

    def action_run_step(self) -> None:
        view = self.current
        if view is None:
            return
        if view.blocked is not None:
            why = view.blocked
            what = f"{why.label}: {why.why}" if isinstance(why, UnsafeValue) else str(why)
            self.notify(sanitize(f"Step {view.step.index} is blocked: {what}", single_line=True), severity="error", markup=False)
            return
        if self.running:
            self.notify("A step is still running.", severity="warning")
            return
        argv = view.argv or ()
        kind = "MUTATING: this changes something" if view.step.mutating else "read-only diagnosis"
        body = Text(f"Step {view.step.index} · {kind}\n\nThese exact arguments run, without a shell:\n", style="bold")
        for n, arg in enumerate(argv):
            body.append_text(join(Text(f"\n  [{n}] ", style="dim"), safe(arg, single_line=True, max_len=400)))
        body.append_text(join(Text("\n\nAs one command line:\n", style="dim"), safe(display_argv(argv))))
        modal = ConfirmModal(f"Run step {view.step.index}?", body, "Run", danger=view.step.mutating)
        self.app.push_screen(modal, lambda ok: self._confirmed(view, ok))

    def _confirmed(self, view: StepView, ok: bool | None) -> None:
        if ok:
            self.execute(view)

    def _record(self, event: str, view: StepView, **extra: object) -> None:
        if self.audit is None:
            return
        runbook = self.resolution.runbook
        self.audit({
            "event": event, "action": "runbook_step", "alert": self.alert.name,
            "fingerprint": self.alert.fingerprint, "runbook": str(runbook.path) if runbook else "",
            "labels": dict(self.alert.labels), "step": view.step.index, "mutating": view.step.mutating, "argv": list(view.argv or ()), **extra,
        })

    @work(exclusive=True, group="runbook-step")
    async def execute(self, view: StepView) -> StepResult | None:
        output = self.query_one("#rb-output", Log)
        status = self.query_one("#rb-status", Static)
        try:
            self._record("intent", view)
        except Exception as exc:  # the audit record is the precondition (DESIGN §6)
            status.update(join(Text("Not run: the audit log could not be written: ", style="bold red"), safe(exc)))
            return None
        self.running = True
        output.clear()
        output.border_title = f"Output · step {view.step.index}"
        output.write_line(f"$ {display_argv(view.argv or ())}")
        status.update(Text(f"Running step {view.step.index}…", style="bold"))
        try:
            result = await run_step(view.argv or (), timeout=self.step_timeout,
                                    max_output_bytes=self.max_output_bytes, on_output=output.write_line)
        finally:
            self.running = False
        self._opening = False
        self.last_result = result
        outcome = "ok" if result.ok else "failed"
        try:
            self._record("result", view, result=outcome, exit_code=result.exit_code, timed_out=result.timed_out,
                         truncated=result.truncated, duration=round(result.duration, 3))
        except Exception as exc:
            self.notify(sanitize(f"Audit result not written: {exc}", single_line=True), severity="error", markup=False)
        status.update(self._result_text(view, result))
        return result

    @staticmethod
    def _result_text(view: StepView, result: StepResult) -> Text:
        if result.timed_out:
            text = Text(f"Step {view.step.index}: timed out, killed", style="bold red")
        elif result.error:
            text = join(Text(f"Step {view.step.index}: ", style="bold red"), safe(result.error, "bold red"))
        else:
            style = "bold green" if result.exit_code == 0 else "bold red"
            text = Text(f"Step {view.step.index}: exit code {result.exit_code}", style=style)
        text.append(f" · {result.duration:.1f} s" + (" · output truncated" if result.truncated else ""), style="dim")
        return text
