"""Screens that save what they show as a Markdown file (the incident note, the diagnosis): the file's
name, and the line that says where it went or why it did not."""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text

from ..safe_text import safe


def slug(text: str) -> str:
    """`text` as part of a file name: letters, digits, `_ . -` only, at most 60 characters."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:60]


def save_markdown(path: Path, markdown: str, *, saved_as: str, failed: str) -> tuple[Text, bool]:
    """Writes `markdown` to `path` (making its folder); the line to show, and whether it was saved."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown, encoding="utf-8")
    except OSError as exc:
        return safe(f"✖ could not save {failed}: {exc}", "bold", max_len=300), False
    message = Text(f"Saved {saved_as} as Markdown to ", end="")
    message.append_text(safe(str(path), "bold", single_line=True))
    return message, True
