"""A small fake Prometheus (stdlib http.server in a thread, 127.0.0.1) for the answers a real one
rarely gives on demand: NaN series, empty results, 422 execution errors, warnings, VictoriaMetrics'
isPartial, and slowness. It serves /api/v1/alerts, /api/v1/rules and /api/v1/query_range (GET or
POST); each range query is answered by the first route whose substring occurs in the query.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

Values = Callable[[float], float]  # t → value (may return NaN/Inf, or None for "no sample")


@dataclass
class Answer:
    """How to answer a range query: series (labels → value function), or an error, maybe slowly."""

    series: list[tuple[dict[str, str], Values]] = field(default_factory=list)
    status: int = 200
    error_type: str = ""
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. {"isPartial": True}
    delay: float = 0.0


def _num(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


class FakePrometheus:
    def __init__(self, *, alerts: list[dict] | None = None, rules: list[dict] | None = None) -> None:
        self.alerts = alerts or []
        self.rules = rules or []
        self.routes: list[tuple[str, Answer]] = []
        self.default = Answer()
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []  # (path, params, headers)
        self.released = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _params(self) -> dict[str, str]:
                query = urlparse(self.path).query
                if self.command == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    query = self.rfile.read(length).decode()
                return {k: v[0] for k, v in parse_qs(query).items()}

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout, or cancelled): as a real server would see it

            def _handle(self) -> None:
                path = urlparse(self.path).path
                params = self._params()
                fake.requests.append((path, params, dict(self.headers)))
                if path == "/api/v1/alerts":
                    self._send(200, {"status": "success", "data": {"alerts": fake.alerts}})
                elif path == "/api/v1/rules":
                    self._send(200, {"status": "success", "data": {"groups": [
                        {"name": "fake", "file": "fake.yml", "rules": fake.rules}]}})
                elif path == "/api/v1/query_range":
                    self._send(*fake.answer(params))
                else:
                    self._send(404, {"status": "error", "errorType": "not_found", "error": path})

            do_GET = _handle  # noqa: N815
            do_POST = _handle  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # the app opens ~8 connections at once; a backlog of 5 drops SYNs
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, substring: str, answer: Answer) -> None:
        self.routes.append((substring, answer))

    def queries(self) -> list[str]:
        return [p.get("query", "") for path, p, _ in self.requests if path == "/api/v1/query_range"]

    def answer(self, params: dict[str, str]) -> tuple[int, dict]:
        query = params.get("query", "")
        answer = next((a for s, a in self.routes if s in query), self.default)
        if answer.delay:
            self.released.wait(answer.delay)  # released early when the server stops
        if answer.status != 200 or answer.error_type:
            return answer.status, {"status": "error", "errorType": answer.error_type, "error": answer.error}
        start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
        result = []
        for labels, values in answer.series:
            points = []
            t = start
            while t <= end + 1e-9:
                v = values(t)
                if v is not None:
                    points.append([t, _num(v)])
                t += step
            if points:
                result.append({"metric": labels, "values": points})
        body: dict[str, Any] = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        if answer.warnings:
            body["warnings"] = answer.warnings
        body.update(answer.extra)
        return 200, body

    def __enter__(self) -> FakePrometheus:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def firing_alert(name: str, labels: dict[str, str], value: str = "1", active_at: str = "2026-01-01T00:00:00Z") -> dict:
    return {"labels": {"alertname": name, **labels}, "annotations": {"summary": f"{name} fired"},
            "state": "firing", "activeAt": active_at, "value": value}


def alert_rule(name: str, query: str, labels: dict[str, str], alerts: list[dict] | None = None) -> dict:
    return {"state": "firing", "name": name, "query": query, "duration": 60, "labels": labels,
            "annotations": {}, "alerts": alerts or [], "health": "ok", "type": "alerting"}
