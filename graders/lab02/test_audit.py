"""The Lab 02 assignment: one audit record per request, whatever happened to it.

Records are read back through the admin audit API (``GET /v1/audit``), which filters by
``correlation_id`` and ``user``. Every request below carries its own ``X-Request-ID`` and user, so
each check finds exactly its own records.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx

from graders.lab02 import sections
from graders.lab02.http_helpers import AuditReader, tiny_png
from graders.lab02.plant_data import PlantData
from graders.sdk import Checklist, check, fail
from graders.sdk.copilot import CopilotService

MIDDLEWARE = "src/copilot/audit/middleware.py"
AUDIT_API_FILE = "src/copilot/api/routes/audit.py"
QUESTION = "What should be checked when a hydraulic leak is found?"
CONCURRENT = 100
# GET /healthz is answered by the kit's liveness layer before the student's middleware: probe /readyz.
ECHO_PROBE = "/readyz"
HOSTILE_USER = "grader-audit-hostile"
# Users that rejected tokens claim to be: never to be recorded as the request's user.
FORGED_USER = "grader-audit-forged-claim"
EXPIRED_USER = "grader-audit-expired-claim"
FORGED_SECRET = "not-the-service-secret-" * 3
NO_RECORD = (
    "no audit record was found for {what} (X-Request-ID {cid}) a few seconds after the response; the middleware "
    "must hand one record per request to the audit writer, whatever the outcome"
)


def _one_record(audit: AuditReader, client: httpx.Client, cid: str, what: str) -> dict[str, Any]:
    records, error = audit.records(client, correlation_id=cid)
    if error:
        fail(f"the audit trail could not be read: {error}")
    if not records:
        fail(NO_RECORD.format(what=what, cid=cid), MIDDLEWARE)
    if len(records) > 1:
        fail(
            f"{len(records)} audit records for one request ({what}, X-Request-ID {cid}); expected exactly one",
            MIDDLEWARE,
        )
    return records[0]


def _field(record: dict[str, Any], name: str, expected: Any, what: str) -> tuple[bool, str]:
    value = record.get(name)
    return value == expected, f"the record of {what} has {name}={value!r}, expected {expected!r}"


@check(points=11, name="Successful requests are audited completely", section=sections.AUDIT, assignment=True)
def test_audit_success_record(
    copilot: CopilotService, audit: AuditReader, plant_data: PlantData, checklist: Checklist
) -> None:
    client = copilot.client()
    cid = "grader-lab02-success"
    equipment = plant_data.own_equipment.id
    body = {"question": QUESTION, "plant": plant_data.plant, "equipment": equipment}
    started = time.perf_counter()
    response = client.post("/v1/rag/query", json=body, headers=copilot.headers(request_id=cid, sub="grader-audit-ok"))
    wall_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        fail(f"POST /v1/rag/query failed ({response.status_code}), so its audit record cannot be checked")
    what = "POST /v1/rag/query"
    record = _one_record(audit, client, cid, what)
    for name, expected in (
        ("user_id", "grader-audit-ok"),
        ("plant", plant_data.plant),
        ("equipment_id", equipment),
        ("method", "POST"),
        ("status", 200),
    ):
        checklist.require(*_field(record, name, expected, what), MIDDLEWARE)
    checklist.require(
        "/v1/rag/query" in str(record.get("route", "")),
        f"the record's route is {record.get('route')!r}, expected the route /v1/rag/query",
        MIDDLEWARE,
    )
    latency = record.get("latency_ms")
    checklist.require(
        isinstance(latency, (int, float)) and 0 < latency <= wall_ms + 50,
        f"latency_ms={latency!r} is not plausible for a request that took {wall_ms:.0f} ms end to end",
        MIDDLEWARE,
    )
    _route_is_the_template(copilot, audit, client, checklist)
    _streamed_and_uploaded(copilot, audit, plant_data, client, checklist)


def _streamed_and_uploaded(
    copilot: CopilotService, audit: AuditReader, plant_data: PlantData, client: httpx.Client, checklist: Checklist
) -> None:
    """A streamed answer (query string) and a multipart upload (form field) are recorded like a JSON request."""
    own = plant_data.plant
    cases: list[tuple[str, str, str, Any]] = [
        (
            "GET /v1/rag/stream (a streamed answer; the plant in the query string)",
            "grader-lab02-audit-stream",
            "/v1/rag/stream",
            lambda headers: client.get("/v1/rag/stream", params={"question": QUESTION, "plant": own}, headers=headers),
        ),
        (
            "POST /v1/vision/classify (a multipart upload; the plant in a form field)",
            "grader-lab02-audit-upload",
            "/v1/vision/classify",
            lambda headers: client.post(
                "/v1/vision/classify",
                files={"image": ("panel.png", tiny_png(), "image/png")},
                data={"plant": own},
                headers=headers,
            ),
        ),
    ]
    for what, cid, route, send in cases:
        response = send(copilot.headers(request_id=cid, sub="grader-audit-ok"))
        if response.status_code != 200:
            checklist.require(False, f"{what} failed ({response.status_code}), so its record cannot be checked")
            continue
        records, error = audit.records(client, correlation_id=cid)
        if error or len(records) != 1:
            checklist.require(
                False,
                error or f"{len(records)} audit records for {what} (X-Request-ID {cid}); expected exactly one",
                MIDDLEWARE,
                weight=3,
            )
            continue
        for name, expected in (("user_id", "grader-audit-ok"), ("plant", own), ("status", 200)):
            ok, message = _field(records[0], name, expected, what)
            hint = "" if ok or name != "plant" else " (take it from the audit context the route's dependency filled in)"
            checklist.require(ok, message + hint, MIDDLEWARE)
        checklist.require(
            route in str(records[0].get("route", "")),
            f"the record of {what} has route={records[0].get('route')!r}, expected {route}",
            MIDDLEWARE,
        )


ROUTE_PROBE = "/v1/analyses/grader-no-such-job"
ROUTE_TEMPLATE = re.compile(r"^/v1/analyses/\{[A-Za-z_][A-Za-z0-9_]*\}$")


def _route_is_the_template(
    copilot: CopilotService, audit: AuditReader, client: httpx.Client, checklist: Checklist
) -> None:
    """A route with a path parameter is recorded by its template, so one operation's records group together."""
    cid = "grader-lab02-route-template"
    client.get(ROUTE_PROBE, headers=copilot.headers(request_id=cid, sub="grader-audit-ok"))
    records, error = audit.records(client, correlation_id=cid)
    if error or not records:
        checklist.require(False, error or NO_RECORD.format(what=f"GET {ROUTE_PROBE}", cid=cid), MIDDLEWARE)
        return
    route = records[0].get("route")
    checklist.require(
        isinstance(route, str) and bool(ROUTE_TEMPLATE.match(route)),
        f"the record of GET {ROUTE_PROBE} has route={route!r}; expected the route template "
        "/v1/analyses/{job_id} (the matched route's path, scope['route'].path), not the raw path, so that the "
        "records of one operation group together whatever the id",
        MIDDLEWARE,
    )


