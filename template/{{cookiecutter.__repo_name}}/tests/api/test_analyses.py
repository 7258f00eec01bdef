"""Analysis jobs over the API: 202, polling, roles and plant scoping."""

import asyncio

import pytest

pytestmark = pytest.mark.anyio


async def wait_finished(client, url: str, headers: dict[str, str]) -> dict:  # type: ignore[no-untyped-def,type-arg]
    for _ in range(200):
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        if response.json()["status"] in ("succeeded", "failed"):
            return response.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)
    raise AssertionError("the analysis did not finish")


async def test_accepted_then_succeeds_with_a_result(client, auth, plant, equipment) -> None:  # type: ignore[no-untyped-def]
    headers = auth(role="engineer", sub="eng-1")
    response = await client.post("/v1/analyses", json={"plant": plant, "equipment": equipment}, headers=headers)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued" and response.headers["location"] == accepted["status_url"]
    job = await wait_finished(client, accepted["status_url"], headers)
    assert job["status"] == "succeeded", job
    assert (job["plant"], job["equipment"], job["requested_by"]) == (plant, equipment, "eng-1")
    result = job["result"]
    assert result["equipment"]["id"] == equipment
    assert result["documents"]["total"] >= 1 and result["timeline"]
    assert result["summary"]["answer"] and result["summary"]["citations"]


async def test_operators_may_not_start_analyses(client, auth, plant) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/v1/analyses", json={"plant": plant}, headers=auth(role="operator"))
    assert response.status_code == 403
    assert response.json() == {"detail": "Role not permitted"}


async def test_jobs_of_other_plants_are_not_found(client, auth, plant, other_plant) -> None:  # type: ignore[no-untyped-def]
    both = auth(role="plant_manager", plants=[plant, other_plant])
    response = await client.post("/v1/analyses", json={"plant": other_plant}, headers=both)
    assert response.status_code == 202
    url = response.json()["status_url"]
    assert (await client.get(url, headers=both)).status_code == 200
    hidden = await client.get(url, headers=auth(plants=[plant]))
    assert hidden.status_code == 404 and hidden.json() == {"detail": "Analysis not found"}


async def test_malformed_job_id_is_422(client, auth) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/v1/analyses/not-an-id", headers=auth())
    assert response.status_code == 422
