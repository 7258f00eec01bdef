"""Plant-level RBAC: another plant's data or equipment is a 403 that reveals nothing, whatever the role."""

from __future__ import annotations

from graders.lab02 import sections
from graders.lab02.http_helpers import tiny_png
from graders.lab02.judgements import leaks
from graders.lab02.plant_data import PlantData
from graders.sdk import Checklist, check, fail
from graders.sdk.copilot import CopilotService

QUESTION = "What should be checked when a hydraulic leak is found?"
RBAC_FILE = "src/copilot/security/rbac.py"


@check(
    points=15,
    name="Cross-plant requests are 403 and leak nothing",
    section=sections.VALIDATION_RBAC,
    assignment=True,
)
def test_cross_plant_forbidden(copilot: CopilotService, plant_data: PlantData, checklist: Checklist) -> None:
    client = copilot.client()
    own, other = plant_data.plant, plant_data.other_plant
    mine = copilot.headers(plants=[own], sub="grader-rbac")
    own_admin = copilot.headers(role="admin", plants=[own], sub="grader-rbac-admin")
    both = copilot.headers(plants=[own, other], sub="grader-rbac-both")
    control = client.post("/v1/rag/query", json={"question": QUESTION, "plant": other}, headers=both)
    if control.status_code != 200:
        fail(
            f"a token for both {own} and {other} could not query {other} (got {control.status_code} "
            f"{control.text[:120]}); access must follow the token's plants, not refuse everything",
            RBAC_FILE,
        )
    foreign_unknown = f"{other}-ZZZ-999"
    attempts = [
        (
            "POST /v1/rag/query for another plant",
            lambda: client.post("/v1/rag/query", json={"question": QUESTION, "plant": other}, headers=mine),
        ),
        (
            f"POST /v1/rag/query for {own} naming {other}'s equipment {plant_data.other_equipment.id}",
            lambda: client.post(
                "/v1/rag/query",
                json={"question": QUESTION, "plant": own, "equipment": plant_data.other_equipment.id},
                headers=mine,
            ),
        ),
        (
            f"POST /v1/rag/query naming an unknown id of {other} ({foreign_unknown}); answer 403 like a known one so "
            "another plant's registry cannot be probed",
            lambda: client.post(
                "/v1/rag/query", json={"question": QUESTION, "plant": own, "equipment": foreign_unknown}, headers=mine
            ),
        ),
        (
            "GET /v1/rag/stream for another plant (refuse before streaming)",
            lambda: client.get("/v1/rag/stream", params={"question": QUESTION, "plant": other}, headers=mine),
        ),
        (
            "POST /v1/vision/classify for another plant",
            lambda: client.post(
                "/v1/vision/classify",
                files={"image": ("panel.png", tiny_png(), "image/png")},
                data={"plant": other},
                headers=mine,
            ),
        ),
        (
            "POST /v1/analyses for another plant",
            lambda: client.post("/v1/analyses", json={"plant": other}, headers=mine),
        ),
        (
            f"POST /v1/rag/query for {other} by an admin of {own} only (the role widens what a user may do, never "
            "the plants the token lists)",
            lambda: client.post("/v1/rag/query", json={"question": QUESTION, "plant": other}, headers=own_admin),
        ),
        (
            f"GET /v1/rag/stream for {other} by an admin of {own} only",
            lambda: client.get("/v1/rag/stream", params={"question": QUESTION, "plant": other}, headers=own_admin),
        ),
    ]
    bypassed: list[str] = []
    for label, send in attempts:
        response = send()
        if response.status_code != 403:
            bypassed.append(f"{label}: expected 403, got {response.status_code} {response.text[:120]}")
            continue
        leaked = leaks(response, plant_data)
        checklist.require(not leaked, f"{label}: the 403 body reveals {', '.join(leaked)}", RBAC_FILE)
    if bypassed:
        # One way into another plant's data is a breach: no partial credit for the doors that held.
        fail("another plant's data was reachable:\n" + "\n".join(f"- {b}" for b in bypassed), RBAC_FILE)
