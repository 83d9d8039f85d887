"""The /metrics endpoint: Prometheus' text format, rendered once per change of what the sources hold.

prometheus_client formats ~20 µs a sample; a scrape inside the TTL changes nothing, so the rendered
bytes are reused (a cached scrape of 1,300 series costs a dictionary lookup instead of ~20 ms).
"""

from __future__ import annotations

import socket
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .collector import ExporterCollector, families_of, to_prometheus


class Renderer:
    def __init__(self, collector: ExporterCollector) -> None:
        self.collector = collector
        self._lock = threading.Lock()
        self._key: Any = None
        self._body = b""

    def render(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest

        with self._lock:
            states = self.collector.refresh()
            key = self.collector.state_version if not self.collector.busy() else None
            if key is not None and key == self._key:
                return self._body
            registry = CollectorRegistry(auto_describe=False)

            class Snapshot:
                def collect(self):
                    return to_prometheus(families_of(states))

            registry.register(Snapshot())
            self._body, self._key = generate_latest(registry), key
            return self._body


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def make_app(renderer: Renderer):
    from prometheus_client import CONTENT_TYPE_LATEST

    def app(environ, start_response):
        if environ.get("PATH_INFO", "/") not in ("/", "/metrics"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"only /metrics here\n"]
        body = renderer.render()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]

    return app


def start_server(collector: ExporterCollector, host: str, port: int) -> tuple[WSGIServer, threading.Thread]:
    """Serve /metrics on host:port in a thread (one thread per request); `server.shutdown()` stops it."""
    server_class = _Server6 if ":" in host else _Server
    server = make_server(host, port, make_app(Renderer(collector)), server_class=server_class,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="mlcall-exporter-http", daemon=True)
    thread.start()
    return server, thread
