"""Maintenance questions: a complete answer, or the same answer streamed as Server-Sent Events."""

import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status  # noqa: F401 - HTTPException, status: the lab02 starter
from fastapi.responses import StreamingResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from common.logging import get_logger
from copilot.api.deps import AuditContextDep, CurrentPrincipal, ServicesDep, authorize_subject
from copilot.api.errors import LLM_UNAVAILABLE, error_responses
from copilot.observability.metrics import observe_rag_answer
from copilot.rag.generation import GeneratorUnavailable
from copilot.rag.pipeline import RagPipeline
from copilot.rag.schemas import RagAnswer, RagQuery

log = get_logger(__name__)
router = APIRouter(prefix="/v1/rag", tags=["rag"])

SSE_PING_S = 15
STREAM_DESCRIPTION = (
    "Server-Sent Events: `retrieval` (searching, then the retrieved document ids), one `token` event per "
    "piece of the answer, and a final `done` event whose data is the complete RagAnswer (citations included). "
    "A failure after the stream started is an `error` event. Closing the connection stops the work."
)
STREAM_RESPONSES = {
    200: {"description": STREAM_DESCRIPTION, "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    **error_responses(401, 403, 501),
}


@router.post("/query", response_model=RagAnswer, responses=error_responses(400, 401, 403, 502))
async def query(
    body: RagQuery, principal: CurrentPrincipal, services: ServicesDep, audit: AuditContextDep
) -> RagAnswer:
    """Answer a maintenance question from the plant's documents, with citations."""
    authorize_subject(principal, services, audit, body.plant, body.equipment)
    answer = await services.pipeline.answer(body)
    found = services.registry.get(body.equipment) if body.equipment else None
    observe_rag_answer(
        line=found.line if found else None, groundedness=answer.groundedness, retrieval_hit=bool(answer.citations)
    )
    return answer


@router.get("/stream", response_class=EventSourceResponse, responses=STREAM_RESPONSES)
async def stream_get(
    params: Annotated[RagQuery, Query()], principal: CurrentPrincipal, services: ServicesDep, audit: AuditContextDep
) -> EventSourceResponse:
    """Stream the answer (question and filters as query parameters)."""
    return stream_answer(params, principal, services, audit, "query")  # type: ignore[return-value]


@router.post("/stream", response_class=EventSourceResponse, responses={**STREAM_RESPONSES, **error_responses(400)})
async def stream_post(
    body: RagQuery, principal: CurrentPrincipal, services: ServicesDep, audit: AuditContextDep
) -> EventSourceResponse:
    """Stream the answer (question and filters as a JSON body)."""
    return stream_answer(body, principal, services, audit, "body")  # type: ignore[return-value]


def stream_answer(
    query: RagQuery,
    principal: CurrentPrincipal,
    services: ServicesDep,
    audit: AuditContextDep,
    source: Literal["body", "query"],
) -> StreamingResponse:
    # Access is checked before the stream starts: a refusal is a plain 403, never an event.
    authorize_subject(principal, services, audit, query.plant, query.equipment, source)
    # Server-Sent Events written by hand: a StreamingResponse of text/event-stream frames.
    return StreamingResponse(
        sse_frames(services.pipeline, query),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def sse_events(pipeline: RagPipeline, query: RagQuery) -> AsyncIterator[ServerSentEvent]:
    """Each pipeline event as soon as it exists; cancelled (and cleaned up) when the client leaves."""
    async for frame in sse_frames(pipeline, query):
        name, data, ident = _parse_frame(frame)
        yield ServerSentEvent(data=data, event=name, id=ident)


def _frame(event: str, data: object, ident: int) -> str:
    """One SSE frame: ``event:``, ``id:`` and one ``data:`` line per line of the JSON, then a blank line."""
    payload = json.dumps(data, separators=(",", ":"))
    lines = [f"event: {event}", f"id: {ident}", *(f"data: {line}" for line in payload.splitlines())]
    return "\n".join(lines) + "\n\n"


def _parse_frame(frame: str) -> tuple[str, str, str]:
    fields = dict(line.split(": ", 1) for line in frame.strip().splitlines())
    return fields["event"], fields["data"], fields["id"]


async def sse_frames(pipeline: RagPipeline, query: RagQuery) -> AsyncIterator[str]:
    """The pipeline's events as SSE frames, as soon as each exists; an ``error`` frame if generation fails."""
    count = 0
    try:
        async for event, data in pipeline.stream(query):
            yield _frame(event, data, count)
            count += 1
    except GeneratorUnavailable:
        yield _frame("error", {"detail": LLM_UNAVAILABLE}, count)
