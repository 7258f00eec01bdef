"""The audit trail middleware: one complete record per request, whatever the outcome (Lab 02)."""

import asyncio
import re
import time

import httpx
import pytest
from fastapi import FastAPI

from copilot.audit.records import AuditQuery, AuditRecord

pytestmark = [pytest.mark.anyio, pytest.mark.lab("lab02")]
QUESTION = "How is a hydraulic leak located?"


async def records(app: FastAPI, **filters: object) -> list[AuditRecord]:
    await app.state.audit_writer.flush()
    _, found = app.state.services.audit_store.query(AuditQuery(limit=500, **filters))  # type: ignore[arg-type]
    return found


async def only_record(app: FastAPI, correlation_id: str) -> AuditRecord:
    found = await records(app, correlation_id=correlation_id)
    assert len(found) == 1, f"expected one record for {correlation_id}, got {len(found)}"
    return found[0]


async def test_successful_request_is_recorded_completely(client, app, auth, plant, equipment) -> None:  # type: ignore[no-untyped-def]
    body = {"question": QUESTION, "plant": plant, "equipment": equipment}
    started = time.perf_counter()
    response = await client.post(
        "/v1/rag/query", json=body, headers={**auth(sub="op-17"), "X-Request-ID": "req-success-1"}
    )
    wall_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "req-success-1"
    record = await only_record(app, "req-success-1")
    assert (record.user_id, record.role, record.plant, record.equipment_id) == ("op-17", "engineer", plant, equipment)
    assert (record.method, record.route, record.status) == ("POST", "/v1/rag/query", 200)
    assert 0 < record.latency_ms <= wall_ms + 1, "latency must be the request's wall time in milliseconds"


async def test_latency_is_in_milliseconds(client, app) -> None:  # type: ignore[no-untyped-def]
    async def slow() -> dict[str, str]:
        await asyncio.sleep(0.12)
        return {"ok": "yes"}

    app.add_api_route("/test-slow", slow)
    await client.get("/test-slow", headers={"X-Request-ID": "req-slow"})
    record = await only_record(app, "req-slow")
    assert 120 <= record.latency_ms < 1000


async def test_correlation_id_is_generated_when_absent(client, app) -> None:  # type: ignore[no-untyped-def]
    """Any id format will do: it is echoed, unique per request, and finds the request's record."""
    generated = [(await client.get("/healthz")).headers["x-request-id"] for _ in range(2)]
    assert all(cid and not re.search(r"\s", cid) for cid in generated), generated
    assert generated[0] != generated[1]
    for cid in generated:
        assert (await only_record(app, cid)).route == "/healthz"


@pytest.mark.parametrize(
    ("header", "echoed"),
    [("req-7f3a", True), ("plant-7/line:a-1@42", True), ("bad id\twith spaces", False), ("x" * 129, False)],
)
def test_only_a_safe_client_id_is_echoed(header: str, echoed: bool) -> None:
    from copilot.audit.middleware import correlation_id_from

    cid = correlation_id_from({"headers": [(b"x-request-id", header.encode())]})
    assert (cid == header) is echoed
    assert cid and not re.search(r"\s", cid)


async def test_unauthenticated_request_is_recorded_without_user(client, app, plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/v1/rag/query", json={"question": QUESTION, "plant": plant}, headers={"X-Request-ID": "req-401"}
    )
    assert response.status_code == 401
    record = await only_record(app, "req-401")
    assert (record.status, record.user_id, record.plant) == (401, None, plant)


async def test_forbidden_request_is_recorded_with_user_plant_and_equipment(
    client, app, auth, plant, other_equipment
) -> None:  # type: ignore[no-untyped-def]
    body = {"question": QUESTION, "plant": plant, "equipment": other_equipment}
    response = await client.post("/v1/rag/query", json=body, headers={**auth(sub="op-3"), "X-Request-ID": "req-403"})
    assert response.status_code == 403
    record = await only_record(app, "req-403")
    assert (record.status, record.user_id, record.plant, record.equipment_id) == (403, "op-3", plant, other_equipment)


