"""The OpenAI-compatible connector against a local stand-in server (real HTTP, real SSE)."""

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from copilot.rag.generation import GeneratorUnavailable, Passage
from copilot.rag.openai_compat import OpenAICompatibleGenerator

pytestmark = pytest.mark.anyio
PASSAGES = [Passage(1, "man-a", "Manual A", "Alarms", "SV-320 trips when the DC bus exceeds 820 V.", 9.0)]


class StandIn:
    """An OpenAI-compatible chat-completions server with scriptable behaviour."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.mode = "ok"
        self.stream_cancelled = threading.Event()
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self.completions)

    async def completions(self, request: Request) -> Any:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if self.mode == "error":
            return JSONResponse({"error": {"message": "model not loaded"}}, status_code=503)
        if self.mode == "garbage":
            return JSONResponse({"unexpected": True})
        words = ["SV-320 ", "means ", "DC ", "bus ", "overvoltage ", "[1]."]
        if not body.get("stream"):
            return {"choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(words)}}]}

        async def events() -> AsyncIterator[bytes]:
            try:
                for word in words if self.mode == "ok" else words * 1000:
                    chunk = {"choices": [{"index": 0, "delta": {"content": word}}]}
                    yield f"data: {json.dumps(chunk)}\n\n".encode()
                    await asyncio.sleep(0.01 if self.mode == "slow" else 0)
                yield b"data: [DONE]\n\n"
            except asyncio.CancelledError:
                self.stream_cancelled.set()
                raise

        return StreamingResponse(events(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def stand_in() -> Iterator[tuple[StandIn, str]]:
    server_app = StandIn()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(server_app.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield server_app, f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def server(stand_in: tuple[StandIn, str]) -> tuple[StandIn, str]:
    app, url = stand_in
    app.mode = "ok"
    app.requests.clear()
    app.headers.clear()
    app.stream_cancelled.clear()
    return app, url


async def test_generate_sends_numbered_passages_and_returns_content(server) -> None:  # type: ignore[no-untyped-def]
    app, url = server
    generator = OpenAICompatibleGenerator(url, "copilot-maintenance-lora", api_key="sk-test")
    try:
        answer = await generator.generate("What is SV-320?", PASSAGES)
    finally:
        await generator.aclose()
    assert answer == "SV-320 means DC bus overvoltage [1]."
    sent = app.requests[0]
    assert sent["model"] == "copilot-maintenance-lora" and sent["temperature"] == 0 and sent["stream"] is False
    assert "[1] Manual A - Alarms" in sent["messages"][1]["content"]
    assert app.headers[0]["authorization"] == "Bearer sk-test"
    assert generator.model_version == "openai-compatible:copilot-maintenance-lora"


async def test_stream_yields_deltas(server) -> None:  # type: ignore[no-untyped-def]
    _, url = server
    generator = OpenAICompatibleGenerator(url, "m")
    try:
        pieces = [p async for p in generator.stream("What is SV-320?", PASSAGES)]
    finally:
        await generator.aclose()
    assert len(pieces) == 6 and "".join(pieces) == "SV-320 means DC bus overvoltage [1]."


@pytest.mark.parametrize("mode", ["error", "garbage"])
async def test_backend_failures_become_generator_unavailable(server, mode: str) -> None:  # type: ignore[no-untyped-def]
    app, url = server
    app.mode = mode
    generator = OpenAICompatibleGenerator(url, "m")
    try:
        with pytest.raises(GeneratorUnavailable):
            await generator.generate("q?", PASSAGES)
    finally:
        await generator.aclose()


async def test_unreachable_backend_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    generator = OpenAICompatibleGenerator(f"http://127.0.0.1:{port}/v1", "m", timeout_s=2)
    try:
        with pytest.raises(GeneratorUnavailable):
            await generator.generate("q?", PASSAGES)
        with pytest.raises(GeneratorUnavailable):
            [p async for p in generator.stream("q?", PASSAGES)]
    finally:
        await generator.aclose()


async def test_leaving_the_stream_closes_the_upstream_request(server) -> None:  # type: ignore[no-untyped-def]
    app, url = server
    app.mode = "slow"
    generator = OpenAICompatibleGenerator(url, "m")
    try:
        stream = generator.stream("q?", PASSAGES)
        received = [await stream.__anext__() for _ in range(3)]
        await stream.aclose()  # what cancelling the SSE response does
        assert len(received) == 3
        await asyncio.to_thread(app.stream_cancelled.wait, 5)
        assert app.stream_cancelled.is_set(), "the model server kept generating for a reader who left"
    finally:
        await generator.aclose()


async def test_the_service_answers_through_the_connector(server, settings) -> None:  # type: ignore[no-untyped-def]
    from copilot.main import create_app
    from copilot.security.tokens import mint_token
    from tests.conftest import TEST_JWT_SECRET

    _, url = server
    app = create_app(settings.model_copy(update={"llm_base_url": url, "llm_model": "m"}))
    async with app.router.lifespan_context(app):
        code = app.state.services.profile.plant.code
        token = mint_token(TEST_JWT_SECRET, "u", "engineer", [code])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            response = await client.post(
                "/v1/rag/query",
                json={"question": "What is alarm SV-320?", "plant": code},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.status_code == 200, response.text
    assert response.json()["model_version"] == "openai-compatible:m"
    assert response.json()["answer"] == "SV-320 means DC bus overvoltage [1]."


async def test_the_service_answers_502_when_the_backend_fails(server, settings) -> None:  # type: ignore[no-untyped-def]
    from copilot.main import create_app
    from copilot.security.tokens import mint_token
    from tests.conftest import TEST_JWT_SECRET

    app_stand_in, url = server
    app_stand_in.mode = "error"
    app = create_app(settings.model_copy(update={"llm_base_url": url}))
    async with app.router.lifespan_context(app):
        code = app.state.services.profile.plant.code
        token = mint_token(TEST_JWT_SECRET, "u", "engineer", [code])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            response = await client.post(
                "/v1/rag/query",
                json={"question": "What is alarm SV-320?", "plant": code},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert response.status_code == 502
    assert response.json() == {"detail": "LLM backend unavailable"}
