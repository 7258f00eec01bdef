"""The metrics middleware and /metrics on a plain Starlette app (no Copilot service needed)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from copilot.observability import metrics

SRC = Path(__file__).resolve().parents[2] / "src"
pytestmark = pytest.mark.lab("lab04")


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _requests(route: str, method: str, status: str) -> float:
    return _sample("copilot_http_requests_total", route=route, method=method, status=status)


async def _item(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["item_id"]})


async def _boom(_: Request) -> Response:
    raise RuntimeError("model crashed")


async def _stream(_: Request) -> Response:
    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(3):
            yield f"data: {i}\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream")


async def _thing(request: Request) -> Response:
    return PlainTextResponse(request.path_params["thing_id"])


class RejectSecret:
    """Answers 401 before routing, like an auth middleware would."""

    def __init__(self, app):  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"].startswith("/secret"):
            await PlainTextResponse("no", status_code=401)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _secret(_: Request) -> Response:
    return PlainTextResponse("never reached")


def make_app(queue_depths=None) -> Starlette:  # type: ignore[no-untyped-def]
    app = Starlette(
        routes=[
            Route("/items/{item_id}", _item),
            Route("/boom", _boom),
            Route("/rag/stream", _stream),
            Route("/secret/{key}", _secret),
            Mount("/sub", routes=[Route("/things/{thing_id}", _thing)]),
        ]
    )
    app.add_middleware(RejectSecret)
    metrics.instrument(app, version="9.9.9", commit="abc1234", queue_depths=queue_depths)
    return app


@pytest.fixture
def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=make_app(lambda: {"analysis": 7}), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://copilot.test")


@pytest.mark.anyio
async def test_requests_are_labelled_by_route_template_not_raw_path(client: httpx.AsyncClient) -> None:
    before = _requests("/items/{item_id}", "GET", "200")
    for item in ("RVB01-PRS-101", "RVB01-PRS-102", "anything"):
        assert (await client.get(f"/items/{item}")).status_code == 200
    assert _requests("/items/{item_id}", "GET", "200") == before + 3
    text = (await client.get("/metrics")).text
    assert "RVB01-PRS-101" not in text and "anything" not in text


@pytest.mark.anyio
async def test_unmatched_paths_share_one_label_value(client: httpx.AsyncClient) -> None:
    before = _requests(metrics.UNMATCHED_ROUTE, "GET", "404")
    await client.get("/wp-admin/setup.php")
    await client.get("/.env")
    assert _requests(metrics.UNMATCHED_ROUTE, "GET", "404") == before + 2


@pytest.mark.anyio
async def test_exception_counts_as_500_and_in_flight_returns_to_zero(client: httpx.AsyncClient) -> None:
    before = _requests("/boom", "GET", "500")
    assert (await client.get("/boom")).status_code == 500
    assert _requests("/boom", "GET", "500") == before + 1
    assert _sample("copilot_http_requests_in_flight") == 0


@pytest.mark.anyio
async def test_in_flight_counts_a_request_until_its_response_ends() -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(_: Request) -> Response:
        entered.set()
        await release.wait()
        return PlainTextResponse("done")

    app = Starlette(routes=[Route("/slow", slow)])
    metrics.instrument(app, version="9.9.9", commit="abc1234")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://copilot.test") as client:
        before = _sample("copilot_http_requests_in_flight")
        pending = asyncio.create_task(client.get("/slow"))
        with anyio.fail_after(10):
            await entered.wait()
        assert _sample("copilot_http_requests_in_flight") == before + 1
        release.set()
        assert (await pending).status_code == 200
    assert _sample("copilot_http_requests_in_flight") == before


@pytest.mark.anyio
async def test_mounted_routes_keep_their_prefix(client: httpx.AsyncClient) -> None:
    before = _requests("/sub/things/{thing_id}", "GET", "200")
    await client.get("/sub/things/42")
    assert _requests("/sub/things/{thing_id}", "GET", "200") == before + 1


@pytest.mark.anyio
async def test_requests_rejected_before_routing_still_get_the_template(client: httpx.AsyncClient) -> None:
    before = _requests("/secret/{key}", "GET", "401")
    assert (await client.get("/secret/hunter2")).status_code == 401
    assert _requests("/secret/{key}", "GET", "401") == before + 1


@pytest.mark.anyio
async def test_streaming_response_is_timed_to_its_end(client: httpx.AsyncClient) -> None:
    labels = {"route": "/rag/stream", "method": "GET"}
    before = _sample("copilot_http_request_duration_seconds_count", **labels)
    response = await client.get("/rag/stream")
    assert response.text.count("data:") == 3
    assert _sample("copilot_http_request_duration_seconds_count", **labels) == before + 1


@pytest.mark.anyio
async def test_unknown_methods_are_bounded(client: httpx.AsyncClient) -> None:
    before = _requests("/items/{item_id}", "other", "405")
    await client.request("PROPFIND", "/items/1")
    assert _requests("/items/{item_id}", "other", "405") == before + 1


@pytest.mark.anyio
async def test_metrics_endpoint_serves_every_family_and_is_not_counted(client: httpx.AsyncClient) -> None:
    before = _requests("/metrics", "GET", "200")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for family in (
        "copilot_http_requests_total",
        "copilot_http_request_duration_seconds",
        "copilot_http_requests_in_flight",
        "copilot_build_info",
        "copilot_model_info",
        "copilot_queue_depth",
        "copilot_questions_answered_total",
        "copilot_rag_groundedness",
        "copilot_rag_retrievals_total",
        "copilot_vision_confidence",
        "copilot_model_drift_score",
        "copilot_llm_tokens_total",
        "copilot_gpu_seconds_total",
        "copilot_inference_cost_usd_total",
    ):
        assert f"# TYPE {family} " in response.text, family
    assert 'copilot_queue_depth{queue="analysis"} 7.0' in response.text
    assert 'version="9.9.9"' in response.text
    assert _requests("/metrics", "GET", "200") == before


@pytest.mark.anyio
async def test_a_broken_queue_backend_does_not_break_the_scrape() -> None:
    def broken() -> dict[str, int]:
        raise ConnectionError("redis is down")

    transport = httpx.ASGITransport(app=make_app(broken))
    async with httpx.AsyncClient(transport=transport, base_url="http://copilot.test") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert "copilot_http_requests_total" in response.text


def test_business_helpers_bound_the_line_label() -> None:
    before_known = _sample("copilot_questions_answered_total", line="press-1")
    before_other = _sample("copilot_questions_answered_total", line="other")
    metrics.observe_rag_answer(line="press-1", groundedness=0.9, retrieval_hit=True, minutes_saved=12)
    metrics.observe_rag_answer(line="Press 1; DROP TABLE", groundedness=0.4, retrieval_hit=False)
    assert _sample("copilot_questions_answered_total", line="press-1") == before_known + 1
    assert _sample("copilot_questions_answered_total", line="other") == before_other + 1
    assert metrics.line_label(None) == "unspecified"
    for i in range(metrics.MAX_LINES + 5):  # free text cannot create unbounded series
        metrics.line_label(f"line-{i}")
    assert metrics.line_label("one-more-line") == "other"


def test_cost_helpers_count_tokens_and_only_gpu_time() -> None:
    before_gpu = _sample("copilot_gpu_seconds_total", component="vision")
    before_tokens = _sample("copilot_llm_tokens_total", model="tiny", kind="completion")
    metrics.observe_inference(component="vision", seconds=0.5, on_gpu=True, cost_usd=0.001)
    metrics.observe_inference(component="vision", seconds=2.0, on_gpu=False)
    metrics.observe_llm_usage(model="tiny", prompt_tokens=100, completion_tokens=20, cost_usd=0.002)
    assert _sample("copilot_gpu_seconds_total", component="vision") == pytest.approx(before_gpu + 0.5)
    assert _sample("copilot_llm_tokens_total", model="tiny", kind="completion") == before_tokens + 20


def test_drift_is_low_for_a_stable_stream_and_high_for_a_shifted_one() -> None:
    import random

    rng = random.Random(7)
    stable = metrics.ConfidenceDrift("test-stable", window=200)
    shifted = metrics.ConfidenceDrift("test-shifted", window=200)
    for _ in range(200):  # the baseline: confident predictions
        score = min(rng.gauss(0.85, 0.05), 1.0)
        stable.observe(score)
        shifted.observe(score)
    for _ in range(200):
        stable.observe(min(rng.gauss(0.85, 0.05), 1.0))
        shifted.observe(min(max(rng.gauss(0.55, 0.1), 0.0), 1.0))  # new lighting: the model hesitates
    assert stable.score is not None and stable.score < 0.1
    assert shifted.score is not None and shifted.score > 0.25
    assert _sample("copilot_model_drift_score", component="test-shifted") == pytest.approx(shifted.score)


def test_multiprocess_mode_aggregates_every_worker(tmp_path: Path) -> None:
    """Two worker processes count requests; a third (the scrape) sees the sum."""
    worker = textwrap.dedent(
        """
        from copilot.observability import metrics
        metrics.HTTP_REQUESTS.labels("/healthz", "GET", "200").inc(3)
        metrics.HTTP_IN_FLIGHT.inc()
        """
    )
    scrape = "from copilot.observability import metrics; print(metrics.render_metrics().decode())"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, check=True, timeout=60)
    out = subprocess.run(
        [sys.executable, "-c", scrape], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    assert 'copilot_http_requests_total{method="GET",route="/healthz",status="200"} 6.0' in out
    assert "copilot_http_requests_in_flight 2.0" in out  # a live sum over the worker processes
