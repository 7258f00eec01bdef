"""``GET /healthz`` answered at the edge of the app: the cheapest request the service serves.

Orchestrators probe liveness every few seconds on every replica, so the answer skips everything a
real request goes through (routing, dependencies, body limits, metrics, the audit middleware) and
costs about what a bare FastAPI endpoint costs (``benchmarks/service_bench.py``). Only the metrics
middleware, outside it, still sees the probe (counted under the route ``/healthz``).

Probes are still audited: each one is handed to the audit writer as a fixed record (no user, no
plant, status 200, the echoed or generated correlation id). The record is queued without waiting,
because liveness must never depend on the audit trail: if the database and the spill file both
failed and the queue filled up, an audited probe that waited for room would time out, and the
orchestrator would restart the process and lose every record still in memory. ``/readyz`` is the
probe that reports the trail's health. A ``/healthz`` with a query string (a client naming a plant)
takes the normal path through the audit middleware, so what it claims is recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from copilot.audit.middleware import correlation_id_from
from copilot.audit.records import AuditRecord
from copilot.audit.writer import AuditWriter

LIVENESS_PATH = "/healthz"
ALIVE = b'{"status":"ok"}'


@dataclass(frozen=True)
class LivenessRoute:
    """What ``scope["route"]`` holds for a probe, so the metrics label it ``/healthz`` without routing."""

    path: str
    path_format: str


_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(ALIVE)).encode())]


class LivenessMiddleware:
    def __init__(self, app: ASGIApp, writer: AuditWriter, path: str = LIVENESS_PATH) -> None:
        self.app = app
        self.writer = writer
        self.path = path
        self.route = LivenessRoute(path, path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or scope["method"] != "GET"
            or scope.get("query_string")
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope["route"] = self.route
        correlation_id = correlation_id_from(scope)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_HEADERS, (b"x-request-id", correlation_id.encode())],
            }
        )
        await send({"type": "http.response.body", "body": ALIVE})
        latency_ms = round((time.perf_counter() - started) * 1000.0, 3)
        self.writer.submit_nowait(AuditRecord(correlation_id, "GET", self.path, self.path, 200, latency_ms))
