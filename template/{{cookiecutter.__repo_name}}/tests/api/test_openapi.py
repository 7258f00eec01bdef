"""The committed OpenAPI contract (docs/openapi.json) must match the code."""

import json

from copilot.openapi import current_schema, render
from tests.conftest import REPO

COMMITTED = REPO / "docs" / "openapi.json"


def test_committed_contract_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(current_schema()), (
        "docs/openapi.json is out of date: run `make openapi` and commit it"
    )


def test_contract_has_the_operations_and_schemas() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    operations = {(path, method) for path, item in schema["paths"].items() for method in item}
    assert {
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/v1/rag/query", "post"),
        ("/v1/rag/stream", "get"),
        ("/v1/rag/stream", "post"),
        ("/v1/vision/classify", "post"),
        ("/v1/analyses", "post"),
        ("/v1/analyses/{job_id}", "get"),
        ("/v1/audit", "get"),
    } <= operations
    components = schema["components"]
    assert {"RagQuery", "RagAnswer", "Citation", "Classification", "AuditPage"} <= set(components["schemas"])
    assert "HTTPBearer" in components["securitySchemes"]
    stream = schema["paths"]["/v1/rag/stream"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in stream