@check(points=4, name="Latency is recorded in milliseconds", section=sections.AUDIT, assignment=True)
def test_audit_latency_ms(copilot: CopilotService, audit: AuditReader) -> None:
    if not copilot.probes:
        fail("the grader's timing probe is not installed")
    client = copilot.client()
    cid = "grader-lab02-latency"
    started = time.perf_counter()
    response = client.get("/__grader__/slow", params={"ms": 250}, headers=copilot.headers(request_id=cid))
    wall_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        fail(f"the grader's 250 ms probe route answered {response.status_code}: {response.text[:200]}")
    latency = _one_record(audit, client, cid, "a request that takes 250 ms").get("latency_ms")
    if not isinstance(latency, (int, float)) or not 240 <= latency <= wall_ms + 100:
        fail(
            f"a request that took {wall_ms:.0f} ms was recorded with latency_ms={latency!r}; record the wall time "
            "in milliseconds ((time.perf_counter() - start) * 1000)",
            MIDDLEWARE,
        )


@check(points=13, name="Rejected requests (401, 403, 422) are audited", section=sections.AUDIT, assignment=True)
def test_audit_rejected_records(
    copilot: CopilotService, audit: AuditReader, plant_data: PlantData, checklist: Checklist
) -> None:
    client = copilot.client()
    own, other_item = plant_data.plant, plant_data.other_equipment
    cases: list[tuple[str, str, dict[str, Any], dict[str, str], dict[str, Any]]] = [
        (
            "an unauthenticated POST /v1/rag/query (401)",
            "grader-lab02-401",
            {"question": QUESTION, "plant": own},
            {"X-Request-ID": "grader-lab02-401"},
            {"status": 401, "user_id": None},
        ),
        (
            f"a POST /v1/rag/query for another plant's equipment {other_item.id} (403)",
            "grader-lab02-403",
            {"question": QUESTION, "plant": own, "equipment": other_item.id},
            copilot.headers(request_id="grader-lab02-403", plants=[own], sub="grader-audit-403"),
            {"status": 403, "user_id": "grader-audit-403", "plant": own, "equipment_id": other_item.id},
        ),
        (
            "a POST /v1/rag/query with a forged token (signed with another secret; 401)",
            "grader-lab02-401-forged",
            {"question": QUESTION, "plant": own},
            copilot.headers(request_id="grader-lab02-401-forged", sub=FORGED_USER, secret=FORGED_SECRET),
            {"status": 401, "user_id": None},
        ),
        (
            "a POST /v1/rag/query with an expired token (401)",
            "grader-lab02-401-expired",
            {"question": QUESTION, "plant": own},
            copilot.headers(request_id="grader-lab02-401-expired", sub=EXPIRED_USER, ttl_s=-3600),
            {"status": 401, "user_id": None},
        ),
        (
            "an invalid POST /v1/rag/query (422)",
            "grader-lab02-422",
            {"question": QUESTION, "plant": own, "top_k": 0},
            copilot.headers(request_id="grader-lab02-422", sub="grader-audit-422"),
            {"status": 422, "user_id": "grader-audit-422"},
        ),
    ]
    responses = {cid: client.post("/v1/rag/query", json=body, headers=headers) for _, cid, body, headers, _ in cases}
    found_any = False
    impostors: list[str] = []
    for what, cid, _, _, expected in cases:
        records, error = audit.records(client, correlation_id=cid)
        if error:
            fail(f"the audit trail could not be read: {error}")
        if not records:
            checklist.require(False, NO_RECORD.format(what=what, cid=cid), MIDDLEWARE, weight=len(expected))
            continue
        found_any = True
        status = responses[cid].status_code
        claimed = records[0].get("user_id")
        if status == 401 and claimed in (FORGED_USER, EXPIRED_USER):
            impostors.append(f"{what} is recorded with user_id={claimed!r}")
        for name, value in expected.items():
            if name == "status":
                value = status  # the record must say what the client got
            elif name == "user_id" and value is None and status != 401:
                continue  # the service accepted a token it should not: the authentication check says so
            checklist.require(*_field(records[0], name, value, what), MIDDLEWARE)
    if impostors:
        # A trail that names whoever a rejected token claims to be can be made to blame anyone.
        fail(
            "; ".join(impostors) + ". Record the user only from a token the service verified (signature and "
            "expiry); a rejected token's claims are the client's word, so its record has user_id null",
            MIDDLEWARE,
        )
    if not found_any:
        fail(
            "none of the rejected requests (401, 403, 422) has an audit record; " + checklist.problems[0][0], MIDDLEWARE
        )


