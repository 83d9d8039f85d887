"""The terminal side of the app: themes, danger profiles, small terminals, keys and help.

`MlcallApp` derives from `ErgonomicApp` and calls `setup_ergonomics()` first thing in `on_mount`.
Screens need nothing from here to benefit; see profile.py, layout.py and keys.py for the hooks.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme

from .. import config
from . import cells, layout, profile, themes
from .keys import NAV_BINDINGS, navigate, unknown_ids
from .typeahead import TypeAheadApp


class ErgonomicApp(TypeAheadApp):  # a burst of keys waits for the screen it opens (typeahead.py)
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("v", "next_panel", "Next panel", tooltip="Small terminal: show the next detail panel",
                id="app.next-panel"),
        *NAV_BINDINGS,
    ]

    _ergonomics_ready = False

    def setup_theme(self) -> None:
        """Register the themes and choose one before the first frame (a later switch restyles everything)."""
        loaded, errors = themes.load_all()
        for theme in loaded:
            self.register_theme(theme)
        name, error = themes.choose(self.settings.theme, self.available_themes, themes.remembered_theme())
        if name not in self.available_themes:  # the bundled files are missing: still start
            name = "textual-dark"
        self.theme = name
        self._theme_in_use = name
        self._theme_errors = ([error] if error else []) + errors

    def setup_ergonomics(self) -> None:
        """User keymap, danger profile, layout classes, and any theme error, once mounted."""
        settings = self.settings
        for message in getattr(self, "_theme_errors", ()):
            self.notify(message, title="Theme", severity="error", timeout=15, markup=False)
        self.theme_changed_signal.subscribe(self, self._on_theme_changed)
        keymap = config.keymap(settings)
        if keymap:
            self.set_keymap(keymap)
            bad = unknown_ids(keymap)
            if bad:
                self.notify(f"[keys]: no binding with id {', '.join(bad)} (press ? to see the ids)",
                            title="Keys", severity="warning", timeout=15, markup=False)
        self.screen_change_signal.subscribe(self, self._on_screen_change)
        self.update_classes(layout.classes_for(self.size))
        self._ergonomics_ready = True
        self._restyle()
        self._on_screen_change(self.screen)

    # -- themes -------------------------------------------------------------------------------------
    def get_css_variables(self) -> dict[str, str]:
        """Textual's variables plus the project's ($sev-critical …), derived when a theme has none."""
        variables = themes.fill_variables(super().get_css_variables())
        self.theme_variables = variables
        return variables

    def _on_theme_changed(self, theme: Theme) -> None:
        if theme.name != getattr(self, "_theme_in_use", theme.name):
            self._theme_in_use = theme.name
            try:
                themes.remember_theme(theme.name)
            except OSError as exc:
                self.notify(f"theme not remembered: {exc}", severity="warning", markup=False)
        self._restyle()

    def _restyle(self) -> None:
        """Cells carry Rich styles taken from the theme: give them the new ones."""
        cells.set_palette(themes.palette(self.get_css_variables()))
        screen = getattr(self, "alerts_screen", None)
        if screen is None or not screen.query("AlertTable"):  # not composed yet: it will draw with these
            return
        detail = screen.query("#detail")
        if detail and hasattr(detail.first(), "alert"):
            detail.first().alert = None  # redrawn by the highlight that refresh_rows posts
        screen.table.refresh_rows()
        for bar in screen.query("#sources"):
            bar.redraw()

    def on_unmount(self) -> None:
        cells.set_palette({})  # module state: the next app (a test's, say) starts from no theme's colours

    # -- screens: danger profile and layout ----------------------------------------------------------
    def danger_profile(self, screen: Screen) -> str | None:
        """The name `screen` shows in red (a danger profile), or None."""
        return self.settings.profile if self.settings.danger else None

    def _on_screen_change(self, screen: Screen) -> None:
        danger = self.danger_profile(screen)
        if danger is not None:
            profile.decorate(screen, danger)
        screen.call_after_refresh(layout.refresh, screen, layout.mode_of(self))

    def on_resize(self, event: events.Resize) -> None:
        self.update_classes(layout.classes_for(event.size))
        if self._ergonomics_ready:
            for screen in self.screen_stack:
                layout.refresh(screen, layout.mode_of(self))
            self.refresh_bindings()

    def on_alert_table_alert_highlighted(self, event) -> None:
        """Rows arrived or the cursor moved: a panel may appear or vanish with the alert (silence info)
        and the table has its columns now; keep both in line with the terminal's size."""
        for screen in self.screen_stack:  # the alerts screen may sit under a dialog
            layout.refresh(screen, layout.mode_of(self))

    def action_next_panel(self) -> None:
        layout.refresh(self.screen, layout.mode_of(self), step=1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_panel":
            return layout.has_panels(self.screen, layout.mode_of(self))
        return True

    # -- keys ----------------------------------------------------------------------------------------
    async def action_nav(self, direction: str) -> None:
        await navigate(self, direction)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
        else:
            self.push_screen(HelpScreen(self.screen))
