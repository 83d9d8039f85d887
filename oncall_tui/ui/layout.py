"""Small terminals: the app carries CSS classes `-narrow` (width < 100) and `-short` (height < 30),
so any screen's CSS can fold itself with `.-narrow …` / `.-short …` rules.

A row of side-by-side panels (`#detail-row`, or any container with the class `panel-row`) shows one
panel at a time in a narrow terminal; `v` cycles through the panels that are displayed, and the row's
border title says which one is shown ("Alert 1/3 · v next"). The alerts table narrows its columns so
severity, name, model, state and age stay on screen at 80 columns.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget

NARROW_WIDTH = 100
SHORT_HEIGHT = 30
ROWS = "#detail-row, .panel-row"
SHOWN = "-panel-shown"
NAMES = {"detail": "Alert", "signal-panel": "Signals", "silence-info": "Silence", "model-panel": "Model",
         "deployment-panel": "Deployment"}
# alerts table column widths at 80 columns (the others keep theirs); Component folds away
NARROW_COLUMNS = {"name": 28, "component": 0, "model": 12, "count": 2, "age": 5}


def classes_for(size: Size) -> dict[str, bool]:
    return {"-narrow": size.width < NARROW_WIDTH, "-short": size.height < SHORT_HEIGHT}


def panel_name(widget: Widget) -> str:
    return NAMES.get(widget.id or "", (widget.id or type(widget).__name__).replace("-panel", "").replace("-", " ").title())


def _panels(row: Widget) -> list[Widget]:
    return [c for c in row.children if isinstance(c, Widget) and c.display]


def refresh(screen: Screen, narrow: bool, step: int = 0) -> None:
    """Bring `screen`'s panel rows and alerts table in line with the terminal's width."""
    for row in screen.query(ROWS):
        panels = _panels(row)
        if not narrow or not panels:
            for child in row.children:
                child.remove_class(SHOWN)
            row.border_title = None
            continue
        current = next((i for i, p in enumerate(panels) if p.has_class(SHOWN)), 0)
        index = (current + step) % len(panels)
        for child in row.children:
            child.set_class(child is panels[index], SHOWN)
        hint = " · v next" if len(panels) > 1 else ""
        row.border_title = f"{panel_name(panels[index])} {index + 1}/{len(panels)}{hint}"
    _columns(screen, narrow)


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


def has_panels(screen: Screen) -> bool:
    return any(len(_panels(row)) > 1 for row in screen.query(ROWS))