@check(
    points=9, name="Failed requests are audited as 500, never turned into 200", section=sections.AUDIT, assignment=True
)
def test_audit_failed_records(copilot: CopilotService, audit: AuditReader, checklist: Checklist) -> None:
    if not copilot.probes:
        fail("the grader's fault probe is not installed")
    client = copilot.client()
    cid = "grader-lab02-500"
    response = client.get("/__grader__/fault", headers=copilot.headers(request_id=cid, sub="grader-audit-500"))
    records, error = audit.records(client, correlation_id=cid)
    if error:
        fail(f"the audit trail could not be read: {error}")
    if not records:
        fail(NO_RECORD.format(what="a request whose handler raised an exception", cid=cid), MIDDLEWARE)
    what = "a request whose handler raised"
    checklist.require(
        response.status_code == 500,
        f"a handler that raised must answer 500; the client got {response.status_code} (do not swallow exceptions)",
        MIDDLEWARE,
    )
    checklist.require(*_field(records[0], "status", 500, what), MIDDLEWARE)
    checklist.require(*_field(records[0], "user_id", "grader-audit-500", what), MIDDLEWARE)
    checklist.require(
        response.headers.get("x-request-id") == cid,
        f"the 500 response should still echo X-Request-ID {cid}; it carried {response.headers.get('x-request-id')!r}",
        MIDDLEWARE,
    )


