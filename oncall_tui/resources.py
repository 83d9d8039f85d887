"""Where the bundled runbooks, themes and monitoring pack live, in a checkout or an installed wheel."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

KINDS = ("runbooks", "themes", "deploy")


def bundled(kind: str) -> Path:
    """Directory of a bundled resource kind ("runbooks", "themes" or "deploy")."""
    if kind not in KINDS:
        raise ValueError(f"unknown resource kind {kind!r}")
    return Path(str(files("oncall_tui") / "data" / kind))
