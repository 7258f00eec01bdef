"""RAG answers with citations, and the same answer streamed as Server-Sent Events."""

from __future__ import annotations

from typing import Any

import httpx

from graders.lab02 import sections
from graders.lab02.http_helpers import SseResult, read_sse
from graders.lab02.plant_data import PlantData
from graders.sdk import Checklist, check, fail
from graders.sdk.copilot import GENERATION_FAULT, CopilotService

QUESTION = "What should be checked when a hydraulic leak is found?"
STREAM_FILE = "src/copilot/api/routes/rag.py"


@check(points=2, name="RAG query answers with citations from the plant's documents", section=sections.DEPENDENCIES)
def test_rag_query_answers(copilot: CopilotService, plant_data: PlantData, checklist: Checklist) -> None:
    body = {"question": QUESTION, "plant": plant_data.plant, "top_k": 3}
    response = copilot.client().post("/v1/rag/query", json=body, headers=copilot.headers(sub="grader-rag"))
    if response.status_code != 200:
        fail(f"POST /v1/rag/query with a valid question answered {response.status_code}: {response.text[:300]}")
    answer: dict[str, Any] = response.json()
    citations: list[Any] = answer["citations"] if isinstance(answer.get("citations"), list) else []
    checklist.require(isinstance(answer.get("answer"), str) and answer["answer"].strip(), "'answer' is empty")
    checklist.require(1 <= len(citations) <= 3, f"expected 1 to top_k=3 citations, got {len(citations)}")
    keys = {"document_id", "title", "snippet", "score"}
    checklist.require(
        all(isinstance(c, dict) and keys <= set(c) for c in citations),
        f"every citation needs {', '.join(sorted(keys))}",
    )
    foreign = [
        c.get("document_id")
        for c in citations
        if plant_data.doc_plants.get(str(c.get("document_id")), plant_data.plant) != plant_data.plant
    ]
    checklist.require(not foreign, f"citations of another plant's documents in a {plant_data.plant} answer: {foreign}")
    grounded = answer.get("groundedness")
    checklist.require(
        isinstance(grounded, (int, float)) and 0 <= grounded <= 1, f"'groundedness' must be in [0, 1], got {grounded!r}"
    )
    for key in ("model_version", "index_version"):
        checklist.require(isinstance(answer.get(key), str) and answer[key], f"'{key}' is missing or empty")


def _judge_stream(label: str, result: SseResult, checklist: Checklist) -> None:
    if result.status != 200:
        checklist.require(
            False,
            f"{label} answered {result.status or result.error} ({result.content_type or 'no content type'}) "
            f"{result.body[:160]}; it should stream text/event-stream",
            STREAM_FILE,
        )
        return
    names = [e.event for e in result.events]
    checklist.require(
        len(result.events) >= 3,
        f"{label} sent {len(result.events)} event(s) ({', '.join(names) or 'none'}); stream retrieval progress and "
        "the answer's tokens as separate events before the final one",
        STREAM_FILE,
    )
    final = result.events[-1].data if result.events else None
    checklist.require(
        isinstance(final, dict) and isinstance(final.get("citations"), list) and final.get("answer"),
        f"the last event of {label} should carry the final answer with its citations (JSON data with 'answer' and "
        f"'citations'); it was {result.events[-1].raw[:160] if result.events else 'missing'}",
        STREAM_FILE,
    )
    before_last = [e for e in result.events[:-1] if e.event != "error"]
    tokens = [e for e in before_last if isinstance(e.data, dict) and isinstance(e.data.get("text"), str)]
    checklist.require(
        len(tokens) >= 2,
        f"{label}: expected the answer to arrive as several token events ({{'text': ...}}) before the last event; "
        f"found {len(tokens)}",
        STREAM_FILE,
    )
    if tokens and isinstance(final, dict) and isinstance(final.get("answer"), str):
        streamed = "".join(e.data["text"] for e in tokens).strip()
        checklist.require(
            streamed == final["answer"].strip(),
            f"{label}: the token events do not add up to the final answer",
            STREAM_FILE,
        )


@check(
    points=9,
    name="Server-Sent Events stream progress, tokens and a final answer",
    section=sections.STREAMING,
    assignment=True,
)
def test_sse_streaming(copilot: CopilotService, plant_data: PlantData, checklist: Checklist) -> None:
    client = copilot.client(timeout=30)
    headers = copilot.headers(sub="grader-sse")
    params = {"question": QUESTION, "plant": plant_data.plant}
    _judge_stream(
        "GET /v1/rag/stream", read_sse(client, "GET", "/v1/rag/stream", params=params, headers=headers), checklist
    )
    _judge_stream(
        "POST /v1/rag/stream", read_sse(client, "POST", "/v1/rag/stream", json=params, headers=headers), checklist
    )
    _judge_failing_stream(copilot, plant_data, checklist)


def _probe_installed(copilot: CopilotService) -> bool:
    if not copilot.probes:
        return False
    try:
        answer = copilot.client().get("/__grader__/probes")
        return answer.status_code == 200 and answer.json().get("generation_fault") is True
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def _judge_failing_stream(copilot: CopilotService, plant_data: PlantData, checklist: Checklist) -> None:
    """Generation that fails after the stream started must end the stream with an ``error`` event."""
    if not _probe_installed(copilot):
        return  # the course's generator module could not be hooked: nothing to judge
    label = "GET /v1/rag/stream whose answer generation fails midway"
    params = {"question": f"{QUESTION} {GENERATION_FAULT}", "plant": plant_data.plant}
    result = read_sse(copilot.client(timeout=30), "GET", "/v1/rag/stream", params=params, headers=copilot.headers())
    names = [e.event for e in result.events]
    if result.status != 200:
        shown = f"broke off ({result.error})" if result.error else f"answered {result.status} {result.body[:160]}"
        checklist.require(
            False,
            f"{label} {shown}; the stream had started, so it must end with an `error` event "
            "(catch GeneratorUnavailable in the event generator and yield event='error'), not break off",
            STREAM_FILE,
        )
        return
    checklist.require(
        names[-1:] == ["error"] and "done" not in names,
        f"{label} sent the events {', '.join(names) or 'none'}; when generation fails after the stream started, "
        "the last event must be `error` (catch GeneratorUnavailable in the event generator and yield "
        "event='error' with a short detail), and no `done` event",
        STREAM_FILE,
    )