@check(points=6, name="Correlation ids are echoed, generated and recorded", section=sections.AUDIT, assignment=True)
def test_audit_correlation_id(copilot: CopilotService, audit: AuditReader, checklist: Checklist) -> None:
    client = copilot.client()
    echoed = client.get(ECHO_PROBE, headers={"X-Request-ID": "grader-lab02-echo"})
    checklist.require(
        echoed.headers.get("x-request-id") == "grader-lab02-echo",
        "a request sent with X-Request-ID grader-lab02-echo should get the same X-Request-ID back; got "
        f"{echoed.headers.get('x-request-id')!r}",
        MIDDLEWARE,
    )
    first, second = client.get(ECHO_PROBE), client.get(ECHO_PROBE)
    generated = [r.headers.get("x-request-id") for r in (first, second)]
    checklist.require(
        all(generated) and generated[0] != generated[1],
        f"requests without X-Request-ID should each get a new generated id in the response; got {generated}",
        MIDDLEWARE,
    )
    if generated[0]:
        records, error = audit.records(client, correlation_id=generated[0])
        checklist.require(
            bool(records) and not error,
            f"no audit record carries the generated correlation id {generated[0]}",
            MIDDLEWARE,
        )


def _hostile(copilot: CopilotService, plant: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``(what, correlation id, request)``: requests that once erased other users' records or escaped the trail."""
    as_json = {"content-type": "application/json"}
    surrogate = b'{"question": "abc", "plant": "\\ud800"}'  # JSON's escape of a lone surrogate
    stream = {"question": QUESTION, "plant": plant}
    cases: list[tuple[str, str, dict[str, Any]]] = [
        (
            "an unauthenticated POST /v1/rag/query whose plant is a lone surrogate",
            "grader-lab02-hostile-surrogate",
            {"method": "POST", "url": "/v1/rag/query", "content": surrogate, "headers": as_json},
        ),
        (
            "a GET /healthz?plant= with 40 characters",
            "grader-lab02-hostile-long-plant",
            {"method": "GET", "url": "/healthz", "params": {"plant": "P" * 40}, "headers": {}},
        ),
        (
            # FastAPI always reads this body (and answers 400), so a middleware that parses it too sees it.
            "a POST /v1/rag/query whose JSON body is 5,000 '['",
            "grader-lab02-hostile-deep-json-post",
            {
                "method": "POST",
                "url": "/v1/rag/query",
                "content": b"[" * 5000,
                "headers": {**as_json, **copilot.headers(sub=HOSTILE_USER)},
            },
        ),
        (
            "a GET /v1/rag/stream whose JSON body is 5,000 '['",
            "grader-lab02-hostile-deep-json",
            {
                "method": "GET",
                "url": "/v1/rag/stream",
                "params": stream,
                "content": b"[" * 5000,
                "headers": {**as_json, **copilot.headers(sub=HOSTILE_USER)},
            },
        ),
    ]
    for _, cid, request in cases:
        request["headers"] = {**request["headers"], "X-Request-ID": cid}
    return cases


async def _burst(
    copilot: CopilotService, body: dict[str, Any], ids: list[str], user: str, hostile: list[dict[str, Any]]
) -> list[int]:
    async def odd(request: dict[str, Any]) -> httpx.Response:
        await asyncio.sleep(0.01)  # among the legitimate requests, not before them
        return await client.request(**request)

    async with copilot.async_client(timeout=60, connections=CONCURRENT) as client:
        responses = await asyncio.gather(
            *(
                client.post("/v1/rag/query", json=body, headers=copilot.headers(request_id=cid, sub=user))
                for cid in ids
            ),
            *(odd(request) for request in hostile),
            return_exceptions=True,
        )
    return [r.status_code if isinstance(r, httpx.Response) else 0 for r in responses[: len(ids)]]


@check(
    points=11, name="No audit record is lost across 100 concurrent requests", section=sections.AUDIT, assignment=True
)
def test_audit_concurrency(copilot: CopilotService, audit: AuditReader, plant_data: PlantData) -> None:
    """Hostile requests ride along: none may cost another request its record, none may go unrecorded."""
    user = "grader-audit-concurrent"
    ids = [f"grader-lab02-concurrent-{i:03d}" for i in range(CONCURRENT)]
    body = {"question": QUESTION, "plant": plant_data.plant}
    hostile = _hostile(copilot, plant_data.plant)
    statuses = asyncio.run(_burst(copilot, body, ids, user, [request for _, _, request in hostile]))
    failed = [s for s in statuses if s != 200]
    if failed:
        fail(f"{len(failed)} of {CONCURRENT} concurrent queries did not answer 200 (statuses {sorted(set(failed))})")
    client = copilot.client()
    records, error = audit.records(client, expect=CONCURRENT, wait_s=15, user=user)
    if error:
        fail(f"the audit trail could not be read: {error}")
    recorded = [str(r.get("correlation_id")) for r in records]
    missing = sorted(set(ids) - set(recorded))
    foreign = sorted(set(recorded) - set(ids))
    duplicated = len(recorded) - len(set(recorded))
    if missing or foreign or duplicated:
        detail = []
        if missing:
            detail.append(f"{len(missing)} lost (e.g. {missing[0]})")
        if foreign:
            detail.append(f"{len(foreign)} carry another request's correlation id (e.g. {foreign[0]})")
        if duplicated:
            detail.append(f"{duplicated} duplicated")
        fail(
            f"{CONCURRENT} concurrent requests by {user} gave {len(recorded)} audit records: {'; '.join(detail)}. "
            "Keep per-request state in the request scope (not a shared variable) and never drop a record. "
            f"Sent among them: {'; '.join(what for what, _, _ in hostile)}; a record built from a client's raw "
            "claim must never fail the database write that carries other users' records (record only well-formed "
            "plant and equipment claims, as claimed_subject does, and keep the kit's store and writer)",
            MIDDLEWARE,
        )
    for what, cid, _ in hostile:
        found, error = audit.records(client, correlation_id=cid)
        if error:
            fail(f"the audit trail could not be read: {error}")
        if len(found) != 1:
            fail(
                f"{len(found)} audit records for {what} (X-Request-ID {cid}); expected exactly one. The middleware "
                "must record a request whatever its body, headers or encoding: nothing it parses may raise past "
                "the record (catch every exception of json.loads, RecursionError included, or use claimed_subject)",
                MIDDLEWARE,
            )


@check(points=5, name="Audit API: admins only, filters and pagination", section=sections.AUDIT)
def test_audit_query_api(copilot: CopilotService, checklist: Checklist) -> None:
    client = copilot.client()
    opened = [
        f"{role}: {status}"
        for role in ("operator", "engineer", "plant_manager")
        if (status := client.get("/v1/audit", headers=copilot.headers(role=role)).status_code) != 403
    ]
    if opened:
        # The trail names every user and what they asked: reading it is the administrators' alone.
        fail(f"GET /v1/audit must be 403 for every role but admin; got {', '.join(opened)}", AUDIT_API_FILE)
    page = client.get("/v1/audit", params={"limit": 2, "offset": 0}, headers=copilot.admin_headers())
    body = page.json() if page.status_code == 200 else {}
    checklist.require(
        page.status_code == 200 and {"total", "items", "limit", "offset"} <= set(body) and len(body["items"]) <= 2,
        f"GET /v1/audit?limit=2 should answer total, limit, offset and at most 2 items; got {page.status_code} "
        f"{page.text[:160]}",
    )
    bad = client.get("/v1/audit", params={"limit": 0}, headers=copilot.admin_headers())
    checklist.require(bad.status_code == 422, f"GET /v1/audit?limit=0 should be 422; got {bad.status_code}")
