"""Key bindings: ids for user keymaps, vim-style navigation everywhere, and the `[keys]` table.

Every binding a user may want to move has an id `<screen>.<action>` (`alerts.silence`,
`alerts.cursor-down`, `nav.down` …); `?` lists them. The config file remaps them:

    [keys]
    "alerts.silence" = "ctrl+s"      # one key, or several: "ctrl+s,f2"
    "nav.down" = "n"

A screen gets ids for its bindings by wrapping its list: `BINDINGS = with_ids("silences", [...])`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

from textual.binding import Binding
from textual.dom import DOMNode
from textual.widget import Widget


def binding_id(prefix: str, action: str) -> str:
    """`alerts` + `app.refresh_now` → `alerts.refresh-now`; `cursor('up')` → `cursor-up`."""
    name = action.split(".", 1)[1] if action.startswith(("app.", "screen.")) else action
    for ch in "('\")":
        name = name.replace(ch, "-" if ch == "(" else "")
    return f"{prefix}.{name.replace('_', '-').strip('-')}"


def with_ids(prefix: str, bindings: Iterable[Binding | tuple]) -> list[Binding | tuple]:
    """The same bindings, each without an id given `<prefix>.<action>` (explicit ids are kept)."""
    out: list[Binding | tuple] = []
    for b in bindings:
        if isinstance(b, Binding) and b.id is None:
            b = replace(b, id=binding_id(prefix, b.action))
        out.append(b)
    return out


# Navigation for every screen: app-level bindings, so the focused widget's own keys always win and an
# Input keeps its letters. Each direction tries the focused widget's cursor, then scrolling, then focus.
NAV_BINDINGS = [
    Binding("j", "nav('down')", "Down", show=False, id="nav.down"),
    Binding("k", "nav('up')", "Up", show=False, id="nav.up"),
    Binding("h", "nav('left')", "Left", show=False, id="nav.left"),
    Binding("l", "nav('right')", "Right", show=False, id="nav.right"),
    Binding("down", "nav('down')", "Down", show=False, id="nav.arrow-down"),
    Binding("up", "nav('up')", "Up", show=False, id="nav.arrow-up"),
    Binding("left", "nav('left')", "Left", show=False, id="nav.arrow-left"),
    Binding("right", "nav('right')", "Right", show=False, id="nav.arrow-right"),
    Binding("g", "nav('top')", "Top", show=False, id="nav.top"),
    Binding("G", "nav('bottom')", "Bottom", show=False, id="nav.bottom"),
    Binding("ctrl+d", "nav('page_down')", "Page down", show=False, id="nav.page-down"),
    Binding("ctrl+u", "nav('page_up')", "Page up", show=False, id="nav.page-up"),
]

_CURSOR = {"down": ("cursor_down",), "up": ("cursor_up",), "left": ("cursor_left",), "right": ("cursor_right",),
           "top": ("first", "scroll_top"), "bottom": ("last", "scroll_bottom"),
           "page_down": ("page_down",), "page_up": ("page_up",)}
_SCROLL = {"down": "scroll_down", "up": "scroll_up", "left": "scroll_left", "right": "scroll_right",
           "top": "scroll_home", "bottom": "scroll_end", "page_down": "scroll_page_down",
           "page_up": "scroll_page_up"}
_FOCUS = {"down": "focus_next", "right": "focus_next", "up": "focus_previous", "left": "focus_previous"}
_CURSOR_WIDGETS = ("DataTable", "OptionList", "ListView", "Tree", "SelectionList", "RadioSet")


def _has_cursor(widget: Widget) -> bool:
    return any(cls.__name__ in _CURSOR_WIDGETS for cls in type(widget).__mro__)


def _scrollable(widget: Widget, direction: str) -> bool:
    if direction in ("left", "right"):
        return widget.allow_horizontal_scroll and widget.max_scroll_x > 0
    return widget.allow_vertical_scroll and widget.max_scroll_y > 0


async def navigate(app, direction: str) -> None:
    """Move in `direction` (down, up, left, right, top, bottom, page_down, page_up) on the current screen."""
    screen = app.screen
    focused = screen.focused
    if focused is not None and _has_cursor(focused):
        for name in _CURSOR[direction]:
            if hasattr(focused, f"action_{name}"):
                await focused.run_action(name)
                return
    start = focused if focused is not None else screen
    candidates = [start, *start.ancestors_with_self] if focused is not None else [
        w for w in screen.query("*") if isinstance(w, Widget)] + [screen]
    for widget in candidates:
        if isinstance(widget, Widget) and _scrollable(widget, direction):
            await widget.run_action(_SCROLL[direction])
            return
    if direction in _FOCUS:
        await app.run_action(_FOCUS[direction])


def known_ids() -> set[str]:
    """Ids of every binding of every screen and widget class imported so far."""
    found: set[str] = set()
    todo: list[type] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        for b in cls.__dict__.get("BINDINGS", []):
            if isinstance(b, Binding) and b.id:
                found.add(b.id)
    return found


def unknown_ids(keymap: Mapping[str, str]) -> list[str]:
    """Ids in the user's [keys] whose screen is known but which name no binding there (likely typos)."""
    known = known_ids()
    prefixes = {k.split(".", 1)[0] for k in known}
    return sorted(k for k in keymap if k not in known and k.split(".", 1)[0] in prefixes)
