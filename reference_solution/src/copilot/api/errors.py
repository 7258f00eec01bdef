"""Error responses: one small JSON shape, ``{"detail": "..."}``, with short fixed details.

Domain exceptions (access denied, backend down, upload refused) are raised where they happen and
turned into HTTP responses here, so modules like ``security.rbac`` stay usable outside HTTP.
"""

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from copilot.jobs.base import QueueUnavailable
from copilot.rag.generation import GeneratorUnavailable
from copilot.security.rbac import PermissionDenied
from copilot.vision.classifier import MODEL_UNAVAILABLE, ModelUnavailable
from copilot.vision.images import ImageRejected

LLM_UNAVAILABLE = "LLM backend unavailable"
QUEUE_UNAVAILABLE = "Job queue unavailable"


class ErrorDetail(BaseModel):
    detail: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error statuses an operation can answer."""
    descriptions = {
        400: "The request body could not be parsed (not UTF-8 JSON or multipart)",
        401: "Missing, invalid or expired bearer token",
        403: "The token does not grant this plant, equipment or role",
        404: "Not found (or not visible to the caller)",
        413: "Upload too large (bytes or pixels)",
        415: "Unsupported media type",
        501: "Not implemented yet",
        502: "The answer-generation backend failed",
        503: "A dependency is not available",
    }
    return {code: {"model": ErrorDetail, "description": descriptions[code]} for code in codes}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class SafeJSONResponse(JSONResponse):
    """JSON that always encodes: a lone surrogate a client sent, echoed in a 422, becomes "?" instead of a 500."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
        return text.encode("utf-8", "replace")


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return SafeJSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's answer, except that a 405 lists the methods of every route on the path (GET and POST)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        routes = request.app.router.routes
        allowed = [
            method
            for method in _METHODS
            if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
        ]
        if allowed:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    return await http_exception_handler(request, exc)


def _json(status_code: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code)


async def _permission_denied(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PermissionDenied)
    return _json(403, exc.detail)


async def _image_rejected(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ImageRejected)
    return _json(exc.status_code, exc.detail)


async def _generator_unavailable(_: Request, __: Exception) -> JSONResponse:
    return _json(502, LLM_UNAVAILABLE)


async def _model_unavailable(_: Request, __: Exception) -> JSONResponse:
    return _json(503, MODEL_UNAVAILABLE)


async def _queue_unavailable(_: Request, __: Exception) -> JSONResponse:
    return _json(503, QUEUE_UNAVAILABLE)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PermissionDenied, _permission_denied)
    app.add_exception_handler(ImageRejected, _image_rejected)
    app.add_exception_handler(GeneratorUnavailable, _generator_unavailable)
    app.add_exception_handler(ModelUnavailable, _model_unavailable)
    app.add_exception_handler(QueueUnavailable, _queue_unavailable)
