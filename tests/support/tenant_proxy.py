"""A tiny loopback HTTP proxy standing in for a Mimir/Cortex tenant gateway: it forwards a request to one
real Prometheus only when it carries the right `X-Scope-OrgID`, and answers 401 otherwise (as Mimir does
for a missing tenant). It remembers what it saw, so tests can tell which tenant a query went to."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HEADER = "X-Scope-OrgID"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that timed out and hung up (a poll cut off by its timeout) is no test failure


class TenantProxy:
    def __init__(self, upstream: str, tenant: str) -> None:
        self.upstream, self.tenant = upstream.rstrip("/"), tenant
        self.accepted: list[str] = []  # paths forwarded
        self.rejected: list[tuple[str, str]] = []  # (path, the tenant header it came with, "" if none)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self, method: str) -> None:
                got = self.headers.get(HEADER, "")
                if got != proxy.tenant:
                    proxy.rejected.append((self.path, got))
                    body = b"no org id" if not got else b"wrong org id"
                    self.send_response(401)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                proxy.accepted.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in {"content-type", "accept"}}
                upstream = httpx.request(method, proxy.upstream + self.path, content=data, headers=headers,
                                         timeout=30, trust_env=False)
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", upstream.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            def do_GET(self):  # noqa: N802
                self._handle("GET")

            def do_POST(self):  # noqa: N802
                self._handle("POST")

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> TenantProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> TenantProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
