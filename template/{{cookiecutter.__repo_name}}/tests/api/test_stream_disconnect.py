"""A client that goes away stops the streaming work (no tokens generated for nobody)."""

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from copilot.rag.generation import AnswerGenerator, Passage

pytestmark = [pytest.mark.anyio, pytest.mark.lab("lab02")]


class EndlessGenerator(AnswerGenerator):
    """Streams a token every few milliseconds until cancelled, recording what happened."""

    model_version = "endless-test"

    def __init__(self) -> None:
        self.produced = 0
        self.closed = False

    async def generate(self, question: str, passages: Sequence[Passage]) -> str:
        return "never"

    async def stream(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        try:
            while True:
                self.produced += 1
                yield "token "
                await asyncio.sleep(0.005)
        finally:
            self.closed = True


async def test_disconnect_cancels_the_stream(app, token, plant) -> None:  # type: ignore[no-untyped-def]
    generator = EndlessGenerator()
    app.state.services.pipeline.generator = generator
    body_chunks: list[bytes] = []
    disconnect = asyncio.Event()
    requested = False

    async def receive() -> dict:  # type: ignore[type-arg]
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:  # type: ignore[type-arg]
        if message["type"] == "http.response.body" and message.get("body"):
            body_chunks.append(message["body"])
            if sum(b.count(b"event: token") for b in body_chunks) >= 3:
                disconnect.set()  # the reader saw a few tokens and closed the tab

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/rag/stream",
        "raw_path": b"/v1/rag/stream",
        "root_path": "",
        "query_string": f"question=hydraulic+leak&plant={plant}".encode(),
        "headers": [(b"host", b"copilot.test"), (b"authorization", f"Bearer {token()}".encode())],
        "client": ("127.0.0.1", 1234),
        "server": ("copilot.test", 80),
        "state": {},
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    assert generator.closed, "the token generator was not closed after the client disconnected"
    produced = generator.produced
    await asyncio.sleep(0.05)
    assert generator.produced == produced, "tokens were still generated after the disconnect"
    assert produced < 50
