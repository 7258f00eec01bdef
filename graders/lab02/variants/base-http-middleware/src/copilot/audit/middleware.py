"""Audit trail middleware: one structured record for every request, including rejected and failed ones.

Written with Starlette's ``BaseHTTPMiddleware``: ``dispatch`` wraps ``call_next``, which returns the
response (401/403/422 included) or raises the handler's unhandled exception, answered here as a 500.
The record goes to the :class:`~copilot.audit.writer.AuditWriter` queue, so the database is never on
the request path.

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
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Scope

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


class AuditMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, writer: AuditWriter, identify: Identify | None = None) -> None:
        super().__init__(app)
        self.writer = writer
        self.identify = identify

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        t0 = time.perf_counter()
        request_id = correlation_id_from(request.scope)
        ctx = AuditContext(correlation_id=request_id)
        install_context(request.scope, ctx)
        bound = bind_correlation_id(request_id)
        body = b""
        if (request.headers.get("content-type") or "").startswith("application/json"):
            body = (await request.body())[:BODY_CAPTURE_LIMIT]  # replayed to the app by Starlette
        try:
            response = await call_next(request)
        except Exception:
            log.exception("unhandled error", path=request.url.path)
            response = JSONResponse({"detail": "Internal server error"}, status_code=500)
        finally:
            reset_correlation_id(bound)
        response.headers["X-Request-ID"] = request_id
        elapsed_ms = (time.perf_counter() - t0) * 1000.0
        try:
            await self.writer.submit(self._build(request.scope, ctx, body, response.status_code, elapsed_ms))
        except Exception:
            log.exception("audit record incomplete", path=request.url.path)
            await self.writer.submit(
                AuditRecord(request_id, request.method, route_template(request.scope), request.url.path,
                            response.status_code, round(elapsed_ms, 3))
            )
        return response

    def _build(self, scope: Scope, ctx: AuditContext, body: bytes, status: int, elapsed_ms: float) -> AuditRecord:
        user, role = ctx.user_id, ctx.role
        if user is None and self.identify is not None:
            token = bearer_token(scope)
            who = self.identify(token) if token else None
            if who is not None:
                user, role = who.sub, who.role
        plant, equipment = ctx.plant, ctx.equipment_id
        if plant is None or equipment is None:
            asked_plant, asked_equipment = claimed_subject(scope, body)
            plant, equipment = plant or asked_plant, equipment or asked_equipment
        return AuditRecord(
            correlation_id=ctx.correlation_id or "",
            method=scope.get("method", ""),
            route=route_template(scope),
            path=scope.get("path", ""),
            status=status,
            latency_ms=round(elapsed_ms, 3),
            user_id=user,
            role=role,
            plant=plant,
            equipment_id=equipment,
        )
