"""How alert facts look in a cell: severity and state with a glyph and a word, never colour alone."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from ..models import AlertState, compact_duration, utcnow

SEVERITY_GLYPHS = {"critical": ("▲", "CRIT"), "error": ("▲", "ERR"), "warning": ("◆", "WARN"), "info": ("●", "INFO")}
STATE_GLYPHS = {
    AlertState.FIRING: ("●", "firing"),
    AlertState.PENDING: ("◌", "pending"),
    AlertState.SILENCED: ("◍", "silenced"),
    AlertState.INHIBITED: ("○", "inhibited"),
}
# Styles name the theme's semantic colours; the app resolves them (see ui/themes.py).
SEVERITY_STYLES = {"critical": "sev-critical", "error": "sev-critical", "warning": "sev-warning", "info": "sev-info"}
STATE_STYLES = {
    AlertState.FIRING: "state-firing",
    AlertState.PENDING: "state-pending",
    AlertState.SILENCED: "state-silenced",
    AlertState.INHIBITED: "state-inhibited",
}

_palette: dict[str, str] = {}


def set_palette(palette: dict[str, str]) -> None:
    """Colours for the semantic style names, taken from the active theme."""
    _palette.clear()
    _palette.update(palette)


def style(name: str) -> str:
    return _palette.get(name, "")


def severity_cell(severity: str) -> Text:
    glyph, word = SEVERITY_GLYPHS.get(severity.lower(), ("·", severity.upper()[:4] or "NONE"))
    # the style sits in a span, not the Text's base style: Text equality sees it, so a theme change redraws
    return Text.assemble((f"{glyph} {word}", style(SEVERITY_STYLES.get(severity.lower(), ""))), end="")


def state_cell(state: AlertState) -> Text:
    glyph, word = STATE_GLYPHS[state]
    return Text.assemble((f"{glyph} {word}", style(STATE_STYLES[state])), end="")


def age(start: datetime | None, now: datetime | None = None) -> str:
    """Compact age: 42s, 7m, 3h12m, 2d4h."""
    return "-" if start is None else compact_duration(((now or utcnow()) - start).total_seconds())
