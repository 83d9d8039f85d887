"""What every destructive dialog shares (DESIGN §6): Cancel has the focus, `escape` cancels, the action
button stays disabled until the typed confirmation holds, `enter` in a field never runs it, and a
press runs the action once in a worker.

A dialog names its widgets `#<PREFIX>-go`, `#<PREFIX>-cancel`, `#<PREFIX>-status` and implements
`_confirmed()`, `_execute()` and `action_cancel()`. Its field `#<PREFIX>-confirm` gets the letters typed
while a button has the focus (so `R`, enter, model name in one burst fills it: ui/typeahead.py).
"""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

ResultT = TypeVar("ResultT")


class TypedConfirmDialog(ModalScreen[ResultT]):
    PREFIX = "dr"
    RUNNING = "Running…"  # the status line while the action runs
    RUN_GROUP = "dialog-run"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    busy = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.AUTO_FOCUS = f"#{cls.PREFIX}-cancel"

    def _status(self, text: Text) -> None:
        self.query_one(f"#{self.PREFIX}-status", Static).update(text)

    def _confirmed(self) -> bool:
        raise NotImplementedError

    async def _execute(self) -> None:
        raise NotImplementedError

    def typeahead_target(self, event: events.Key) -> Input | None:
        """A letter typed while a button (Cancel) has the focus goes into the typed confirmation."""
        if not event.is_printable or event.character == " " or not isinstance(self.focused, Button):
            return None
        field = self.query(f"#{self.PREFIX}-confirm")
        if not field or field.first().disabled or not field.first().display or self.busy:
            return None
        return field.first(Input)

    def _update_go(self) -> None:
        self.query_one(f"#{self.PREFIX}-go", Button).disabled = not self._confirmed()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._update_go()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()  # enter never rolls back by accident: the button must be pressed

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == f"{self.PREFIX}-cancel":
            self.action_cancel()
        elif event.button.id == f"{self.PREFIX}-go" and self._confirmed():
            self.busy = True
            self._update_go()
            self._status(Text(self.RUNNING, style="bold"))
            self.run_worker(self._execute, group=self.RUN_GROUP, exclusive=True, exit_on_error=False)
