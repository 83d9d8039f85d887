"""Colour themes: TOML palettes turned into Textual themes, plus the project's own variables.

A theme is a TOML file whose name is the theme's name (`themes/nord-night.toml` → `--theme nord-night`).
The bundled ones (`dark`, `light`, `high-contrast`, `colour-blind-safe`) ship in the wheel; the user's
own live in `$XDG_CONFIG_HOME/mlcall-tui/themes/` and win over a bundled theme of the same name.

    dark = true                      # optional: true (default) or false
    primary = "#rrggbb"              # required; also secondary, accent, warning, error, success,
    background = "#rrggbb"           # foreground, background, surface, panel, boost (optional)
    text_alpha = 0.95                # optional, as are luminosity_spread

    [variables]                      # the project's variables (below) and any Textual variable
    sev-critical = "#rrggbb"         # or a colour name

Project variables (app.tcss uses them as `$sev-critical` …; cells take them as Rich colours):
sev-critical, sev-warning, sev-info, state-firing, state-pending, state-silenced, state-inhibited, ok,
profile-danger (the danger profile's banner and dialog border), profile-danger-text and change-mark (the
▼ marks of registry alias moves and rollouts on the sparklines). A theme that
leaves one out (Textual's built-in themes leave all out) gets a value derived from its own colours.

The theme is `--theme` / `theme =` in the config if given, else the one last picked in the command
palette (remembered in `$XDG_STATE_HOME/mlcall-tui/state.toml`), else `dark`.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Mapping

import tomli_w
from textual.color import Color, ColorParseError
from textual.theme import Theme

from ..config import config_dir, state_dir
from ..resources import bundled

DEFAULT_THEME = "dark"
BUNDLED = ("dark", "light", "high-contrast", "colour-blind-safe")

# project variable → the generated Textual variables it falls back to, in order
PROJECT_VARIABLES: dict[str, tuple[str, ...]] = {
    "sev-critical": ("error",),
    "sev-warning": ("warning",),
    "sev-info": ("primary",),
    "state-firing": ("error",),
    "state-pending": ("warning",),
    "state-silenced": ("muted",),  # the foreground blended 40 % into the background
    "state-inhibited": ("muted",),
    "ok": ("success",),
    "profile-danger": ("error",),
    "change-mark": ("accent",),  # ▼ registry/rollout changes on the sparklines (ui/widgets/change_marks.py)
}
_COLOURS = ("primary", "secondary", "accent", "warning", "error", "success", "foreground", "background",
            "surface", "panel", "boost")
_NUMBERS = ("luminosity_spread", "text_alpha")


class ThemeError(Exception):
    """A theme file cannot be used; the message names the file and says why."""


def user_dir() -> Path:
    return config_dir() / "themes"


def state_file() -> Path:
    return state_dir() / "state.toml"


def theme_files() -> dict[str, Path]:
    """Theme name → file: the bundled themes, then the user's (which win on a name clash)."""
    found: dict[str, Path] = {}
    for directory in (bundled("themes"), user_dir()):
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                found[path.stem] = path
    return found


