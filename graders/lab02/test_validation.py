"""Input validation (422 with field errors) and authentication (401)."""

from __future__ import annotations

from graders.lab02 import sections
from graders.lab02.judgements import error_fields
from graders.lab02.plant_data import PlantData
from graders.sdk import Checklist, check, fail
from graders.sdk.copilot import CopilotService

QUESTION = "What should be checked when a hydraulic leak is found?"


@check(points=2, name="Invalid inputs are 422 with field errors", section=sections.VALIDATION_RBAC)
def test_validation_errors(copilot: CopilotService, plant_data: PlantData, checklist: Checklist) -> None:
    plant = plant_data.plant
    cases = [
        ("a one-letter question", {"question": "x", "plant": plant}, "question"),
        ("a missing question", {"plant": plant}, "question"),
        ("a malformed plant code", {"question": QUESTION, "plant": "plant one"}, "plant"),
        ("top_k = 0", {"question": QUESTION, "plant": plant, "top_k": 0}, "top_k"),
        ("top_k = 10000", {"question": QUESTION, "plant": plant, "top_k": 10000}, "top_k"),
        ("a malformed equipment id", {"question": QUESTION, "plant": plant, "equipment": "press 1"}, "equipment"),
        (
            "an equipment id that is not in data/equipment.yaml",
            {"question": QUESTION, "plant": plant, "equipment": f"{plant}-ZZZ-999"},
            "equipment",
        ),
    ]
    client = copilot.client()
    headers = copilot.headers(sub="grader-validation")
    for label, body, field in cases:
        response = client.post("/v1/rag/query", json=body, headers=headers)
        fields = (
            error_fields(response.json())
            if response.headers.get("content-type", "").startswith("application/json")
            else []
        )
        checklist.require(
            response.status_code == 422 and field in fields,
            f"POST /v1/rag/query with {label} should be 422 naming the field '{field}'; "
            f"got {response.status_code} {response.text[:160]}",
        )


@check(points=6, name="Requests without a valid token are 401", section=sections.VALIDATION_RBAC)
def test_authentication_required(copilot: CopilotService, plant_data: PlantData, checklist: Checklist) -> None:
    body = {"question": QUESTION, "plant": plant_data.plant}
    client = copilot.client()
    cases = [
        ("no Authorization header", {}),
        ("a token signed with another secret", copilot.headers(secret="not-the-service-secret-" * 3)),
        ("an expired token", copilot.headers(ttl_s=-3600)),
        ("a token with an unknown role", copilot.headers(role="superuser")),
    ]
    accepted: list[str] = []
    for label, headers in cases:
        response = client.post("/v1/rag/query", json=body, headers=headers)
        if response.status_code < 400:
            accepted.append(f"{label} was accepted ({response.status_code})")
            continue
        checklist.require(
            response.status_code == 401,
            f"POST /v1/rag/query with {label} should be 401; got {response.status_code} {response.text[:120]}",
        )
    if accepted:
        # A token the service should not trust that opens the API is an open door, not a detail.
        fail(
            f"POST /v1/rag/query: {'; '.join(accepted)}. Verify the signature, the expiry and the role of every "
            "token before the request reaches a route",
            "src/copilot/security/tokens.py",
        )
