"""The silence form: `s`, the reason, `enter`. Matchers prefilled from the alert(s), each toggleable.

The form never talks HTTP: it runs `actions.silence.create` in a worker. It stays open with its contents
and the (sanitized) server message when anything goes wrong; it closes only when every silence is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, RadioButton, RadioSet, Static

from ...actions import silence as act
from ...actions.audit import AuditError
from ...incidents import CATEGORIES, CATEGORY_LABELS, is_drill
from ...models import Alert, Matcher, utcnow
from ...safe_text import safe
from ..widgets.silence_info import until

if TYPE_CHECKING:
    from ..silencing import Silencing


class SilenceForm(ModalScreen[list[act.Outcome] | None]):
    """Dismisses with the outcomes of the silences written (all ok), or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    SilenceForm { align: center middle; }
    SilenceForm > #box {
        width: 96; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SilenceForm .heading { text-style: bold; margin-top: 1; }
    SilenceForm #matchers { height: auto; max-height: 10; }
    SilenceForm #matchers Checkbox { border: none; padding: 0; height: 1; }
    SilenceForm #durations { layout: horizontal; height: 3; width: auto; }
    SilenceForm #category-row { height: 1; margin-top: 1; }
    SilenceForm #category-row > Static { width: 10; text-style: bold; }
    SilenceForm #categories { layout: horizontal; height: 1; width: auto; border: none; padding: 0; }
    SilenceForm #categories RadioButton { padding: 0 1 0 0; }
    SilenceForm #duration-row { height: 3; }
    SilenceForm #custom { width: 24; }
    SilenceForm #regex-row { height: 3; }
    SilenceForm #extra { width: 1fr; }
    SilenceForm #preview { margin-top: 1; color: $text-muted; }
    SilenceForm #error { color: $error; text-style: bold; }
    SilenceForm #buttons { height: 3; margin-top: 1; }
    """

    def __init__(self, silencing: Silencing, alerts: list[Alert], *, ack: bool = False,
                 common: bool | None = None) -> None:
        super().__init__()
        self.silencing = silencing
        self.alerts = alerts
        self.ack = ack
        self.names = sorted({n for a in alerts for n in a.labels})
        self.common_default = len(alerts) > 1 if common is None else common
        self.attempts: dict[tuple[Matcher, ...], act.Attempts] = {}
        self.done: list[act.Outcome] = []
        self.done_sets: set[tuple[Matcher, ...]] = set()
        self.busy = False
        self.ready = False
        settings = silencing.settings
        self.default_duration = act.ACK_DURATION if ack else settings.silence_duration
        self.category_default = "drill" if any(is_drill(a.labels) for a in alerts) else ""

    # -- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        what = f"{len(self.alerts)} alert" + ("s" if len(self.alerts) != 1 else "")
        with Vertical(id="box"):
            title = Text(("Acknowledge " if self.ack else "Silence ") + what, style="bold")
            where = self.silencing.cluster_line(self.alerts)
            if where is not None:  # several clusters: say which Alertmanager it goes to, red for a danger one
                title.append(" in cluster ")
                title.append_text(safe(where[0], "bold reverse" if where[1] else "bold", single_line=True))
                if where[1]:
                    title.append(" ⚠ production", style="bold")
            yield Static(title, id="title")
            label = "Reason (required; shown as “ACK: …”)" if self.ack else "Reason (required)"
            yield Static(Text(label), classes="heading")
            yield Input(placeholder="why: e.g. known drift, retraining in progress (JIRA-123)", id="reason")
            with Horizontal(id="category-row"):  # dismiss or resolve? `mlcall-tui report` counts false alarms
                yield Static(Text("Category"))
                with RadioSet(id="categories"):
                    yield RadioButton("none", value=not self.category_default, id="c-none")
                    for cat in CATEGORIES:
                        yield RadioButton(CATEGORY_LABELS[cat], value=cat == self.category_default, id=f"c-{cat}")
            yield Static(Text("Matchers (space toggles)"), classes="heading")
            with VerticalScroll(id="matchers"):
                for name in self.names:
                    yield Checkbox(self._matcher_label(name), value=True, id=f"m-{self.names.index(name)}")
            if len(self.alerts) > 1:
                yield Checkbox(Text("one silence with the labels all of them share (else one per label set)"),
                               value=self.common_default, id="common")
            yield Static(Text("Duration"), classes="heading")
            with Horizontal(id="duration-row"):
                with RadioSet(id="durations"):
                    for preset in act.PRESETS:
                        yield RadioButton(preset, value=preset == self.default_duration, id=f"d-{preset}")
                custom = "" if self.default_duration in act.PRESETS else self.default_duration
                yield Input(value=custom, placeholder="custom: 90m, 3d", id="custom")
            with Horizontal(id="regex-row"):
                yield Checkbox(Text("allow regex / negative"), value=False, id="allow-regex")
                yield Input(placeholder='extra matchers: instance=~"web-.*" env!="dev"', id="extra")
            yield Static("", id="preview")
            yield Static("", id="error")
            with Horizontal(id="buttons"):
                yield Button("Acknowledge" if self.ack else "Silence", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    def _values(self, name: str) -> list[str]:
        return sorted({a.labels.get(name, "") for a in self.alerts})

    def _matcher_label(self, name: str) -> Text:
        values = self._values(name)
        if len(values) == 1:
            return safe(str(Matcher(name, values[0])), single_line=True, max_len=90)
        text = safe(name, single_line=True, max_len=40)
        text.append(f"  ({len(values)} values)", style="dim")
        return text

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()
        self._update_preview()
        self.call_after_refresh(setattr, self, "ready", True)

    # -- reading the form ----------------------------------------------------------------------
    def _chosen(self) -> list[str]:
        return [n for i, n in enumerate(self.names) if self.query_one(f"#m-{i}", Checkbox).value]

    def _common(self) -> bool:
        boxes = self.query("#common")
        return bool(boxes) and boxes.first(Checkbox).value

    def _duration_text(self) -> str:
        custom = self.query_one("#custom", Input).value.strip()
        if custom:
            return custom
        pressed = self.query_one("#durations", RadioSet).pressed_button
        return str(pressed.label) if pressed is not None else self.default_duration

    def drafts(self) -> list[act.SilenceDraft]:
        """The silences the form would write now; raises ValueError with what is wrong."""
        duration = act.parse_duration(self._duration_text())
        extra = act.parse_matchers(self.query_one("#extra", Input).value)
        allow = self.query_one("#allow-regex", Checkbox).value
        reason = self.query_one("#reason", Input).value
        now = utcnow()
        sets = act.matcher_sets(self.alerts, self._chosen(), common=self._common(), extra=extra)
        return [act.draft(ms, duration, created_by=self.silencing.settings.author, reason=reason,
                          allow_regex=allow, ack=self.ack, now=now) for ms in sets]

    def _update_preview(self) -> None:
        preview = self.query_one("#preview", Static)
        try:
            drafts = self.drafts()
        except ValueError as exc:
            preview.update(safe(str(exc), max_len=300))
            return
        if not drafts:
            preview.update(Text("nothing to silence"))
            return
        cluster = self.alerts[0].cluster  # a silence acts in its own cluster only
        alerts = [a for a in self.silencing.current_alerts() if a.cluster == cluster]
        matched = {a.fingerprint for d in drafts for a in alerts if act.matches_labels(d.matchers, a.labels)}
        text = Text(f"{len(drafts)} silence{'s' if len(drafts) != 1 else ''} · until {until(drafts[0].ends_at)}"
                    f" · matches {len(matched)} current alert{'s' if len(matched) != 1 else ''} · by ", end="")
        text.append_text(safe(self.silencing.settings.author, single_line=True, max_len=60))
        if len(drafts) == 1:
            text.append("\n")
            text.append_text(safe(" ".join(str(m) for m in drafts[0].matchers) or "(no matchers)", max_len=400))
        preview.update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._update_preview()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._update_preview()

    def category(self) -> str:
        pressed = self.query_one("#categories", RadioSet).pressed_button
        key = (pressed.id or "")[2:] if pressed is not None else ""
        return key if key in CATEGORIES else ""

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        if event.radio_set.id != "durations":
            return
        if self.ready:  # a preset picked by the user replaces a custom duration
            self.query_one("#custom", Input).value = ""
        self._update_preview()

    # -- submitting ----------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    def show_error(self, message: str | Text) -> None:
        self.query_one("#error", Static).update(
            message if isinstance(message, Text) else safe(message, max_len=800))

    def submit(self) -> None:
        if self.busy:
            return
        try:
            drafts = self.drafts()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        problems = sorted({p for d in drafts for p in act.validate(d)})
        if not drafts or problems:
            self.show_error("Not sent: " + "; ".join(problems or ["nothing to silence"]))
            if any("reason" in p for p in problems):
                self.query_one("#reason", Input).focus()
            return
        self.busy = True
        self.query_one("#submit", Button).disabled = True
        self.show_error(Text("Sending…", style="dim"))
        self.run_worker(self._send(drafts), group="silence-submit", exclusive=True, exit_on_error=False)

    async def _send(self, drafts: list[act.SilenceDraft]) -> None:
        action = "silence.ack" if self.ack else "silence.create"
        failures = []
        for d in drafts:
            if d.matchers in self.done_sets:
                continue
            attempts = self.attempts.setdefault(d.matchers, act.Attempts())
            try:
                category = self.category()
                outcome = await act.create(self.silencing.source_of(self.alerts[0].cluster), self.silencing.audit, d,
                                           action=action,
                                           attempts=attempts, verify_timeout=self.silencing.verify_timeout,
                                           extra={"category": category} if category else None)
            except AuditError as exc:
                failures.append(f"not sent: {exc}")
                break
            except act.ValidationError as exc:
                failures.append("not sent: " + "; ".join(exc.problems))
                break
            if outcome.ok:
                self.done.append(outcome)
                self.done_sets.add(d.matchers)
            else:
                failures.append(f"{outcome.result}: {outcome.message}")
                break
        if self.done:
            self.silencing.after_write()
        if not failures:  # stays busy while closing: a second enter must not write it again
            self.dismiss(list(self.done))
            return
        self.busy = False
        self.query_one("#submit", Button).disabled = False
        made = f" ({len(self.done)} of {len(drafts)} written; the rest stays in the form)" if self.done else ""
        self.show_error("Not done" + made + " — " + " · ".join(failures) + " · enter retries (it first looks "
                        "for the earlier attempt by its audit id, so nothing is duplicated)")
