"""Helpers for driving the real app with Pilot and reading what the user sees."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import httpx
from rich.text import Text


async def wait_for(pilot, condition: Callable[[], Any], timeout: float = 60.0, what: str = "condition"):
    """Poll `condition` while the app keeps running; generous timeout, no fixed sleeps."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await pilot.pause(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def plain(cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def table_rows(app) -> list[list[str]]:
    table = app.alerts_screen.table
    return [[plain(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def status_text(app) -> str:
    return plain(app.alerts_screen.query_one("#sources").content)


def detail_text(app) -> str:
    return plain(app.alerts_screen.query_one("#detail").content)


def post_alerts(am_url: str, alerts: list[dict]) -> None:
    response = httpx.post(f"{am_url}/api/v2/alerts", json=alerts, timeout=10)
    response.raise_for_status()


class FakeServer:
    """A tiny HTTP server on 127.0.0.1 answering every GET with a canned status and body."""

    def __init__(self, status: int = 200, body: str | bytes = "", content_type: str = "application/json",
                 delay: float = 0.0):
        self.status, self.delay, self.content_type = status, delay, content_type
        self.body = body.encode() if isinstance(body, str) else body
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                fake.requests.append(self.path)
                if fake.delay:
                    time.sleep(fake.delay)
                self.send_response(fake.status)
                self.send_header("Content-Type", fake.content_type)
                self.send_header("Content-Length", str(len(fake.body)))
                self.end_headers()
                self.wfile.write(fake.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def json_body(value: Any) -> str:
    return json.dumps(value)
