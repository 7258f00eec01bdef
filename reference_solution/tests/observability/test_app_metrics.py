"""The Copilot's own /metrics: route templates, business and model metrics, queue depth (Lab 04)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from copilot.equipment import EquipmentRegistry

pytestmark = [pytest.mark.anyio, pytest.mark.lab("lab04")]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_requests_are_counted_by_route_template(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], plant: str, equipment: str
) -> None:
    await client.get("/healthz")
    await client.get("/v1/analyses/job-that-does-not-exist", headers=auth())
    await client.get("/no/such/route/RVB01-PRS-101")
    text = (await client.get("/metrics")).text
    routes = {dict(labels).get("route") for (name, labels) in _samples(text) if name == "copilot_http_requests_total"}
    assert {"/healthz", "/v1/analyses/{job_id}", "unmatched"} <= routes
    assert not [r for r in routes if r and ("job-that-does-not-exist" in r or "RVB01-PRS-101" in r)]


async def test_answers_feed_business_and_model_metrics(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    plant: str,
    equipment: str,
    registry: EquipmentRegistry,
) -> None:
    line = registry.get(equipment).line  # type: ignore[union-attr]
    before = _samples((await client.get("/metrics")).text)
    key = ("copilot_questions_answered_total", (("line", line),))
    body = {"question": "How is a hydraulic leak located?", "plant": plant, "equipment": equipment}
    response = await client.post("/v1/rag/query", json=body, headers=auth())
    assert response.status_code == 200
    after = _samples((await client.get("/metrics")).text)
    assert after[key] == before.get(key, 0.0) + 1
    assert after[("copilot_rag_groundedness_count", ())] == before[("copilot_rag_groundedness_count", ())] + 1
    assert any(n == "copilot_model_info" and dict(lb).get("component") == "rag" for n, lb in after)


async def test_queue_depth_counts_jobs_waiting_for_a_worker(client: httpx.AsyncClient) -> None:
    text = (await client.get("/metrics")).text
    assert 'copilot_queue_depth{queue="analysis"}' in text
