"""Audit trail middleware: one structured record for every request, including rejected and failed ones.

It is plain ASGI middleware rather than ``BaseHTTPMiddleware``: it sees the real status of every
response (401/403/422 from dependencies, 500 from an unhandled exception), it never buffers a
streamed response, and it costs a few microseconds per request. The record is handed to the
:class:`~copilot.audit.writer.AuditWriter` after the response has been sent, so the database is
never on the request path.

Who the caller is and which plant and equipment the request concerns come from the
:class:`~copilot.audit.context.AuditContext` that the authentication and RBAC dependencies fill
in. A request rejected before those ran (malformed JSON, a missing field) is still attributed: the
middleware verifies the bearer token itself and reads ``plant``/``equipment`` from the query string
or a JSON body (what the caller asked for, even if it was refused). Those claims are the client's
words: one that is not a well-formed plant code or equipment id is recorded as ``"invalid"``, and
reading them can never raise (any body, header or encoding), so every request keeps its record.
"""

from __future__ import annotations

import json
import random
import re
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.config import EQUIPMENT_ID_PATTERN, PLANT_CODE_PATTERN
from common.logging import bind_correlation_id, get_logger, reset_correlation_id
from copilot.audit.context import AuditContext, install_context
from copilot.audit.records import INVALID_CLAIM, AuditRecord
from copilot.audit.writer import AuditWriter
from copilot.security.tokens import Principal

log = get_logger(__name__)

REQUEST_ID_HEADER = "x-request-id"
# Client-supplied ids are echoed only when they are short and safe to put in logs and headers.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
BODY_CAPTURE_LIMIT = 64 * 1024
INTERNAL_ERROR = b'{"detail":"Internal server error"}'
_CLAIM_PATTERNS = {"plant": re.compile(PLANT_CODE_PATTERN), "equipment": re.compile(EQUIPMENT_ID_PATTERN)}

Identify = Callable[[str], "Principal | None"]


def correlation_id_from(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` when it is safe to echo, else a fresh id."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _SAFE_REQUEST_ID.match(candidate):
                return candidate
            break
    # 128 random bits like a uuid4, without a getrandom() system call per request: a correlation id must
    # be unique, not unguessable (random reseeds itself in forked workers).
    return f"{random.getrandbits(128):032x}"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def bearer_token(scope: Scope) -> str | None:
    value = _header(scope, b"authorization")
    if value and value[:7].lower() == "bearer ":
        return value[7:].strip() or None
    return None


def _claim(key: str, value: object) -> str:
    return value if isinstance(value, str) and _CLAIM_PATTERNS[key].match(value) else INVALID_CLAIM


def claimed_subject(scope: Scope, body: bytes) -> tuple[str | None, str | None]:
    """``(plant, equipment)`` named by the query string or a JSON object body, if any.

    A claim that is not well formed comes back as ``"invalid"``; nothing a client sends makes this raise.
    """
    query_string = scope.get("query_string", b"")
    if not query_string and not body:
        return None, None
    found: dict[str, str] = {}
    try:
        query = parse_qs(query_string.decode("latin-1"), max_num_fields=1000)
    except ValueError:
        query = {}
    for key in ("plant", "equipment"):
        if query.get(key):
            found[key] = _claim(key, query[key][0])
    if body and len(found) < 2:
        try:
            data = json.loads(body)
        except Exception:  # not JSON, not UTF-8/16/32, nested too deep (RecursionError) ...
            data = None
        if isinstance(data, dict):
            for key in ("plant", "equipment"):
                if key in data and data[key] is not None and key not in found:
                    found[key] = _claim(key, data[key])
    return found.get("plant"), found.get("equipment")


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/analyses/{job_id}``), else the raw path."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    return str(template) if template else str(scope.get("path", ""))


@dataclass
class _Exchange:
    """Everything one request's record needs, gathered while it is served (never shared between requests)."""

    scope: Scope
    context: AuditContext
    start_ns: int = field(default_factory=time.monotonic_ns)
    status: int | None = None
    body: bytearray = field(default_factory=bytearray)

    @property
    def elapsed_ms(self) -> float:
        return (time.monotonic_ns() - self.start_ns) / 1_000_000


class AuditMiddleware:
    """Pure ASGI: wraps ``receive`` (to keep a JSON body's claims) and ``send`` (to see the status)."""

    def __init__(self, app: ASGIApp, writer: AuditWriter, identify: Identify | None = None) -> None:
        self.app = app
        self.writer = writer
        self.identify = identify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = correlation_id_from(scope)
        exchange = _Exchange(scope, AuditContext(correlation_id=request_id))
        install_context(scope, exchange.context)
        wants_body = (_header(scope, b"content-type") or "").startswith("application/json")

        async def receive_wrapper() -> Message:
            message = await receive()
            room = BODY_CAPTURE_LIMIT - len(exchange.body)
            if wants_body and room > 0 and message["type"] == "http.request":
                exchange.body += message.get("body", b"")[:room]
            return message

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        reset_token = bind_correlation_id(request_id)
        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except Exception:
            log.exception("unhandled error", path=scope.get("path"))
            if exchange.status is None:
                await send_wrapper(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": INTERNAL_ERROR})
            exchange.status = 500
        finally:
            reset_correlation_id(reset_token)
            await self._record(exchange)

    async def _record(self, exchange: _Exchange) -> None:
        status = exchange.status if exchange.status is not None else 500
        scope, context = exchange.scope, exchange.context
        record = AuditRecord(
            correlation_id=context.correlation_id or "",
            method=scope.get("method", ""),
            route=route_template(scope),
            path=scope.get("path", ""),
            status=status,
            latency_ms=round(exchange.elapsed_ms, 3),
        )
        try:
            if context.user_id is not None:
                record.user_id, record.role = context.user_id, context.role
            elif self.identify is not None and (token := bearer_token(scope)):
                principal = self.identify(token)
                if principal is not None:
                    record.user_id, record.role = principal.sub, principal.role
            claimed = claimed_subject(scope, bytes(exchange.body))
            record.plant = context.plant or claimed[0]
            record.equipment_id = context.equipment_id or claimed[1]
        except Exception:  # a partial record is better than none
            log.exception("audit record incomplete", path=scope.get("path"))
        await self.writer.submit(record)
