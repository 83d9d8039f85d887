"""Notifications whose text may carry a server's message: shown literally, never as markup."""

from __future__ import annotations

from typing import Any


def say(node: Any, message: str, **kw: Any) -> None:
    """A notification whose text is shown literally (it may carry a server's message): never markup."""
    from ..safe_text import sanitize

    node.notify(sanitize(message, max_len=600), markup=False, **kw)
