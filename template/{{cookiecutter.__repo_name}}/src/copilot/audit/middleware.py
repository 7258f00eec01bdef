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
import time  # noqa: F401
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: F401

from common.config import EQUIPMENT_ID_PATTERN, PLANT_CODE_PATTERN
from common.logging import bind_correlation_id, get_logger, reset_correlation_id  # noqa: F401
from copilot.audit.context import AuditContext, install_context  # noqa: F401
from copilot.audit.records import INVALID_CLAIM, AuditRecord  # noqa: F401
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


class AuditMiddleware:
    def __init__(self, app: ASGIApp, writer: AuditWriter, identify: Identify | None = None) -> None:
        self.app = app
        self.writer = writer
        self.identify = identify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # TODO(lab02): time the request, echo X-Request-ID, turn exceptions into 500s, then call _record
        await self.app(scope, receive, send)

    async def _record(self, scope: Scope, context: AuditContext, body: bytes, status: int, latency_ms: float) -> None:
        """Complete the request's context and queue its record (never blocks the response)."""
        # TODO(lab02): complete user, plant and equipment, build the AuditRecord, submit it to the writer
        raise NotImplementedError(
            "lab02: complete user, plant and equipment, build the AuditRecord, submit it to the writer"
        )
