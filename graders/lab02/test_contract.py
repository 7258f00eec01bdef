"""The API contract (OpenAPI) and the health endpoints."""

from __future__ import annotations

from typing import Any

from graders.lab02 import sections
from graders.sdk import Checklist, Submission, SubmissionFileError, check, fail
from graders.sdk.copilot import CopilotService

REQUIRED_OPERATIONS = (
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/v1/rag/query"),
    ("get", "/v1/rag/stream"),
    ("post", "/v1/rag/stream"),
    ("post", "/v1/vision/classify"),
    ("post", "/v1/analyses"),
    ("get", "/v1/analyses/{job_id}"),
    ("get", "/v1/audit"),
)
REQUIRED_FIELDS = {
    "RagQuery": ("question", "plant", "equipment", "top_k"),
    "RagAnswer": ("answer", "citations", "groundedness", "model_version", "index_version"),
    "Citation": ("document_id", "title", "snippet", "score"),
    "Classification": ("label", "confidence", "model_version"),
}
COMMITTED = "docs/openapi.json"


def _operations(schema: dict[str, Any]) -> set[tuple[str, str]]:
    paths = schema.get("paths") if isinstance(schema, dict) else None
    if not isinstance(paths, dict):
        return set()
    return {(m.lower(), p) for p, item in paths.items() if isinstance(item, dict) for m in item if m != "parameters"}


@check(points=3, name="OpenAPI contract has the Copilot's operations and schemas", section=sections.CONTRACT)
def test_openapi_contract(copilot: CopilotService, submission: Submission, checklist: Checklist) -> None:
    response = copilot.client().get("/openapi.json")
    if response.status_code != 200:
        fail(f"GET /openapi.json answered {response.status_code}; FastAPI serves the contract there by default")
    schema = response.json()
    served = _operations(schema)
    for method, path in REQUIRED_OPERATIONS:
        checklist.require((method, path) in served, f"the contract lacks {method.upper()} {path}")
    components = (schema.get("components") or {}).get("schemas") or {}
    for name, fields in REQUIRED_FIELDS.items():
        properties = (components.get(name) or {}).get("properties") or {}
        missing = [f for f in fields if f not in properties]
        checklist.require(
            not missing, f"schema {name} lacks {', '.join(missing) or 'its definition'} (expected {', '.join(fields)})"
        )
    stream = (((schema.get("paths") or {}).get("/v1/rag/stream") or {}).get("get") or {}).get("responses") or {}
    content = (stream.get("200") or {}).get("content") or {}
    checklist.require(
        "text/event-stream" in content, "GET /v1/rag/stream does not document a text/event-stream response"
    )
    try:
        committed = submission.load_json(COMMITTED)
        differing = sorted(served ^ _operations(committed))
        checklist.require(
            not differing,
            f"{COMMITTED} differs from the running app's contract (operations {differing}); "
            "regenerate it with `make openapi` and commit it",
            COMMITTED,
        )
    except SubmissionFileError as exc:
        checklist.require(False, f"{exc} (generate it with `make openapi`)", COMMITTED)


@check(points=1, name="Liveness and readiness endpoints", section=sections.DEPENDENCIES)
def test_health_and_readiness(copilot: CopilotService, checklist: Checklist) -> None:
    health = copilot.client().get("/healthz")
    checklist.require(
        health.status_code == 200 and health.json().get("status") == "ok",
        f'GET /healthz should answer 200 {{"status": "ok"}} without a token; it answered {health.status_code} '
        f"{health.text[:120]}",
    )
    ready = copilot.wait_ready()
    checklist.require(
        ready is not None and ready.status_code == 200,
        "GET /readyz never answered 200 within 60 s (index, model and database must become usable); last answer: "
        + (f"{ready.status_code} {ready.text[:200]}" if ready is not None else "none"),
    )