async def test_invalid_request_is_recorded_with_what_was_asked(client, app, auth, plant, equipment) -> None:  # type: ignore[no-untyped-def]
    body = {"question": QUESTION, "plant": plant, "equipment": equipment, "top_k": 0}
    response = await client.post("/v1/rag/query", json=body, headers={**auth(sub="op-4"), "X-Request-ID": "req-422"})
    assert response.status_code == 422
    record = await only_record(app, "req-422")
    assert (record.status, record.user_id, record.plant, record.equipment_id) == (422, "op-4", plant, equipment)


async def test_malformed_body_is_still_attributed_to_the_caller(client, app, auth) -> None:  # type: ignore[no-untyped-def]
    headers = {**auth(sub="op-5"), "X-Request-ID": "req-badjson", "content-type": "application/json"}
    response = await client.post("/v1/rag/query", content=b"{oops", headers=headers)
    assert response.status_code == 422
    record = await only_record(app, "req-badjson")
    assert (record.status, record.user_id) == (422, "op-5")


async def test_unhandled_error_is_a_recorded_500_not_a_200(client, app, auth) -> None:  # type: ignore[no-untyped-def]
    async def boom() -> None:
        raise RuntimeError("vision driver crashed")

    app.add_api_route("/test-boom", boom)
    response = await client.get("/test-boom", headers={**auth(sub="op-6"), "X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert response.headers["x-request-id"] == "req-500"
    record = await only_record(app, "req-500")
    assert (record.status, record.user_id, record.route) == (500, "op-6", "/test-boom")


async def test_route_is_the_template_not_the_raw_path(client, app, auth) -> None:  # type: ignore[no-untyped-def]
    await client.get("/v1/analyses/" + "0" * 32, headers={**auth(), "X-Request-ID": "req-route"})
    record = await only_record(app, "req-route")
    assert (record.route, record.path, record.status) == ("/v1/analyses/{job_id}", "/v1/analyses/" + "0" * 32, 404)


async def test_streamed_response_is_recorded_after_the_stream(client, app, auth, plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(
        "/v1/rag/stream", params={"question": QUESTION, "plant": plant}, headers={**auth(), "X-Request-ID": "req-sse"}
    )
    assert response.status_code == 200
    record = await only_record(app, "req-sse")
    assert (record.status, record.route, record.plant) == (200, "/v1/rag/stream", plant)


async def test_no_record_is_lost_across_100_concurrent_requests(client, app, auth, plant) -> None:  # type: ignore[no-untyped-def]
    ids = [f"req-concurrent-{i:03d}" for i in range(100)]

    async def one(i: int, cid: str) -> int:
        headers = {**auth(sub=f"user-{i % 7}"), "X-Request-ID": cid}
        response = await client.post("/v1/rag/query", json={"question": QUESTION, "plant": plant}, headers=headers)
        return response.status_code

    statuses = await asyncio.gather(*(one(i, cid) for i, cid in enumerate(ids)))
    assert set(statuses) == {200}
    found = {r.correlation_id: r for r in await records(app) if r.correlation_id.startswith("req-concurrent-")}
    assert sorted(found) == ids
    for i, cid in enumerate(ids):
        assert found[cid].user_id == f"user-{i % 7}", "a record carries another request's user"


async def test_records_queued_at_shutdown_are_written(settings, plant) -> None:  # type: ignore[no-untyped-def]
    from copilot.audit.store import AuditStore
    from copilot.core.database import create_db_engine
    from copilot.main import create_app

    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await asyncio.gather(*(client.get("/healthz", headers={"X-Request-ID": f"bye-{i}"}) for i in range(50)))
        # no flush: leaving the lifespan must drain the queue
    store = AuditStore(create_db_engine(settings.database_url))
    total, _ = store.query(AuditQuery(limit=1))
    assert total == 50
