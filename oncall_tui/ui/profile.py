"""A `danger = true` profile (prod) looks different on every screen and in every dialog.

Nothing to do for a new screen: whenever a screen of this package becomes active under a danger
profile, the app gives it the CSS class `danger` and
- a full screen gets a red `ProfileBanner` docked at its top ("⚠ PROFILE prod · DANGER …");
- a modal dialog gets a red border carrying the profile name on its dialog box: the widget named by the
  modal's `PROFILE_TARGET` selector if set, else its only (or first) child.
A screen that already shows the profile itself sets `SHOWS_PROFILE = True` (the alerts screen's title
bar turns red instead), and a screen may yield its own `ProfileBanner(profile)` where it wants it.
"""

from __future__ import annotations

from rich.text import Text
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from ..safe_text import safe

PACKAGE = __name__.split(".", 1)[0]


def banner_text(profile: str) -> Text:
    text = Text("⚠ PROFILE ", style="bold", end="")
    text.append_text(safe(profile or "?", "bold", single_line=True, max_len=40))
    text.append(" · DANGER: actions here change production", style="bold")
    return text


def dialog_title(profile: str) -> Text:
    return Text("⚠ ", style="bold", end="").append_text(safe(profile or "?", "bold", single_line=True, max_len=40))


class ProfileBanner(Static):
    DEFAULT_CSS = """
    ProfileBanner {
        dock: top;
        height: 1;
        padding: 0 1;
        background: $profile-danger;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self, profile: str, **kwargs) -> None:
        super().__init__(banner_text(profile), **kwargs)


def _ours(screen: Screen) -> bool:
    return type(screen).__module__.split(".", 1)[0] == PACKAGE


def _dialog(screen: ModalScreen) -> Widget | None:
    selector = getattr(screen, "PROFILE_TARGET", "")
    if selector:
        try:
            return screen.query_one(selector)
        except NoMatches:
            return None
    children = [c for c in screen.children if isinstance(c, Widget) and not isinstance(c, ProfileBanner)
                and not c.has_class("-textual-system")]  # toasts and tooltips live on every screen
    return children[0] if children else None


def decorate(screen: Screen, profile: str) -> None:
    """Mark `screen` as a danger-profile screen (idempotent; the children once composed)."""
    if not _ours(screen):
        return
    screen.add_class("danger")
    if screen.is_mounted and screen.children:
        _decorate_children(screen, profile)
    else:
        screen.call_after_refresh(_decorate_children, screen, profile)


def _decorate_children(screen: Screen, profile: str) -> None:
    if getattr(screen, "SHOWS_PROFILE", False) or screen.query(ProfileBanner) or screen.query(".danger-dialog"):
        return
    if isinstance(screen, ModalScreen):
        dialog = _dialog(screen)
        if dialog is not None:
            dialog.add_class("danger-dialog")
            if not dialog.border_title:
                dialog.border_title = dialog_title(profile)
            elif not dialog.border_subtitle:  # the dialog's own title stays; the profile goes below
                dialog.border_subtitle = dialog_title(profile)
            return
    screen.mount(ProfileBanner(profile))
