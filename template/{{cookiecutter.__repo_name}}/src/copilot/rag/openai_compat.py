"""A generator that calls an OpenAI-compatible chat-completions endpoint over HTTP.

vLLM, TGI, llama.cpp's server and hosted APIs all speak ``POST {base_url}/chat/completions``;
that is how the fine-tuned maintenance models and adapters from earlier weeks are served. The
prompt numbers the retrieved passages so the model can cite them as ``[n]``, like the extractive
generator does. Failures and timeouts become :class:`GeneratorUnavailable` (a 502 for the client).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from copilot.observability.metrics import observe_llm_usage
from copilot.rag.generation import AnswerGenerator, GeneratorUnavailable, Passage

SYSTEM_PROMPT = (
    "You are the maintenance copilot of a manufacturing plant. Answer only from the numbered passages. "
    "Cite the passages you use as [n]. If the passages do not answer the question, say so. Never guess "
    "torque values, pressures, part numbers or safety steps."
)


def build_messages(question: str, passages: Sequence[Passage]) -> list[dict[str, str]]:
    context = "\n\n".join(f"[{p.number}] {p.title} - {p.section}\n{p.text}" for p in passages)
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Passages:\n{context or '(none)'}\n\nQuestion: {question}"},
    ]


class OpenAICompatibleGenerator(AnswerGenerator):
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        max_tokens: int = 512,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self.model_version = f"openai-compatible:{model}"
        self.max_tokens = max_tokens
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            transport=transport,
        )

    def _payload(self, question: str, passages: Sequence[Passage], stream: bool) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": build_messages(question, passages),
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "stream": stream,
        }

    async def generate(self, question: str, passages: Sequence[Passage]) -> str:
        try:
            response = await self._client.post("chat/completions", json=self._payload(question, passages, False))
            response.raise_for_status()
            reply = response.json()
            content = reply["choices"][0]["message"]["content"]
            usage = reply.get("usage") or {}
            observe_llm_usage(
                model=self.model,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            )
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise GeneratorUnavailable(f"LLM backend failed: {type(exc).__name__}") from exc
        return str(content or "").strip()

    async def stream(self, question: str, passages: Sequence[Passage]) -> AsyncIterator[str]:
        payload = self._payload(question, passages, True)
        try:
            # Leaving this block (done, error or the client went away) closes the upstream stream,
            # so the model server stops generating for a reader who is no longer there.
            async with self._client.stream("POST", "chat/completions", json=payload) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise GeneratorUnavailable(f"LLM backend failed: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()
