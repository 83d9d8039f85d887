"""A small yes/no modal: shows exactly what will happen, opens with Cancel focused (DESIGN §6)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmModal(ModalScreen[bool]):
    """Dismisses with True only when the confirm button is pressed; escape and Cancel give False.

    `title` and `body` are shown as plain text (a `str` title is never parsed as markup)."""

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > #dialog {
        width: 90; max-width: 95%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ConfirmModal #title { text-style: bold; width: 1fr; margin-bottom: 1; }
    ConfirmModal #body { width: 1fr; height: auto; max-height: 20; overflow-y: auto; }
    ConfirmModal #buttons { height: auto; margin-top: 1; align-horizontal: right; }
    ConfirmModal Button { margin-left: 2; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = "#cancel"

    def __init__(self, title: str | Text, body: Text, confirm_label: str = "Confirm", *, danger: bool = False) -> None:
        super().__init__()
        self._title = title if isinstance(title, Text) else Text(title)
        self._body = body
        self._confirm_label = confirm_label
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._title, id="title")
            yield Static(self._body, id="body")
            with Horizontal(id="buttons"):
                yield Button(Text("Cancel"), id="cancel", variant="default")
                yield Button(Text(self._confirm_label), id="confirm", variant="error" if self._danger else "primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)
