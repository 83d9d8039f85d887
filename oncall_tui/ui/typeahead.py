"""Type-ahead: keys typed faster than the screen reacts wait their turn, so none runs the wrong action.

Textual hands every key to whatever has the focus *when the key is read*. A burst (a paste, a fast
typist, a laggy SSH link, `tmux send-keys "/fraud"`) is read in one go, before the `/` has opened the
filter box: the `f`, `r`, … went to the alerts table and ran its actions (`r` opened the runbook), and
`s` + reason + Enter lost the reason to the table.

The gate sits where Textual's keys enter the app (`App.on_event`, before any routing):
- a printable key into a focused text field is handed to it at once (same queue, so in order);
- any other key is handed on too, but the keys after it are *held* until everything that key set off
  has run: its binding, the focus moves it queued, the screen it pushed (composed, mounted, focused).
  "Everything has run" = every message queue of the app is empty and nothing is being processed;
- held keys are then replayed in order through the same gate; none is dropped (after `SETTLE_MAX`
  seconds of a never-idle app they are replayed anyway).
A screen may name the field a printable key should go to when the focus is elsewhere:
`typeahead_target(event) -> Widget | None` (the typed confirmations: Cancel keeps the focus on open,
typing the model name goes into the field).
"""

from __future__ import annotations

import asyncio
from collections import deque

from textual import events
from textual.app import App
from textual.widget import Widget
from textual.widgets import Input, TextArea

SETTLE_MAX = 3.0  # seconds a held key waits at most for the app to become idle
POLL = 0.005  # seconds between idle checks while keys are held


def _typed_into(focused: Widget | None, event: events.Key) -> bool:
    return isinstance(focused, (Input, TextArea)) and event.is_printable and not focused.disabled


class TypeAheadApp(App):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._held: deque[events.Key] = deque()  # keys waiting for the app to settle, oldest first
        self._settling: asyncio.Task | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and not self._is_priority(event):
            if self._held or self._settling is not None:
                self._held.append(event)
                return
            await self._gate(event)
            return
        await super().on_event(event)

    def _is_priority(self, event: events.Key) -> bool:
        """ctrl+c and other priority bindings are never held (quitting must not wait)."""
        try:
            chain = self.screen._binding_chain
        except Exception:  # no screen yet
            return True
        return any(b.priority for _node, bindings in chain for b in bindings.key_to_bindings.get(event.key, ()))

    async def _gate(self, event: events.Key) -> None:
        """Hand `event` on; unless it was typed into a field, hold the next keys until the app is idle."""
        screen = self.screen
        target = getattr(screen, "typeahead_target", None)
        field = target(event) if callable(target) else None
        if field is not None and field is not screen.focused:
            screen.set_focus(field)
        if _typed_into(self.focused, event):
            self.focused._forward_event(event)
            return
        await super().on_event(event)
        self._settling = asyncio.get_running_loop().create_task(self._settle())

    def _idle(self) -> bool:
        """No message waits in any queue of the app."""
        return not any(pump._message_queue.qsize() or pump._next_callbacks for pump in (self, *self._registry))

    async def _app_round_trip(self, timeout: float) -> None:
        """Wait until the app's own queue reaches a probe posted now: the app is no longer inside a long
        handler (closing a dismissed dialog awaits its removal with every queue empty)."""
        reached = asyncio.Event()
        if self.call_later(reached.set):
            try:
                await asyncio.wait_for(reached.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    async def _settle(self) -> None:
        """A handler posts what follows from it (bubbling, focus, a pushed screen's mount, a dismissed
        screen's callback) before it returns, so the key has run its course once every queue is empty, the
        app then reaches a probe (it is not inside a long handler), and every queue is still empty (none of
        this app's handlers awaits I/O: that runs in workers)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_MAX
        try:
            while loop.time() < deadline:
                await asyncio.sleep(POLL)
                if not self._idle():
                    continue
                await self._app_round_trip(max(0.0, deadline - loop.time()))
                if self._idle():
                    break
        finally:
            self._settling = None
            if not self._closing and not self._closed:
                self.call_later(self._release)

    async def _release(self) -> None:
        """Replay held keys in order until one of them must be waited for again."""
        while self._held and self._settling is None:
            await self._gate(self._held.popleft())

    async def _on_exit_app(self) -> None:
        if self._settling is not None:
            self._settling.cancel()
        await super()._on_exit_app()
