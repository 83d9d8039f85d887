"""Small terminals: the app carries CSS classes `-narrow` (width < 100), `-medium` (100 ≤ width < 160)
and `-short` (height < 30), so any screen's CSS can fold itself with `.-narrow …` / `.-short …` rules;
`-grid` is medium and not short.

A row of side-by-side panels (`#detail-row`, or any container with the class `panel-row`) folds:
- narrow: one panel at a time; `v` shows the next one;
- medium and short: the first panel stays (class `-panel-pinned`) beside one other; `v` shows the next other;
- grid (medium, 30 rows or more): the panels in a 2-column grid, all visible (120×40: alert, signals /
  model, deployment; the silence, when there is one, below across both columns);
- wide: every panel side by side.
The row's border title says what is shown ("Signals 1/3 · v next"). Hidden panels keep being updated
(they just take no room), so nothing is lost by folding. The alerts table narrows its columns so
severity, name, model, state and age stay on screen at 80 columns.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget

NARROW_WIDTH = 100
WIDE_WIDTH = 160
SHORT_HEIGHT = 30
ROWS = "#detail-row, .panel-row"
SHOWN = "-panel-shown"
PINNED = "-panel-pinned"
NAMES = {"detail": "Alert", "signal-panel": "Signals", "silence-info": "Silence", "model-panel": "Model",
         "deployment-panel": "Deployment"}
# alerts table column widths at 80 columns (the others keep theirs); Component folds away
NARROW_COLUMNS = {"name": 28, "component": 0, "model": 12, "count": 2, "age": 5}


def classes_for(size: Size) -> dict[str, bool]:
    medium = NARROW_WIDTH <= size.width < WIDE_WIDTH
    short = size.height < SHORT_HEIGHT
    return {"-narrow": size.width < NARROW_WIDTH, "-medium": medium, "-short": short, "-grid": medium and not short}


def mode_of(app) -> str:
    if app.has_class("-narrow"):
        return "narrow"
    if app.has_class("-grid"):
        return "grid"
    return "medium" if app.has_class("-medium") else "wide"


def panel_name(widget: Widget) -> str:
    return NAMES.get(widget.id or "", (widget.id or type(widget).__name__).replace("-panel", "").replace("-", " ").title())


def _panels(row: Widget) -> list[Widget]:
    return [c for c in row.children if isinstance(c, Widget) and c.display]


def _fold(row: Widget, mode: str, step: int) -> None:
    panels = _panels(row)
    for child in row.children:  # in the grid each cell carries its name in its top border
        child.border_title = panel_name(child) if mode == "grid" and row.id == "detail-row" else None
    pinned = panels[0] if mode == "medium" and len(panels) > 1 else None
    cycled = [p for p in panels if p is not pinned]
    if mode in ("wide", "grid") or not cycled:
        for child in row.children:
            child.remove_class(SHOWN, PINNED)
        row.border_title = None
        return
    current = next((i for i, p in enumerate(cycled) if p.has_class(SHOWN)), 0)
    index = (current + step) % len(cycled)
    for child in row.children:
        child.set_class(child is cycled[index], SHOWN)
        child.set_class(child is pinned, PINNED)
    hint = " · v next" if len(cycled) > 1 else ""
    row.border_title = f"{panel_name(cycled[index])} {index + 1}/{len(cycled)}{hint}"


def refresh(screen: Screen, mode: str, step: int = 0) -> None:
    """Bring `screen`'s panel rows and alerts table in line with the terminal's size."""
    for row in screen.query(ROWS):
        _fold(row, mode, step)
    _columns(screen, mode == "narrow")


def _columns(screen: Screen, narrow: bool) -> None:
    table = getattr(screen, "table", None) if type(screen).__name__ == "AlertsScreen" else None
    if table is None or not table.is_mounted or not table.columns:
        return
    from .widgets.alert_table import COLUMNS

    defaults = {key: width for key, _label, width in COLUMNS}
    changed = False
    for key, column in table.columns.items():
        name = key.value
        if name not in NARROW_COLUMNS or defaults.get(name) is None:
            continue
        width = NARROW_COLUMNS[name] if narrow else defaults[name]
        if column.width != width:
            column.width = width
            changed = True
    if changed:
        table._require_update_dimensions = True  # DataTable re-measures on its next refresh
        table.refresh()


def has_panels(screen: Screen, mode: str) -> bool:
    """Is there anything for `v` to show?"""
    least = {"narrow": 1, "medium": 2}.get(mode)
    return least is not None and any(len(_panels(row)) > least for row in screen.query(ROWS))
