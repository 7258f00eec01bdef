"""Hostile requests cannot erase, dodge or hide audit records (SQLite and a real PostgreSQL).

Each hostile request is sent in the middle of a burst of legitimate ones. Afterwards every
legitimate request has its record, the hostile one has exactly one, and an admin can list it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from copilot.audit.records import INVALID_CLAIM, AuditQuery, AuditRecord
from copilot.core.config import Settings
from copilot.main import create_app

pytestmark = [pytest.mark.anyio, pytest.mark.lab("lab02")]
QUESTION = "How is a hydraulic leak located?"
LEGITIMATE = 24
DEEP_JSON = b"[" * 5000


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def hostile_app(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[FastAPI]:
    if request.param == "postgresql":
        settings = settings.model_copy(update={"database_url": request.getfixturevalue("postgres_url")})
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def hostile_client(hostile_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=hostile_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://copilot.test") as http:
        yield http


def _hostile(plant: str, auth: Callable[..., dict[str, str]]) -> dict[str, tuple[dict[str, Any], set[int]]]:
    """name -> (httpx request arguments, acceptable statuses)."""
    surrogate_plant = json.dumps({"question": "abc", "plant": "\ud800"}).encode()  # a lone surrogate, escaped
    surrogate_question = json.dumps({"question": "abc \udfff def", "plant": plant}).encode()
    stream_params = {"question": QUESTION, "plant": plant}
    return {
        "surrogate-plant-unauthenticated": (
            {"method": "POST", "url": "/v1/rag/query", "content": surrogate_plant, "headers": _json()},
            {401},
        ),
        "surrogate-question-authenticated": (
            {"method": "POST", "url": "/v1/rag/query", "content": surrogate_question, "headers": {**_json(), **auth()}},
            {422},
        ),
        "long-plant-claim": ({"method": "GET", "url": "/healthz", "params": {"plant": "P" * 40}}, {200}),
        "nul-plant-claim": ({"method": "GET", "url": "/healthz", "params": {"plant": "AB\x00C1"}}, {200}),
        "nul-in-path": ({"method": "GET", "url": "/v1/%00secret"}, {404}),
        "long-equipment-claim": (
            {"method": "GET", "url": "/healthz", "params": {"equipment": "E\ud7ff" * 200}},
            {200},
        ),
        "deep-json-on-a-stream": (
            {
                "method": "GET",
                "url": "/v1/rag/stream",
                "params": stream_params,
                "content": DEEP_JSON,
                "headers": {**_json(), **auth()},
            },
            {200},
        ),
        "deep-json-unauthenticated": (
            {"method": "POST", "url": "/v1/rag/query", "content": DEEP_JSON, "headers": _json()},
            {400, 401, 422},
        ),
        "not-utf8-json": (
            {"method": "POST", "url": "/v1/rag/query", "content": b'{"plant": "\xff\xfe"}', "headers": _json()},
            {400, 401, 422},
        ),
    }


def _json() -> dict[str, str]:
    return {"content-type": "application/json"}


async def _records(app: FastAPI, **filters: Any) -> list[AuditRecord]:
    await app.state.audit_writer.flush()
    _, found = app.state.services.audit_store.query(AuditQuery(limit=500, **filters))
    return found


@pytest.mark.parametrize(
    "name",
    [
        "surrogate-plant-unauthenticated",
        "surrogate-question-authenticated",
        "long-plant-claim",
        "nul-plant-claim",
        "nul-in-path",
        "long-equipment-claim",
        "deep-json-on-a-stream",
        "deep-json-unauthenticated",
        "not-utf8-json",
    ],
)
async def test_a_hostile_request_takes_no_record_with_it(
    name: str, hostile_app: FastAPI, hostile_client: httpx.AsyncClient, auth, plant
) -> None:  # type: ignore[no-untyped-def]
    run = uuid.uuid4().hex[:8]  # the PostgreSQL database is shared by the session's tests
    user = f"legit-{run}"
    request, statuses = _hostile(plant, auth)[name]
    hostile_id = f"hostile-{run}"

    async def legitimate(i: int) -> int:
        headers = {**auth(sub=user), "X-Request-ID": f"legit-{run}-{i:02d}"}
        response = await hostile_client.post(
            "/v1/rag/query", json={"question": QUESTION, "plant": plant}, headers=headers
        )
        return response.status_code

    async def hostile() -> int:
        await asyncio.sleep(0.005)
        headers = {**request.get("headers", {}), "X-Request-ID": hostile_id}
        response = await hostile_client.request(**{**request, "headers": headers})
        return response.status_code

    results = await asyncio.gather(hostile(), *(legitimate(i) for i in range(LEGITIMATE)))
    assert results[0] in statuses, f"{name} answered {results[0]}"
    assert set(results[1:]) == {200}
    legit = {r.correlation_id for r in await _records(hostile_app, user_id=user)}
    assert legit == {f"legit-{run}-{i:02d}" for i in range(LEGITIMATE)}, "a legitimate record was lost"
    own = await _records(hostile_app, correlation_id=hostile_id)
    assert len(own) == 1, f"{name} left {len(own)} records"
    assert own[0].status == results[0]
    assert hostile_app.state.audit_writer.spilled == 0 and hostile_app.state.audit_writer.rejected == 0


async def test_claims_are_recorded_as_well_formed_or_invalid(hostile_app, hostile_client, plant) -> None:  # type: ignore[no-untyped-def]
    run = uuid.uuid4().hex[:8]
    cases = {
        f"ok-{run}": ({"plant": plant}, plant),
        f"long-{run}": ({"plant": "P" * 40}, INVALID_CLAIM),
        f"lower-{run}": ({"plant": "abc12"}, INVALID_CLAIM),
        f"unknown-{run}": ({"plant": "ZZZ99"}, "ZZZ99"),
    }
    for cid, (params, _) in cases.items():
        await hostile_client.get("/healthz", params=params, headers={"X-Request-ID": cid})
    for cid, (_, stored) in cases.items():
        (record,) = await _records(hostile_app, correlation_id=cid)
        assert record.plant == stored, cid


async def test_admins_see_unknown_and_invalid_claims(client, app, auth, plant, other_plant) -> None:  # type: ignore[no-untyped-def]
    guessed = {"Authorization": "Bearer guessed.token.value"}
    await client.get("/v1/audit", params={"plant": "ZZZ99"}, headers={**guessed, "X-Request-ID": "probe-unknown"})
    await client.get("/healthz", params={"plant": "not-a-plant"}, headers={"X-Request-ID": "probe-invalid"})
    await client.post(
        "/v1/rag/query",
        json={"question": QUESTION, "plant": other_plant},
        headers={**auth(plants=[other_plant]), "X-Request-ID": "other-plant"},
    )
    await app.state.audit_writer.flush()
    admin = auth(role="admin", plants=[plant])
    listed = (await client.get("/v1/audit", params={"limit": 500}, headers=admin)).json()
    ids = {item["correlation_id"] for item in listed["items"]}
    assert {"probe-unknown", "probe-invalid"} <= ids
    assert "other-plant" not in ids, "another plant of the group stays hidden"
    for claim, expected in (("unknown", "probe-unknown"), ("invalid", "probe-invalid")):
        page = (await client.get("/v1/audit", params={"plant_claim": claim}, headers=admin)).json()
        assert [item["correlation_id"] for item in page["items"]] == [expected], claim
    await app.state.audit_writer.flush()  # the listings above: requests without a plant
    none = (await client.get("/v1/audit", params={"plant_claim": "none"}, headers=admin)).json()
    assert all(item["plant"] is None for item in none["items"]) and none["total"] >= 1


async def test_audit_time_filters(client, app, auth) -> None:  # type: ignore[no-untyped-def]
    admin = auth(role="admin")
    for since in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        response = await client.get("/v1/audit", params={"since": since, "until": since}, headers=admin)
        assert response.status_code == 200, (since, response.text)
    for value in ("0.5", "1700000000"):
        response = await client.get("/v1/audit", params={"until": value}, headers=admin)
        assert response.status_code == 422, value


async def test_smaller_protocol_defects(client, app, auth, plant, settings) -> None:  # type: ignore[no-untyped-def]
    options = await client.options("/v1/rag/stream")
    assert options.status_code == 405
    assert set(options.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(settings.max_upload_bytes // (1 << 20) + 2):
            yield b"x" * (1 << 20)

    headers = {**auth(), "content-type": "application/json", "X-Request-ID": "chunked-413"}
    response = await client.post("/v1/rag/query", content=chunks(), headers=headers)
    assert response.status_code == 413
    await app.state.audit_writer.flush()
    (record,) = (await _records(app, correlation_id="chunked-413")) or [None]
    assert record is not None and record.status == 413

    stripped = await client.get("/v1/rag/stream", params={"question": "  ab  ", "plant": plant}, headers=auth())
    assert stripped.status_code == 422
    schema = (await client.get("/openapi.json")).json()
    question = next(p for p in schema["paths"]["/v1/rag/stream"]["get"]["parameters"] if p["name"] == "question")
    assert question["schema"]["pattern"] == r"\S[\s\S]+\S", "the stripped-length rule is in the schema"
