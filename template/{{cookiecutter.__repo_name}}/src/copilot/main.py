"""The Manufacturing Copilot API: ``create_app(settings)`` and the ``app`` uvicorn serves.

``uvicorn copilot.main:app`` (settings from the environment) or ``create_app(Settings(...))`` in tests.
Everything with a lifecycle (index, model, database, audit writer, job consumers) is opened in the
lifespan and closed in reverse order on shutdown.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI

from copilot import __version__
from copilot.api.errors import install_error_handlers
from copilot.api.limits import BodySizeLimitMiddleware
from copilot.api.liveness import LivenessMiddleware
from copilot.api.routes import ROUTERS
from copilot.audit.middleware import AuditMiddleware
from copilot.audit.writer import AuditWriter
from copilot.core.config import Settings, get_settings
from copilot.observability.logging import configure_service_logging
from copilot.observability.metrics import instrument
from copilot.security.tokens import InvalidToken, Principal, decode_token
from copilot.services import open_services

DESCRIPTION = (
    "One audited API for the plant's maintenance assistant (retrieval-augmented answers with citations, "
    "streamed over Server-Sent Events), inspection-image classification and long-running analyses. "
    "Every operation except the health checks needs a bearer token scoped to plants; every request is "
    "recorded in the audit trail."
)
# Multipart framing on top of the largest accepted image.
BODY_OVERHEAD_BYTES = 64 * 1024


def token_identifier(settings: Settings) -> Callable[[str], Principal | None]:
    """How the audit middleware names the caller of a request rejected before authentication ran."""
    secret = settings.jwt_secret.get_secret_value()

    def identify(token: str) -> Principal | None:
        try:
            return decode_token(token, secret, settings.jwt_leeway_s)
        except InvalidToken:
            return None

    return identify


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_service_logging(settings)
    audit_writer = AuditWriter(
        max_queue=settings.audit_queue_size,
        batch_size=settings.audit_batch_size,
        spill_path=settings.audit_spill_dir / "audit-spill.jsonl",
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings, audit_writer) as services:
            app.state.services = services
            yield

    app = FastAPI(
        title="Manufacturing Copilot API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.audit_writer = audit_writer
    install_error_handlers(app)

    # -- middleware: the last one added is the outermost ----------------------------------------
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_upload_bytes + BODY_OVERHEAD_BYTES)
    app.add_middleware(AuditMiddleware, writer=audit_writer, identify=token_identifier(settings))
    # GET /healthz is answered (and audited) here, before routing and the audit middleware: probes stay cheap.
    app.add_middleware(LivenessMiddleware, writer=audit_writer)
    # Lab 04: Prometheus metrics by route template, GET /metrics, and the job queue depth at scrape time.
    # Outermost, so it counts every answer, liveness probes and the audit middleware's 500s included.
    instrument(
        app,
        version=__version__,
        queue_depths=lambda: {"analysis": app.state.services.job_store.count_queued()},
        audit_stats=audit_writer.stats,
    )
    # ---------------------------------------------------------------------------------------------

    for router in ROUTERS:
        app.include_router(router)
    return app


app = create_app()
