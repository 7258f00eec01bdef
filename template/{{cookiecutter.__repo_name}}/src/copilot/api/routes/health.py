"""Liveness and readiness."""

from typing import Literal

import anyio
from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from copilot.api.deps import ServicesDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str]


# Probes are answered by copilot.api.liveness before routing; this route documents the operation and
# serves the rare /healthz with a query string (through the audit middleware, so its claims are recorded).
_ALIVE = Health(status="ok").model_dump_json().encode()


@router.get("/healthz", response_model=Health, summary="Liveness: the process serves requests")
async def healthz() -> Response:
    return Response(_ALIVE, media_type="application/json")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: index, model, database, job queue and audit trail usable",
    responses={503: {"model": Readiness, "description": "A dependency is not usable yet"}},
)
async def readyz(request: Request, services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    checks["index"] = f"ok ({len(services.pipeline.retriever)} chunks)" if len(services.pipeline.retriever) else "empty"
    vision = services.vision
    checks["model"] = f"ok ({vision.version} on {vision.device})" if vision.ready else (vision.error or "loading")
    try:
        await anyio.to_thread.run_sync(services.audit_store.ping)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    checks["queue"] = "ok" if await services.jobs.queue.ping() else "unavailable"
    # Requests must not be served without their audit record: a stopped or failing writer is not ready.
    writer = getattr(request.app.state, "audit_writer", None)
    checks["audit"] = writer.status() if writer is not None else "ok (no audit writer)"
    ready = all(value.startswith("ok") for value in checks.values())
    body = Readiness(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=status.HTTP_200_OK if ready else 503)
