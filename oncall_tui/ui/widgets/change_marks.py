"""Change marks and the "Changes" list, drawn into rich Text (no widget here).

A mark sits in the chart column its change falls in (the same arithmetic as the sparkline's samples):
▼ for a change whose time is known, ▽ for one known only as "at or after" (an alias move nobody
recorded). The glyph carries the meaning; the theme's `change-mark` colour only helps (NO_COLOR and the
colour-blind theme read the same). Every remote string (summaries, who, why) goes through safe_text.
"""

from __future__ import annotations

from rich.text import Text

from ...changes import columns_of, likely_trigger, line, relative, trigger_line
from ...models import Change, ChangeView
from ...safe_text import safe
from .sparkline import colour

MARK = "▼"
MARK_AT_OR_AFTER = "▽"
LIST_LIMIT = 5  # the panel's list; the zoom view lists every change in the window


def mark_colour() -> str:
    return f"bold {colour('change-mark', 'magenta')}"


def marks(changes: tuple[Change, ...], start: float, end: float, width: int) -> Text:
    """`width` columns: a mark where a change falls, blank elsewhere."""
    cols = columns_of(changes, start, end, width)
    out = Text(end="")
    style = mark_colour()
    for col in range(width):
        found = cols.get(col)
        if not found:
            out.append(" ")
        else:
            out.append(MARK if any(not c.at_or_after for c in found) else MARK_AT_OR_AFTER, style=style)
    return out


def entry(change: Change, alert_start: float | None, width: int) -> Text:
    """`▼ −4m  champion v6 → v7 by alice: retrain` (time relative to the alert's start, else UTC)."""
    out = Text(MARK_AT_OR_AFTER if change.at_or_after else MARK, style=mark_colour(), end="")
    if alert_start is not None:
        when = ("≥" if change.at_or_after else "") + relative(change.at - alert_start)
        out.append(f" {when:>6}  ", style="bold")
    else:
        from .sparkline import clock_time

        out.append(f" {'≥' if change.at_or_after else ''}{clock_time(change.at)[:5]}  ", style="bold")
    out.append_text(safe(line(change), single_line=True, max_len=300))
    out.truncate(max(1, width), overflow="ellipsis")
    return out


def sources_note(view: ChangeView, *, long: bool = False) -> Text:
    """Which sources said nothing: their names first (they must survive truncation), the reasons when
    `long` (the zoom view): "no changes from: Kubernetes, DVC metrics commits (not configured) · …"."""
    out = Text(end="")
    if long:
        parts = [f"{name}: {why}" for name, why in view.missing] + [f"{name} failed: {why}" for name, why in view.errors]
    else:
        names = [name for name, _ in view.missing]
        parts = [", ".join(names) + " (not configured or not applicable; z: why)"] if names else []
        parts += [f"{name} failed: {why}" for name, why in view.errors]
    if parts:
        out.append_text(safe("no changes from: " + " · ".join(parts), "dim italic", single_line=True, max_len=800))
    return out


def changes_section(view: ChangeView, start: float, end: float, alert_start: float | None, width: int, *,
                    limit: int | None = LIST_LIMIT) -> Text:
    """"Changes" under the chart: the window's changes, newest first; the likely trigger; silent sources."""
    out = Text("Changes", style="bold underline", end="")
    shown = view.within(start, end)
    out.append(f" · {len(shown)} in the window" if shown else " · none in the window", style="dim")
    for change in shown[:limit] if limit else shown:
        out.append("\n")
        out.append_text(entry(change, alert_start, width))
    if limit and len(shown) > limit:
        out.append(f"\n  +{len(shown) - limit} more (z: zoom)", style="dim")
    trigger = likely_trigger(view, alert_start)
    if trigger is not None and alert_start is not None:
        out.append("\n")
        out.append_text(trigger_text(trigger, alert_start, width))
    note = sources_note(view, long=not limit)
    if note.plain:
        note.truncate(max(1, width) if limit else max(1, width * 3), overflow="ellipsis")
        out.append("\n")
        out.append_text(note)
    return out


def trigger_text(change: Change, alert_start: float, width: int = 0) -> Text:
    out = Text(MARK_AT_OR_AFTER if change.at_or_after else MARK, style=mark_colour(), end="")
    out.append(" ")
    out.append_text(safe(trigger_line(change, alert_start), "bold", single_line=True, max_len=300))
    if change.undo is not None:
        out.append_text(safe(f" · undo: {change.undo.label}", single_line=True, max_len=200))
    if width:
        out.truncate(width, overflow="ellipsis")
    return out
