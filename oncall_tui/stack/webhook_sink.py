"""A tiny HTTP server on 127.0.0.1 that plays every Alertmanager receiver.

The local stack rewrites each receiver of the Alertmanager config into a ``webhook_configs`` entry
pointing at ``<sink>/hook/<receiver name>``; this server records every payload, so tests (and the
demo) can see which receiver a notification was routed to without anything reaching Slack or
PagerDuty.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, unquote

HOOK_PREFIX = "/hook/"


class _Handler(BaseHTTPRequestHandler):
    server: _SinkServer

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 10 * 1024 * 1024)) if length > 0 else b""
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            self.send_error(400, "body is not JSON")
            return
        path_receiver = unquote(self.path[len(HOOK_PREFIX) :]) if self.path.startswith(HOOK_PREFIX) else None
        self.server.sink._record(path_receiver, payload)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 - a health/inspection endpoint
        body = json.dumps({"received": len(self.server.sink.received)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence access logs
        return


class _SinkServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sink: WebhookSink, address: tuple[str, int]) -> None:
        self.sink = sink
        super().__init__(address, _Handler)


class WebhookSink:
    """Records Alertmanager webhook notifications. Thread-safe; start()/stop() are idempotent."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._lock = threading.Condition()
        self._received: list[dict[str, Any]] = []
        self._server: _SinkServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> WebhookSink:
        if self._server is None:
            self._server = _SinkServer(self, (self._host, self._port))
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="webhook-sink", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    def url_for(self, receiver: str) -> str:
        """The webhook URL that stands in for ``receiver``."""
        return f"{self.url}{HOOK_PREFIX}{quote(receiver, safe='')}"

    # -- recording ---------------------------------------------------------------------------
    def _record(self, path_receiver: str | None, payload: Any) -> None:
        entry = payload if isinstance(payload, dict) else {"payload": payload}
        entry = dict(entry)
        entry.setdefault("receiver", path_receiver)
        entry["_hook"] = path_receiver
        entry["_received_at"] = time.time()
        with self._lock:
            self._received.append(entry)
            self._lock.notify_all()

    @property
    def received(self) -> list[dict[str, Any]]:
        """A copy of every payload received so far, oldest first."""
        with self._lock:
            return list(self._received)

    def for_receiver(self, receiver: str) -> list[dict[str, Any]]:
        return [p for p in self.received if p.get("_hook") == receiver]

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = 60.0
    ) -> dict[str, Any]:
        """Block until a received payload satisfies ``predicate``; return it (TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for payload in self._received:
                    if predicate(payload):
                        return payload
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching webhook notification within {timeout:.0f}s")
                self._lock.wait(remaining)

    def __enter__(self) -> WebhookSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