def _colour(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{where} must be a colour string, not {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{where}: {value!r} is not a colour") from None
    return value


def load_theme(path: Path, name: str | None = None) -> Theme:
    """A Textual Theme from one TOML file; ThemeError says what is wrong with it."""
    name = name or path.stem
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(f"theme {path}: {exc}") from None
    data = dict(data)
    variables = data.pop("variables", {})
    if not isinstance(variables, dict):
        raise ThemeError(f"theme {path}: [variables] must be a table")
    unknown = sorted(set(data) - set(_COLOURS) - set(_NUMBERS) - {"dark"})
    if unknown:
        raise ThemeError(f"theme {path}: unknown key(s) {', '.join(unknown)} "
                         f"(colours: {', '.join(_COLOURS)}; also dark, {', '.join(_NUMBERS)}, [variables])")
    if "primary" not in data:
        raise ThemeError(f"theme {path}: 'primary' is required")
    kwargs: dict[str, Any] = {key: _colour(data[key], f"theme {path}: {key}") for key in _COLOURS if key in data}
    for key in _NUMBERS:
        if key in data:
            if not isinstance(data[key], (int, float)) or isinstance(data[key], bool):
                raise ThemeError(f"theme {path}: {key} must be a number")
            kwargs[key] = float(data[key])
    if "dark" in data and not isinstance(data["dark"], bool):
        raise ThemeError(f"theme {path}: dark must be true or false")
    clean: dict[str, str] = {}
    for key, value in variables.items():
        if key in PROJECT_VARIABLES:
            clean[key] = _colour(value, f"theme {path}: variables.{key}")
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            clean[str(key)] = str(value)
        else:
            raise ThemeError(f"theme {path}: variables.{key} must be a string")
    return Theme(name=name, dark=data.get("dark", True), variables=clean, **kwargs)


def load_all() -> tuple[list[Theme], list[str]]:
    """Every theme that loads, and one error line per file that does not (the app shows them)."""
    themes, errors = [], []
    for name, path in theme_files().items():
        try:
            themes.append(load_theme(path, name))
        except ThemeError as exc:
            errors.append(str(exc))
    return themes, errors


def choose(requested: str, available: Mapping[str, Any], remembered: str) -> tuple[str, str]:
    """(theme to use, error to show): the requested one, else the remembered one, else the default."""
    if requested:
        if requested in available:
            return requested, ""
        mine = sorted(n for n in available if n in theme_files()) or sorted(available)
        fallback = remembered if remembered in available else DEFAULT_THEME
        return fallback, f"no theme {requested!r}; themes: {', '.join(mine)} (user themes go in {user_dir()})"
    if remembered in available:
        return remembered, ""
    return DEFAULT_THEME, ""


# -- the remembered choice ---------------------------------------------------------------------------
def _read_state() -> dict[str, Any]:
    try:
        return tomllib.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def remembered_theme() -> str:
    value = _read_state().get("theme", "")
    return value if isinstance(value, str) else ""


def remember_theme(name: str) -> Path:
    """Write the choice to state.toml (other keys kept; atomic replace). Raises OSError."""
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    state = _read_state()
    state["theme"] = name
    fd, tmp = tempfile.mkstemp(prefix=".state-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(state, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# -- variables and the cell palette --------------------------------------------------------------------
def fill_variables(variables: Mapping[str, str]) -> dict[str, str]:
    """The theme's variables with every project variable present (derived when the theme has none)."""
    out = dict(variables)
    if _rich_colour(out.get("foreground", "")) and _rich_colour(out.get("background", "")):
        out.setdefault("muted", Color.parse(out["foreground"]).blend(Color.parse(out["background"]), 0.4).hex6)
    for name, fallbacks in PROJECT_VARIABLES.items():
        if _rich_colour(out.get(name, "")) is None:
            out[name] = next((out[f] for f in fallbacks if _rich_colour(out.get(f, ""))), "ansi_default")
    if _rich_colour(out.get("profile-danger-text", "")) is None:  # black or white, whichever reads on it
        out["profile-danger-text"] = Color.parse(out["profile-danger"]).get_contrast_text(1.0).hex6
    return out


def _rich_colour(value: str) -> str | None:
    """A colour Rich understands, from a CSS colour value; None when it is not a plain colour."""
    if not value:
        return None
    try:
        colour = Color.parse(value)
    except ColorParseError:
        return None
    return colour.rich_color.name if colour.ansi is not None else colour.hex6


def palette(variables: Mapping[str, str]) -> dict[str, str]:
    """Rich styles for the semantic names cells.py uses (sev-critical, state-firing, ok, error …)."""
    filled = fill_variables(variables)
    styles = {name: _rich_colour(filled[name]) or "" for name in PROJECT_VARIABLES}
    styles["sev-critical"] = f"bold {styles['sev-critical']}".strip()
    styles["state-firing"] = f"bold {styles['state-firing']}".strip()
    styles["error"] = _rich_colour(filled.get("error", "")) or styles["sev-critical"]
    return styles
